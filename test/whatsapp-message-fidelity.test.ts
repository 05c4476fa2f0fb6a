/**
 * What an agent needs of an inbound message, replayed as the Cloud API delivers it (signed webhook →
 * stored → job → ingest): reactions replaced and taken back, shared contacts with their numbers,
 * orders with their items, a customer's new number, and senders WhatsApp names by user id only.
 */
import { describe, expect, it } from 'vitest';
import { api, customerOf, nextPhone } from './api.js';
import { setUpCloudApiSuite, type CloudApiFixture } from './cloud-api-fixture.js';
import { messagesDelivery, newWamid } from './graph-simulator.js';
import { describeEachDatabase } from './helpers.js';
import { conversationOf } from './messaging.js';

/** Who writes: a number, a business-scoped user id (BSUID), or both, as the webhook's `messages[]` and `contacts[]` name them. */
interface Sender {
  phone?: string;
  userId?: string;
  name?: string;
  username?: string;
}

let bsuidCounter = 0;
const nextUserId = () => `US.${1_000_000_000 + ++bsuidCounter}${Date.now() % 100_000}`;

describeEachDatabase('WhatsApp message fidelity', (kind) => {
  let f: CloudApiFixture;
  setUpCloudApiSuite(kind, { fixture: (value) => (f = value) });

  const db = () => f.ctx.deps.database.db;
  const now = () => Math.floor(f.ctx.clock.now().getTime() / 1000);

  /** The delivery Meta makes for one message of `sender`; returns its wamid. */
  async function receive(sender: Sender, message: Record<string, unknown>, options: { wamid?: string; timestamp?: number } = {}): Promise<string> {
    const wamid = options.wamid ?? newWamid();
    const profile = { ...(sender.name && { name: sender.name }), ...(sender.username && { username: sender.username }) };
    const payload = messagesDelivery(f.ids, {
      contacts: [{ profile, ...(sender.phone && { wa_id: sender.phone }), ...(sender.userId && { user_id: sender.userId }) }],
      messages: [
        {
          ...(sender.phone && { from: sender.phone }),
          ...(sender.userId && { from_user_id: sender.userId }),
          id: wamid,
          timestamp: String(options.timestamp ?? now()),
          ...message,
        },
      ],
    });
    await f.deliver(payload);
    return wamid;
  }

  const react = (phone: string, target: string, emoji: string, timestamp: number, wamid?: string) =>
    receive({ phone, name: 'Reacting' }, { type: 'reaction', reaction: { message_id: target, emoji } }, { timestamp, wamid });

  /** The customer's stored messages, oldest first, with their structured content. */
  const storedMessages = (customerId: string) =>
    db().selectFrom('messages').select(['message_wa_id', 'type', 'text', 'content']).where('customer_id', '=', customerId).orderBy('created_at').orderBy('id').execute();

  const conversation = async (phone: string) => (await conversationOf(f.ctx, phone)).messages as Array<Record<string, any>>;
  const customerRowByPhone = (phone: string) => db().selectFrom('customers').selectAll().where('account_id', '=', f.ctx.accountId).where('phone', '=', phone).executeTakeFirst();

  describe('reactions', () => {
    it("a new reaction replaces the customer's earlier one on that message; other messages keep theirs", async () => {
      const phone = nextPhone();
      const t = now();
      await receive({ phone, name: 'Reacting' }, { type: 'text', text: { body: 'hello' } }, { timestamp: t });
      await react(phone, 'wamid.ONE', '👍', t + 1);
      await react(phone, 'wamid.TWO', '😂', t + 2);
      const heart = await react(phone, 'wamid.ONE', '❤️', t + 3);

      const listed = (await conversation(phone)).reverse();
      expect(listed.map((m) => [m.type, m.text])).toEqual([
        ['text', 'hello'],
        ['reaction', '😂'],
        ['reaction', '❤️'],
      ]);
      expect(listed[2].message_wa_id).toBe(heart);
      const customer = await customerOf(f.ctx.call, phone);
      const stored = await storedMessages(customer.id);
      expect(stored.filter((m) => m.type === 'reaction').map((m) => JSON.parse(m.content!))).toEqual([
        { reaction: { message_wa_id: 'wamid.TWO', emoji: '😂' } },
        { reaction: { message_wa_id: 'wamid.ONE', emoji: '❤️' } },
      ]);
      // get-conversation's shape is the contract's: the content stays out of it.
      expect(Object.keys(listed[2])).not.toContain('content');
    });

    it('an empty emoji takes the reaction back: the earlier one is gone and nothing empty appears', async () => {
      const phone = nextPhone();
      const t = now();
      await receive({ phone, name: 'Reacting' }, { type: 'text', text: { body: 'hello' } }, { timestamp: t });
      const thumbs = await react(phone, 'wamid.OUT', '👍', t + 1);
      const customer = await customerOf(f.ctx.call, phone);
      const removal = await react(phone, 'wamid.OUT', '', t + 2);

      const conversationNow = await conversationOf(f.ctx, phone);
      expect(conversationNow.total).toBe(1);
      expect(conversationNow.messages.map((m: Record<string, any>) => m.text)).toEqual(['hello']);
      expect(await storedMessages(customer.id)).toHaveLength(1);
      expect((await f.ctx.call('GET', api('get-message'), { message_wa_id: thumbs })).statusCode).toBe(404);
      expect((await f.ctx.call('GET', api('get-message'), { message_wa_id: removal })).statusCode).toBe(404);
      // The inbox hears that the reaction went.
      const deleted = await db().selectFrom('live_events').select('payload').where('type', '=', 'message.deleted').where('customer_id', '=', customer.id).execute();
      expect(deleted.map((row) => JSON.parse(row.payload))).toEqual([expect.objectContaining({ customer_id: customer.id, message_wa_id: thumbs })]);

      // Taking back what is not there changes nothing; a new reaction afterwards is kept.
      await react(phone, 'wamid.OUT', '', t + 3);
      await react(phone, 'wamid.OUT', '🙏', t + 4);
      expect((await conversation(phone)).map((m) => m.text)).toEqual(['🙏', 'hello']);
    });

    it('an older reaction delivered late, or the same one delivered again, never replaces a newer one', async () => {
      const phone = nextPhone();
      const t = now();
      const newer = await react(phone, 'wamid.OUT', '🔥', t + 10);
      await react(phone, 'wamid.OUT', '👍', t + 5);
      await react(phone, 'wamid.OUT', '', t + 6);
      await react(phone, 'wamid.OUT', '🔥', t + 10, newer);
      const listed = await conversation(phone);
      expect(listed.map((m) => [m.message_wa_id, m.text])).toEqual([[newer, '🔥']]);
    });
  });

  describe('structured content', () => {
    it('shared contacts keep their phone numbers, orders their items, a location its place', async () => {
      const phone = nextPhone();
      await receive({ phone, name: 'Structured' }, {
        type: 'contacts',
        contacts: [
          {
            name: { formatted_name: 'Avi Cohen', first_name: 'Avi' },
            phones: [{ phone: '+972 50 000 0000', wa_id: '972500000000', type: 'CELL' }, { phone: '+972 3 000 0000', type: 'WORK' }],
            emails: [{ email: 'avi@example.com', type: 'WORK' }],
          },
        ],
      });
      await receive({ phone, name: 'Structured' }, {
        type: 'order',
        order: {
          catalog_id: '1537228210123456',
          text: 'For Friday',
          product_items: [
            { product_retailer_id: 'SKU-1', quantity: 2, item_price: 12.5, currency: 'ILS' },
            { product_retailer_id: 'SKU-2', quantity: 1, item_price: 40, currency: 'ILS' },
          ],
        },
      });
      await receive({ phone, name: 'Structured' }, { type: 'location', location: { latitude: 32.08, longitude: 34.78, name: 'Office', address: 'Rothschild 1' } });
      await receive({ phone, name: 'Structured' }, { type: 'text', text: { body: 'plain' } });

      const customer = await customerOf(f.ctx.call, phone);
      const stored = await storedMessages(customer.id);
      expect(stored.map((m) => [m.type, m.text, m.content && JSON.parse(m.content)])).toEqual([
        [
          'contacts',
          'Avi Cohen',
          {
            contacts: [
              {
                name: 'Avi Cohen',
                phones: [{ phone: '+972 50 000 0000', wa_id: '972500000000', type: 'CELL' }, { phone: '+972 3 000 0000', type: 'WORK' }],
                emails: ['avi@example.com'],
              },
            ],
          },
        ],
        [
          'order',
          'For Friday',
          {
            order: {
              catalog_id: '1537228210123456',
              text: 'For Friday',
              items: [
                { product_retailer_id: 'SKU-1', quantity: 2, item_price: 12.5, currency: 'ILS' },
                { product_retailer_id: 'SKU-2', quantity: 1, item_price: 40, currency: 'ILS' },
              ],
            },
          },
        ],
        ['location', 'Office, Rothschild 1', { location: { latitude: 32.08, longitude: 34.78, name: 'Office', address: 'Rothschild 1' } }],
        ['text', 'plain', null],
      ]);
    });
  });

  describe('a customer changes their number (user_changed_number)', () => {
    const changed = (from: string, to: string) => ({
      type: 'system',
      system: { body: `User Moving changed from ${from} to ${to}`, wa_id: to, type: 'user_changed_number' },
    });

    const customerUpdates = async (customerId: string) =>
      (await db().selectFrom('live_events').select('id').where('type', '=', 'customer.updated').where('customer_id', '=', customerId).execute()).length;

    it('the customer moves to the new number with their history, labels and id; the old number is free', async () => {
      const [oldPhone, newPhone] = [nextPhone(), nextPhone()];
      await receive({ phone: oldPhone, name: 'Moving' }, { type: 'text', text: { body: 'before' } });
      const before = await customerOf(f.ctx.call, oldPhone);
      await f.ctx.call('POST', api('add-new-label'), { label_name: 'vip-movers' });
      expect((await f.ctx.call('POST', api('add-customer-to-label'), { customer_phone: oldPhone, label_name: 'vip-movers' })).statusCode).toBe(200);

      const updatesBefore = await customerUpdates(before.id);
      await receive({ phone: oldPhone }, changed(oldPhone, newPhone));
      await receive({ phone: newPhone, name: 'Moving' }, { type: 'text', text: { body: 'after' } });

      const after = await customerOf(f.ctx.call, newPhone);
      expect(after).toMatchObject({ id: before.id, phone: newPhone, labels: ['vip-movers'], name: 'Moving' });
      expect((await f.ctx.call('GET', api('get-customer'), { customer_phone: oldPhone })).statusCode).toBe(404);
      expect((await conversation(newPhone)).map((m) => [m.type, m.text]).reverse()).toEqual([
        ['text', 'before'],
        ['system', `User Moving changed from ${oldPhone} to ${newPhone}`],
        ['text', 'after'],
      ]);
      const system = (await storedMessages(before.id)).find((m) => m.type === 'system');
      expect(JSON.parse(system!.content!)).toEqual({ system: { type: 'user_changed_number', new_phone: newPhone } });
      // The inbox heard of the new number.
      expect(updatesBefore).toBe(0);
      expect(await customerUpdates(before.id)).toBe(1);
    });

    it('when the new number already is another customer, both stay and the change is recorded with the old one', async () => {
      const [oldPhone, newPhone] = [nextPhone(), nextPhone()];
      await receive({ phone: oldPhone, name: 'Old' }, { type: 'text', text: { body: 'from the old number' } });
      await receive({ phone: newPhone, name: 'New' }, { type: 'text', text: { body: 'from the new number' } });
      const [oldCustomer, newCustomer] = [await customerOf(f.ctx.call, oldPhone), await customerOf(f.ctx.call, newPhone)];

      await receive({ phone: oldPhone }, changed(oldPhone, newPhone));

      expect(await customerOf(f.ctx.call, oldPhone)).toMatchObject({ id: oldCustomer.id, phone: oldPhone });
      expect(await customerOf(f.ctx.call, newPhone)).toMatchObject({ id: newCustomer.id, phone: newPhone });
      expect((await conversation(oldPhone)).map((m) => m.type)).toEqual(['system', 'text']);
      expect((await conversation(newPhone)).map((m) => m.text)).toEqual(['from the new number']);
    });

    it('a change of a number we never heard from starts the customer on the new number', async () => {
      const [oldPhone, newPhone] = [nextPhone(), nextPhone()];
      await receive({ phone: oldPhone }, changed(oldPhone, newPhone));
      expect(await customerRowByPhone(oldPhone)).toBeUndefined();
      expect((await conversation(newPhone)).map((m) => m.type)).toEqual(['system']);
    });
  });

  describe('senders named by WhatsApp user id (username, no phone number)', () => {
    it('are kept: the customer is created with the user id in place of the number, and found by it again', async () => {
      const userId = nextUserId();
      await receive({ userId, name: 'Sheena', username: '@sheena' }, { type: 'text', text: { body: 'no number here' } });
      await receive({ userId, username: '@sheena' }, { type: 'text', text: { body: 'again' } });

      const customers = await db().selectFrom('customers').selectAll().where('account_id', '=', f.ctx.accountId).where('whatsapp_user_id', '=', userId).execute();
      expect(customers).toHaveLength(1);
      expect(customers[0]).toMatchObject({ phone: userId, name: 'Sheena', country: 'US', whatsapp_user_id: userId });
      expect((await storedMessages(customers[0].id)).map((m) => m.text)).toEqual(['no number here', 'again']);
      expect(customers[0].last_inbound_at).not.toBeNull();
    });

    it('without a profile name the username names the customer', async () => {
      const userId = nextUserId();
      await receive({ userId, username: '@nameless' }, { type: 'text', text: { body: 'hi' } });
      expect(await db().selectFrom('customers').select('name').where('whatsapp_user_id', '=', userId).executeTakeFirstOrThrow()).toEqual({ name: '@nameless' });
    });

    it('their jobs are grouped by the user id, so one person is processed in order', async () => {
      const userId = nextUserId();
      const delivery = messagesDelivery(f.ids, { contacts: [{ profile: { name: 'G' }, user_id: userId }], messages: [{ from_user_id: userId, id: newWamid(), timestamp: String(now()), type: 'text', text: { body: 'g' } }] });
      expect((await f.webhook(delivery)).statusCode).toBe(200);
      const job = await db().selectFrom('jobs').select('group_key').where('group_key', 'like', `%${userId}`).executeTakeFirstOrThrow();
      expect(job.group_key).toBe(`whatsapp:${f.ids.phoneNumberId}:${userId}`);
      await f.runJobs();
    });

    it('once their number comes, it becomes the customer\'s phone (same customer, same history)', async () => {
      const userId = nextUserId();
      const phone = nextPhone();
      await receive({ userId, name: 'Later' }, { type: 'text', text: { body: 'first' } });
      const known = await db().selectFrom('customers').selectAll().where('whatsapp_user_id', '=', userId).executeTakeFirstOrThrow();
      await receive({ userId, phone, name: 'Later' }, { type: 'text', text: { body: 'second' } });

      const customer = await customerOf(f.ctx.call, phone);
      expect(customer).toMatchObject({ id: known.id, phone, country: 'IL' });
      expect((await conversation(phone)).map((m) => m.text)).toEqual(['second', 'first']);
    });

    it('a customer known by number keeps their history when WhatsApp later withholds the number', async () => {
      const userId = nextUserId();
      const phone = nextPhone();
      await receive({ phone, name: 'Known' }, { type: 'text', text: { body: 'by number' } });
      await receive({ phone, userId, name: 'Known' }, { type: 'text', text: { body: 'number and id' } });
      await receive({ userId, username: '@known' }, { type: 'text', text: { body: 'id only' } });

      expect((await conversation(phone)).map((m) => m.text)).toEqual(['id only', 'number and id', 'by number']);
      expect(await customerRowByPhone(userId)).toBeUndefined();
    });

    it('a message with neither a number nor a user id is not stored', async () => {
      const before = await db().selectFrom('messages').select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow();
      const payload = messagesDelivery(f.ids, { messages: [{ id: newWamid(), timestamp: String(now()), type: 'text', text: { body: 'from nobody' } }] });
      await f.deliver(payload);
      const after = await db().selectFrom('messages').select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow();
      expect(Number(after.count)).toBe(Number(before.count));
    });
  });
});
