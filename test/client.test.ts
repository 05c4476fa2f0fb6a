import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, OpenMumbleError, verifyWebhook, WebhookVerificationError, type OpenMumbleClient } from '@openmumble/client';
import { describeEachDatabase } from './helpers.js';
import { ROOT, type ServerProcess } from './processes.js';
import { startServerWithReceiver, type ServerWithReceiver } from './server-with-receiver.js';
import type { Receiver } from './webhooks-receiver.js';

/** The typed client (packages/client) against a real server process, on each database. */
const API_KEY = `om_live_${'typedclienttest'.repeat(3)}`;

describeEachDatabase('@openmumble/client against the server', (kind) => {
  let started: ServerWithReceiver;
  let server: ServerProcess;
  let client: OpenMumbleClient;
  let receiver: Receiver;

  beforeAll(async () => {
    started = await startServerWithReceiver(kind, { OPENMUMBLE_API_KEY: API_KEY, SANDBOX_STATUS_DELAY_MS: '20' });
    ({ server, receiver } = started);
    client = createClient({ baseUrl: server.url, apiKey: API_KEY, retry: { baseDelayMs: 10 } });
  }, 120_000);

  afterAll(async () => {
    await started?.stop();
  });

  it('creates a customer, hears them write, replies and reads the reply as read', async () => {
    const phone = '972501110001';
    expect(await client.customers.add({ customer_phone: phone, name: 'Dana' })).toEqual({ success: true, message: expect.any(String) });
    await client.sandbox.receiveMessage({ customer_phone: phone, text: 'Hi there' });
    expect((await client.conversations.isActive({ customer_phone: phone })).is_active).toBe(true);
    const sent = await client.messages.sendText({ customer_phone: phone, text: 'Hello Dana' });
    expect(sent.id).toBeGreaterThan(0);
    let status = '';
    for (let i = 0; i < 200 && status !== 'read'; i++) {
      status = (await client.messages.get({ message_wa_id: sent.message_wa_id! })).message.status;
      if (status !== 'read') await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(status).toBe('read');
    const { messages } = await client.conversations.get({ customer_phone: phone });
    expect(messages.map((message) => message.text)).toEqual(['Hello Dana', 'Hi there']);
    expect((await client.customers.get({ customer_phone: phone })).customer.name).toBe('Dana');
  });

  it("throws OpenMumbleError with the status and the envelope's message", async () => {
    const error = await client.customers.get({ customer_phone: '972509999999' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenMumbleError);
    expect(error).toMatchObject({ status: 404, message: 'Customer not found' });
    const unauthorized = await createClient({ baseUrl: server.url, apiKey: 'om_live_wrong' }).labels.list().catch((caught: unknown) => caught);
    expect(unauthorized).toMatchObject({ status: 401, message: 'Unauthorized' });
  });

  it('makes writes idempotent: the same key replays the first reply instead of doing it again', async () => {
    const phone = '972501110002';
    await client.customers.add({ customer_phone: phone });
    await client.sandbox.receiveMessage({ customer_phone: phone, text: 'hello' });
    const first = await client.messages.sendText({ customer_phone: phone, text: 'once' }, { idempotencyKey: 'send-once-1' });
    const again = await client.messages.sendText({ customer_phone: phone, text: 'once' }, { idempotencyKey: 'send-once-1' });
    expect(again).toEqual(first);
    const { messages } = await client.conversations.get({ customer_phone: phone });
    expect(messages.filter((message) => message.text === 'once')).toHaveLength(1);
  });

  it('uploads media as multipart', async () => {
    const phone = '972501110003';
    await client.customers.add({ customer_phone: phone });
    await client.sandbox.receiveMessage({ customer_phone: phone, text: 'send me the invoice' });
    const pdf = new Blob([Buffer.from('%PDF-1.4\n%\u00e2\u00e3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')], { type: 'application/pdf' });
    const sent = await client.messages.sendMedia({ customer_phone: phone, caption: 'Invoice', file: pdf, filename: 'invoice.pdf' });
    const { message } = await client.messages.get({ message_wa_id: sent.message_wa_id! });
    expect(message).toMatchObject({ type: 'document', is_pdf: true, filename: 'invoice.pdf', text: 'Invoice' });
  });

  it('verifies the signature of a delivered webhook with the Standard Webhooks library', async () => {
    const added = await client.webhooks.add({ url: `${receiver.url}/hook`, events: ['customer.created'] });
    const secret = (added as { webhook: { secret: string } }).webhook.secret;
    await client.customers.add({ customer_phone: '972501110004', name: 'Signed' });
    await receiver.waitFor(1);
    const delivery = receiver.received[0]!;
    const event = verifyWebhook(secret, delivery.body, delivery.headers as Record<string, string>);
    expect(event).toMatchObject({ type: 'customer.created', data: { phone: '972501110004', name: 'Signed' } });
    expect(() => verifyWebhook(secret, delivery.body.replace('Signed', 'Forged'), delivery.headers as Record<string, string>)).toThrow(WebhookVerificationError);
  });

  it('runs examples/quickstart.ts', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, OPENMUMBLE_URL: server.url, OPENMUMBLE_API_KEY: API_KEY, CUSTOMER_PHONE: '972501110005' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/window open: true/);
    expect(run.stdout).toMatch(/status: read/);
    expect(run.stdout).toMatch(/the conversation has 2 messages/);
  });
});
