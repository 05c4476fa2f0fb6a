// The typed client in one screen: create a customer, let them write (the sandbox plays WhatsApp),
// reply, and watch the reply's status go to read. Run it against a server on the sandbox channel:
//
//   OPENMUMBLE_URL=http://127.0.0.1:3000 OPENMUMBLE_API_KEY=om_live_… npx tsx examples/quickstart.ts
import { createClient, OpenMumbleError } from '@openmumble/client';

const client = createClient({ baseUrl: process.env.OPENMUMBLE_URL ?? 'http://127.0.0.1:3000', apiKey: process.env.OPENMUMBLE_API_KEY ?? '' });
const phone = process.env.CUSTOMER_PHONE ?? '972501234567';

await client.customers.add({ customer_phone: phone, name: 'Dana' }).catch((error: unknown) => {
  // Already a customer from an earlier run: fine.
  if (!(error instanceof OpenMumbleError && error.status === 409)) throw error;
});
await client.sandbox.receiveMessage({ customer_phone: phone, text: 'Hi, is my order on its way?' });
console.log('window open:', (await client.conversations.isActive({ customer_phone: phone })).is_active);

const sent = await client.messages.sendText({ customer_phone: phone, text: 'Yes! It arrives tomorrow.' });
console.log('sent message', sent.id);

for (let i = 0; i < 100; i++) {
  const { message } = await client.messages.get({ message_wa_id: sent.message_wa_id! });
  console.log('status:', message.status);
  if (message.status === 'read') break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const { messages } = await client.conversations.get({ customer_phone: phone });
console.log(`the conversation has ${messages.length} messages`);
