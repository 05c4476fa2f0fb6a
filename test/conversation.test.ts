import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestEvents } from '../src/modules/messages/ingest.js';
import { addCustomer, api, customerOf, expectError, expectSuccess, newTenant, nextPhone, setUpApiSuite, type Tenant } from './api.js';
import { describeEachDatabase, type TestContext } from './helpers.js';
import { STATUS_DELAY_MS, conversationOf, customerWrites, messageOf, sendText } from './messaging.js';

const PHONE_REQUIRED = 'Phone number is required.';
/** A 1×1 PNG. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a1e0f7f60000000049454e44ae426082', 'hex');
const MEDIA_INVALID = 'A file needs filename and content_base64, a location latitude and longitude, contacts at least one contact, a reaction message_wa_id and emoji.';
const HOUR = 60 * 60 * 1000;
const SECOND = 1000;

describeEachDatabase('conversations', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let phone: string;

  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });
  beforeEach(() => {
    phone = nextPhone();
  });
  afterEach(async () => {
    await ctx.scheduler.advance(10 * STATUS_DELAY_MS);
  });

  /** The API's display format of a time. */
  const apiTime = (date: Date) => date.toISOString().slice(0, 19);

  const isActive = async (number = phone) => {
    const response = await t.call('GET', api('is-active-conv'), { customer_phone: number });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().is_active as boolean;
  };

  it('runs the whole loop: the customer writes, the window opens, a text goes out, reaches read, and the conversation lists both', async () => {
    const wroteAt = ctx.clock.now();
    const inbound = await customerWrites(t, phone, 'Is my order on its way?', 'Dana');
    expect(await isActive()).toBe(true);
    const sent = await sendText(t, phone, 'Yes, it arrives tomorrow.');
    expect(sent.statusCode, sent.body).toBe(200);
    const { id, message_wa_id: outbound } = sent.json();
    await ctx.scheduler.advance(3 * STATUS_DELAY_MS);
    expect((await messageOf(t, outbound)).status).toBe('read');

    const conversation = await conversationOf(t, phone);
    expect(conversation).toMatchObject({ success: true, total: 2, pages: 1, current_page: 1 });
    const [reply, question] = conversation.messages;
    const fields = ['id', 'from', 'to', 'text', 'is_img', 'is_video', 'is_audio', 'is_pdf', 'is_sticker', 'is_geo_location', 'media_url', 'timestamp', 'direction', 'type', 'status', 'message_wa_id'];
    for (const message of conversation.messages) expect(Object.keys(message)).toEqual(expect.arrayContaining(fields));
    expect(reply).toMatchObject({ id, message_wa_id: outbound, direction: 'outbound', type: 'text', status: 'read', to: phone, text: 'Yes, it arrives tomorrow.', is_img: false });
    expect(question).toMatchObject({ message_wa_id: inbound, direction: 'inbound', type: 'text', status: 'received', from: phone, text: 'Is my order on its way?' });
    expect(question.to).toBe(reply.from);
    expect(question.timestamp).toBe(Math.floor(wroteAt.getTime() / 1000));
    expect((await customerOf(t.call, phone)).name).toBe('Dana');
  });

  describe('the 24-hour window', () => {
    it('is open at 23:59:59 after the customer wrote and closed at 24:00:00', async () => {
      await customerWrites(t, phone);
      ctx.clock.advance(24 * HOUR - SECOND);
      expect(await isActive()).toBe(true);
      expect((await sendText(t, phone)).statusCode).toBe(200);
      ctx.clock.advance(SECOND);
      expect(await isActive()).toBe(false);
      expectError(await sendText(t, phone), 400, 'Conversation is closed (send a template instead)');
    });

    it('counts from the last inbound message only: sending does not extend it', async () => {
      await customerWrites(t, phone);
      ctx.clock.advance(20 * HOUR);
      await sendText(t, phone);
      ctx.clock.advance(4 * HOUR);
      expect(await isActive()).toBe(false);
      await customerWrites(t, phone);
      expect(await isActive()).toBe(true);
    });

    it('is closed for a customer who never wrote', async () => {
      await addCustomer(t.call, phone);
      expect(await isActive()).toBe(false);
    });

    it('is-active-conv refuses a missing phone and an unknown customer', async () => {
      expectError(await t.call('GET', api('is-active-conv')), 400, PHONE_REQUIRED);
      expectError(await t.call('GET', api('is-active-conv'), { customer_phone: nextPhone() }), 404, 'Customer not found');
      expectError(await t.call('POST', api('is-active-conv'), { customer_phone: 'abc' }), 400, PHONE_REQUIRED);
    });
  });

  describe('sandbox/receive-message', () => {
    it('creates an unknown customer with the name given, and keeps an existing one\'s name', async () => {
      await customerWrites(t, phone, 'Hi', 'Dana');
      expect(await customerOf(t.call, phone)).toMatchObject({ name: 'Dana', conversation_status: 'new', last_interaction: apiTime(ctx.clock.now()) });
      await customerWrites(t, phone, 'Hi again', 'Someone Else');
      expect((await customerOf(t.call, phone)).name).toBe('Dana');
    });

    it.each([
      ['closed', 'reopened'],
      ['solved', 'reopened'],
      ['in_progress', 'in_progress'],
      ['new', 'new'],
    ])('moves a %s conversation to %s', async (status, after) => {
      await addCustomer(t.call, phone);
      await t.call('POST', api('edit-customer-conv-status'), { customer_phone: phone, status });
      await customerWrites(t, phone);
      expect((await customerOf(t.call, phone)).conversation_status).toBe(after);
    });

    it('updates last_interaction to the time the customer wrote', async () => {
      await customerWrites(t, phone);
      ctx.clock.advance(5 * HOUR);
      await customerWrites(t, phone);
      expect((await customerOf(t.call, phone)).last_interaction).toBe(apiTime(ctx.clock.now()));
    });

    it('refuses a missing or invalid phone and a missing text', async () => {
      const receive = (params: Record<string, unknown>) => t.call('POST', api('sandbox/receive-message'), params);
      expectError(await receive({ text: 'Hi' }), 400, PHONE_REQUIRED);
      expectError(await receive({ customer_phone: '0501234567', text: 'Hi' }), 400, 'Invalid phone number.');
      expectError(await receive({ customer_phone: phone }), 400, 'Text is required.');
      expectError(await receive({ customer_phone: phone, text: ' ' }), 400, 'Text is required.');
    });

    it('does not exist for an account on another channel', async () => {
      await ctx.deps.database.db.updateTable('accounts').set({ channel_type: 'cloud_api' }).where('id', '=', t.accountId).execute();
      // The server hears of the change (on PostgreSQL by notification: docs/decisions.md, "Keys are held in memory").
      await ctx.deps.keyCache.changed();
      for (const endpoint of ['sandbox/receive-message', 'sandbox/receive-media', 'sandbox/set-message-status', 'sandbox/set-template-status']) {
        const params = { customer_phone: phone, text: 'Hi', type: 'location', location: { latitude: 1, longitude: 2 }, message_wa_id: 'wamid.x', template_id: 'x', status: endpoint.endsWith('template-status') ? 'APPROVED' : 'read' };
        expectError(await t.call('POST', api(endpoint), params), 404, 'Route not found');
      }
    });
  });

  describe('sandbox/receive-media', () => {
    const receive = async (params: Record<string, unknown>) => {
      const response = await t.call('POST', api('sandbox/receive-media'), { customer_phone: phone, ...params });
      expect(response.statusCode, response.body).toBe(200);
      return response.json().message_wa_id as string;
    };

    it('keeps a file in the media store, as a downloaded one, with its caption; a document keeps its name', async () => {
      const image = await receive({ type: 'image', name: 'Dana', filename: 'photo.png', content_base64: PNG.toString('base64'), caption: 'The receipt' });
      const stored = await ctx.deps.database.db.selectFrom('messages').select(['type', 'text', 'direction', 'media_key', 'media_mime_type', 'media_filename']).where('message_wa_id', '=', image).executeTakeFirstOrThrow();
      expect(stored).toMatchObject({ type: 'image', text: 'The receipt', direction: 'inbound', media_mime_type: 'image/png', media_filename: null });
      const kept = await ctx.deps.media.open(stored.media_key!);
      const chunks: Buffer[] = [];
      for await (const chunk of kept) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks)).toEqual(PNG);

      const doc = await receive({ type: 'document', filename: 'invoice.pdf', content_base64: Buffer.from('%PDF-1.4 test').toString('base64') });
      expect(await messageOf(t, doc)).toMatchObject({ type: 'document', direction: 'inbound' });
      const row = await ctx.deps.database.db.selectFrom('messages').select(['media_mime_type', 'media_filename']).where('message_wa_id', '=', doc).executeTakeFirstOrThrow();
      expect(row).toEqual({ media_mime_type: 'application/pdf', media_filename: 'invoice.pdf' });
    });

    it('stores a location, contacts and a reaction as their content', async () => {
      const location = await receive({ type: 'location', location: { latitude: 32.0853, longitude: 34.7818, name: 'Dizengoff Center' } });
      const contacts = await receive({ type: 'contacts', contacts: [{ name: 'Avi Cohen', phones: ['+972501234567'] }] });
      const reaction = await receive({ type: 'reaction', reaction: { message_wa_id: location, emoji: '👍' } });
      const contentOf = async (id: string) => {
        const row = await ctx.deps.database.db.selectFrom('messages').select(['type', 'content']).where('message_wa_id', '=', id).executeTakeFirstOrThrow();
        return { type: row.type, content: JSON.parse(row.content!) };
      };
      expect(await contentOf(location)).toEqual({ type: 'location', content: { location: { latitude: 32.0853, longitude: 34.7818, name: 'Dizengoff Center' } } });
      expect(await contentOf(contacts)).toEqual({ type: 'contacts', content: { contacts: [{ name: 'Avi Cohen', phones: [{ phone: '+972501234567' }] }] } });
      expect(await contentOf(reaction)).toEqual({ type: 'reaction', content: { reaction: { message_wa_id: location, emoji: '👍' } } });
    });

    it('refuses what a type needs but lacks, a file WhatsApp cannot carry, and a bad phone', async () => {
      const call = (params: Record<string, unknown>) => t.call('POST', api('sandbox/receive-media'), { customer_phone: phone, ...params });
      expectError(await call({ type: 'image', filename: 'photo.png' }), 400, MEDIA_INVALID);
      expectError(await call({ type: 'location' }), 400, MEDIA_INVALID);
      expectError(await call({ type: 'gif', filename: 'a.gif', content_base64: 'AAAA' }), 400, MEDIA_INVALID);
      expectError(await call({ type: 'document', filename: 'run.exe', content_base64: 'AAAA' }), 400, 'filename must end with an extension WhatsApp media can have (see send-media-message).');
      expectError(await call({ customer_phone: '0501234567', type: 'location', location: { latitude: 1, longitude: 2 } }), 400, 'Invalid phone number.');
      const stored = await ctx.deps.database.db.selectFrom('customers').select('id').where('phone', '=', phone).execute();
      expect(stored).toEqual([]);
    });
  });

  describe('ingest', () => {
    it('stores a message WhatsApp delivers twice only once', async () => {
      const message = { messageWaId: 'wamid.twice', from: phone, to: '15550000000', profileName: null, type: 'text', text: 'Hi', media: null, timestamp: ctx.clock.now() };
      await ingestEvents(ctx.deps, 'sandbox').messageReceived(t.accountId, message);
      await ingestEvents(ctx.deps, 'sandbox').messageReceived(t.accountId, message);
      expect((await conversationOf(t, phone)).total).toBe(1);
    });

    it('keeps the latest interaction when an older message arrives late', async () => {
      const now = ctx.clock.now();
      const at = (hoursAgo: number) => ({ from: phone, to: '15550000000', profileName: null, type: 'text', text: 'Hi', media: null, timestamp: new Date(now.getTime() - hoursAgo * HOUR) });
      await ingestEvents(ctx.deps, 'sandbox').messageReceived(t.accountId, { messageWaId: 'wamid.new', ...at(0) });
      await ingestEvents(ctx.deps, 'sandbox').messageReceived(t.accountId, { messageWaId: 'wamid.old', ...at(3) });
      expect((await customerOf(t.call, phone)).last_interaction).toBe(apiTime(now));
      const { messages } = await conversationOf(t, phone);
      expect(messages.map((message: { message_wa_id: string }) => message.message_wa_id)).toEqual(['wamid.new', 'wamid.old']);
    });
  });

  describe('get-conversation', () => {
    it('pages 100 messages at a time, newest first; a page past the end is empty', async () => {
      const events = ingestEvents(ctx.deps, 'sandbox');
      for (let i = 1; i <= 101; i++) {
        await events.messageReceived(t.accountId, { messageWaId: `wamid.m${i}`, from: phone, to: '15550000000', profileName: null, type: 'text', text: `#${i}`, media: null, timestamp: new Date(Date.parse('2026-06-01T00:00:00Z') + i * SECOND) });
      }
      const first = await conversationOf(t, phone);
      expect(first).toMatchObject({ total: 101, pages: 2, current_page: 1 });
      expect(first.messages).toHaveLength(100);
      expect(first.messages[0].text).toBe('#101');
      expect(first.messages[99].text).toBe('#2');
      const second = await t.call('GET', `${api('get-conversation')}?customer_phone=${phone}&page=2`);
      expect(second.json()).toMatchObject({ total: 101, pages: 2, current_page: 2, messages: [{ text: '#1' }] });
      expectSuccess(await t.call('POST', api('get-conversation'), { customer_phone: phone, page: 3 }), { messages: [], total: 101, pages: 2, current_page: 3 });
    });

    it('answers an empty conversation', async () => {
      await addCustomer(t.call, phone);
      expectSuccess(await t.call('GET', api('get-conversation'), { customer_phone: phone }), { messages: [], total: 0, pages: 0, current_page: 1 });
    });

    it('refuses a missing phone, an unknown customer and a bad page', async () => {
      expectError(await t.call('GET', api('get-conversation')), 400, PHONE_REQUIRED);
      expectError(await t.call('GET', api('get-conversation'), { customer_phone: nextPhone() }), 404, 'Customer not found');
      await addCustomer(t.call, phone);
      expectError(await t.call('GET', api('get-conversation'), { customer_phone: phone, page: 0 }), 400, 'Invalid page');
    });

    it('never shows another account\'s messages', async () => {
      await customerWrites(t, phone);
      const other = await newTenant(ctx);
      await customerWrites(other, phone, 'To the other business');
      const { messages } = await conversationOf(t, phone);
      expect(messages.map((message: { text: string }) => message.text)).toEqual(['Hello!']);
    });
  });
});
