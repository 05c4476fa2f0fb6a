import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestEvents } from '../src/modules/messages/ingest.js';
import { api, customerOf, expectError, newTenant, nextPhone, setUpApiSuite, type Tenant } from './api.js';
import { describeEachDatabase, type TestContext } from './helpers.js';
import { mediaSample } from './media-samples.js';
import {
  STATUS_DELAY_MS,
  changeChannel,
  conversationOf,
  customerWrites,
  disableMessaging,
  mediaFiles,
  messageOf,
  multipart,
  refusingChannel,
  sendText,
} from './messaging.js';

const MISSING = 'Missing required parameters.';
const CLOSED = 'Conversation is closed (send a template instead)';
const NOT_AUTHORIZED = 'User not authorized to send text messages.';
const FILE_OR_URL = 'Either file upload or media_url is required.';
const MEDIA_PHONE = 'Missing required parameter: customer_phone';
const MB = 1024 * 1024;

describeEachDatabase('messaging', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let phone: string;
  let restoreChannel: (() => void) | undefined;

  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });
  beforeEach(() => {
    phone = nextPhone();
  });
  afterEach(async () => {
    restoreChannel?.();
    restoreChannel = undefined;
    // Lets the sandbox finish what earlier sends scheduled, and keeps the 5/s messaging limit out of the way.
    await ctx.scheduler.advance(10 * STATUS_DELAY_MS);
  });

  const sendMedia = (fields: Record<string, unknown>) => t.call('POST', api('send-media-message'), fields);
  const upload = (fields: Record<string, string>, file?: Parameters<typeof multipart>[1]) => {
    const { payload, headers } = multipart(fields, file);
    return t.call('POST', api('send-media-message'), payload, headers);
  };

  describe('send-text-message', () => {
    it('sends into an open window: an integer id and a wamid, committed as pending', async () => {
      await customerWrites(t, phone);
      const response = await sendText(t, phone, 'Your order shipped');
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(body).toEqual({ success: true, id: expect.any(Number), message_wa_id: expect.stringMatching(/^wamid\./) });
      expect(Number.isInteger(body.id)).toBe(true);
      expect(await messageOf(t, body.message_wa_id)).toMatchObject({
        id: body.id,
        direction: 'outbound',
        type: 'text',
        text: 'Your order shipped',
        status: 'pending',
        to: phone,
        error_code: null,
      });
    });

    it('accepts the phone in any format and numbers as strings', async () => {
      await customerWrites(t, phone);
      const response = await t.call('POST', api('send-text-message'), { customer_phone: `+${phone.slice(0, 3)} ${phone.slice(3)}`, text: 'Hi' });
      expect(response.statusCode, response.body).toBe(200);
    });

    it('moves the customer\'s last interaction to the time of the send', async () => {
      await customerWrites(t, phone);
      ctx.clock.advance(60_000);
      await sendText(t, phone);
      expect((await customerOf(t.call, phone)).last_interaction).toBe(ctx.clock.now().toISOString().slice(0, 19));
    });

    // The contract's message, and (our addition) the names of what was missing.
    it.each([
      ['no phone', { text: 'Hi' }, ['customer_phone']],
      ['no text', { customer_phone: '972501234567' }, ['text']],
      ['an empty text', { customer_phone: '972501234567', text: '' }, ['text']],
      ['a blank text', { customer_phone: '972501234567', text: '   ' }, ['text']],
      ['a text that is no string', { customer_phone: '972501234567', text: ['Hi'] }, ['text']],
      ['an empty phone', { customer_phone: '', text: 'Hi' }, ['customer_phone']],
      ['neither', {}, ['customer_phone', 'text']],
    ])('refuses %s, naming what is missing', async (_case, params, missing) => {
      const response = await t.call('POST', api('send-text-message'), params);
      expect({ status: response.statusCode, body: response.json() }).toEqual({ status: 400, body: { error: true, message: MISSING, missing } });
    });

    it('refuses a text longer than WhatsApp takes', async () => {
      await customerWrites(t, phone);
      expectError(await sendText(t, phone, 'x'.repeat(4097)), 400, 'Text is too long (at most 4096 characters)');
    });

    it('refuses a customer whose window is closed, and a phone that is no customer (creating none)', async () => {
      await t.call('POST', api('add-new-customer'), { customer_phone: phone });
      expectError(await sendText(t, phone), 400, CLOSED);
      const stranger = nextPhone();
      expectError(await sendText(t, stranger), 400, CLOSED);
      expectError(await t.call('GET', api('get-customer'), { customer_phone: stranger }), 404, 'Customer not found');
      expect((await conversationOf(t, phone)).total).toBe(0);
    });

    it('refuses an account whose messaging is disabled', async () => {
      await customerWrites(t, phone);
      await disableMessaging(ctx, t.accountId);
      expectError(await sendText(t, phone), 401, NOT_AUTHORIZED);
    });

    it('keeps a failed message with the channel\'s reason when the channel refuses', async () => {
      await customerWrites(t, phone);
      restoreChannel = refusingChannel(ctx);
      expectError(await sendText(t, phone, 'Will fail'), 500, 'Failed to send text message.');
      const [failed] = (await conversationOf(t, phone)).messages;
      expect(failed).toMatchObject({ direction: 'outbound', text: 'Will fail', status: 'failed', message_wa_id: null, error_code: 131000, error_title: 'Service temporarily unavailable' });
    });
  });

  describe('send-media-message by link', () => {
    it('hands a link to WhatsApp, typed by its extension', async () => {
      await customerWrites(t, phone);
      const response = await sendMedia({ customer_phone: phone, media_url: 'https://example.com/photo.JPG?size=large', caption: 'Check this out!' });
      expect(response.statusCode, response.body).toBe(200);
      expect(await messageOf(t, response.json().message_wa_id)).toMatchObject({
        type: 'image',
        is_img: true,
        text: 'Check this out!',
        media_url: 'https://example.com/photo.JPG?size=large',
        mime_type: 'image/jpeg',
        status: 'pending',
      });
    });

    it('takes the type from filename when the link has no extension', async () => {
      await customerWrites(t, phone);
      const response = await sendMedia({ customer_phone: phone, media_url: 'https://example.com/download?id=7', filename: 'invoice.pdf' });
      expect(response.statusCode, response.body).toBe(200);
      expect(await messageOf(t, response.json().message_wa_id)).toMatchObject({ type: 'document', is_pdf: true, filename: 'invoice.pdf' });
    });

    it.each([
      [{ media_url: 'https://example.com/tool.xyz' }, 'Unsupported file type: .xyz'],
      [{ media_url: 'https://example.com/download' }, 'Unsupported file type: (no extension)'],
      [{ media_url: 'https://example.com/download', filename: 'setup.EXE' }, 'Unsupported file type: .exe'],
      [{ media_url: 'ftp://example.com/photo.jpg' }, 'Media link is not valid'],
      [{ media_url: 'not a url.jpg' }, 'Media link is not valid'],
      [{}, FILE_OR_URL],
      [{ media_url: '' }, FILE_OR_URL],
    ])('refuses %j', async (params, message) => {
      await customerWrites(t, phone);
      expectError(await sendMedia({ customer_phone: phone, ...params }), 400, message);
    });

    it('asks for the file or link first, then the phone', async () => {
      expectError(await sendMedia({}), 400, FILE_OR_URL);
      expectError(await sendMedia({ media_url: 'https://example.com/a.png' }), 400, MEDIA_PHONE);
    });

    it('refuses a 20 MB caption', async () => {
      await customerWrites(t, phone);
      const response = await sendMedia({ customer_phone: phone, media_url: 'https://example.com/a.png', caption: 'x'.repeat(20 * MB) });
      expectError(response, 400, 'Caption is too long (at most 1024 characters)');
    });

    it('refuses a closed window, a disabled account and a channel failure with the contract messages', async () => {
      const media = { customer_phone: phone, media_url: 'https://example.com/a.png' };
      await t.call('POST', api('add-new-customer'), { customer_phone: phone });
      expectError(await sendMedia(media), 400, CLOSED);
      await customerWrites(t, phone);
      restoreChannel = refusingChannel(ctx);
      expectError(await sendMedia(media), 500, 'Failed to send media message.');
      expect((await conversationOf(t, phone)).messages[0]).toMatchObject({ type: 'image', status: 'failed' });
      await disableMessaging(ctx, t.accountId);
      expectError(await sendMedia(media), 401, NOT_AUTHORIZED);
    });
  });

  describe('send-media-message by upload', () => {
    it('keeps the file in the media store and sends it', async () => {
      await customerWrites(t, phone);
      const response = await upload({ customer_phone: phone, caption: 'The invoice' }, { filename: 'Invoice.pdf', content: mediaSample('pdf', 50_000) });
      expect(response.statusCode, response.body).toBe(200);
      expect(await messageOf(t, response.json().message_wa_id)).toMatchObject({
        type: 'document',
        is_pdf: true,
        text: 'The invoice',
        filename: 'Invoice.pdf',
        mime_type: 'application/pdf',
        media_url: null,
      });
      const key = (await ctx.deps.database.db.selectFrom('messages').select('media_key').where('message_wa_id', '=', response.json().message_wa_id).executeTakeFirstOrThrow()).media_key;
      expect(mediaFiles(ctx)).toContain(key);
      expect(key).toMatch(/\.pdf$/);
      await ctx.scheduler.advance(3 * STATUS_DELAY_MS);
      expect((await messageOf(t, response.json().message_wa_id)).status).toBe('read');
    });

    it('reads the fields whether they come before or after the file', async () => {
      await customerWrites(t, phone);
      const { payload, headers } = multipart({}, { filename: 'photo.png', content: mediaSample('png') });
      const response = await t.call('POST', `${api('send-media-message')}?customer_phone=${phone}`, payload, headers);
      expect(response.statusCode, response.body).toBe(200);
    });

    it.each([
      ['a file whose bytes are not what its extension claims', { filename: 'photo.png', content: mediaSample('pdf') }, 400, 'File content does not match its extension: .png'],
      ['an unsupported extension', { filename: 'setup.exe', content: mediaSample('pdf') }, 400, 'Unsupported file type: .exe'],
      ['an image over 5 MB', { filename: 'big.jpg', content: mediaSample('jpg', 5 * MB + 1) }, 413, 'File too large: image files are limited to 5 MB'],
      ['an empty file', { filename: 'empty.txt', content: Buffer.alloc(0) }, 400, 'File content does not match its extension: .txt'],
    ])('refuses %s and stores nothing', async (_case, file, status, message) => {
      await customerWrites(t, phone);
      const before = mediaFiles(ctx);
      expectError(await upload({ customer_phone: phone }, file), status, message);
      expect(mediaFiles(ctx)).toEqual(before);
      expect((await conversationOf(t, phone)).total).toBe(1);
    });

    it('stores nothing when the send is refused after the upload', async () => {
      const file = { filename: 'photo.png', content: mediaSample('png') };
      const before = mediaFiles(ctx);
      expectError(await upload({}, file), 400, MEDIA_PHONE);
      expectError(await upload({ customer_phone: phone }, file), 400, CLOSED);
      await customerWrites(t, phone);
      expectError(await upload({ customer_phone: phone, caption: 'x'.repeat(2000) }, file), 400, 'Caption is too long (at most 1024 characters)');
      expect(mediaFiles(ctx)).toEqual(before);
    });

    it('takes a 16 MB video but not a larger one', async () => {
      await customerWrites(t, phone);
      const before = mediaFiles(ctx).length;
      expect((await upload({ customer_phone: phone }, { filename: 'clip.mp4', content: mediaSample('mp4', 16 * MB) })).statusCode).toBe(200);
      expectError(await upload({ customer_phone: phone }, { filename: 'clip.mp4', content: mediaSample('mp4', 16 * MB + 1) }), 413, 'File too large: video files are limited to 16 MB');
      expect(mediaFiles(ctx)).toHaveLength(before + 1);
    });

    it('replays a retried upload with the same Idempotency-Key, sending and keeping it once', async () => {
      await customerWrites(t, phone);
      const before = mediaFiles(ctx).length;
      const { payload, headers } = multipart({ customer_phone: phone }, { filename: 'photo.png', content: mediaSample('png') });
      const retry = { ...headers, 'idempotency-key': `upload-${phone}` };
      const first = await t.call('POST', api('send-media-message'), payload, retry);
      const second = await t.call('POST', api('send-media-message'), payload, retry);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.json()).toEqual(first.json());
      expect((await conversationOf(t, phone)).total).toBe(2);
      expect(mediaFiles(ctx)).toHaveLength(before + 1);
    });

    it('answers the contract message when the file cannot be stored', async () => {
      await customerWrites(t, phone);
      const media = ctx.deps.media;
      ctx.deps.media = { ...media, stage: async () => Promise.reject(new Error('disk full')), discard: media.discard.bind(media) };
      try {
        expectError(await upload({ customer_phone: phone }, { filename: 'photo.png', content: mediaSample('png') }), 500, 'Failed to upload media file.');
      } finally {
        ctx.deps.media = media;
      }
    });

    it('is only multipart on send-media-message', async () => {
      const { payload, headers } = multipart({ customer_phone: phone, text: 'Hi' });
      expectError(await t.call('POST', api('send-text-message'), payload, headers), 415, 'Unsupported Content-Type');
    });
  });

  describe('get-message', () => {
    it('refuses a missing id and an unknown one, and another account\'s message', async () => {
      expectError(await t.call('GET', api('get-message')), 400, 'Message WhatsApp Id is required');
      expectError(await t.call('GET', api('get-message'), { message_wa_id: 'wamid.unknown' }), 404, 'Message not found');
      const other = await newTenant(ctx);
      const theirs = await customerWrites(other, phone);
      expectError(await t.call('GET', api('get-message'), { message_wa_id: theirs }), 404, 'Message not found');
      expect((await messageOf(other, theirs)).status).toBe('received');
    });

    it('answers POST and a query string too', async () => {
      const messageWaId = await customerWrites(t, phone);
      expect((await t.call('POST', api('get-message'), { message_wa_id: messageWaId })).statusCode).toBe(200);
      expect((await t.call('GET', `${api('get-message')}?message_wa_id=${encodeURIComponent(messageWaId)}`)).statusCode).toBe(200);
    });
  });

  describe('statuses', () => {
    const setStatus = (messageWaId: string, status: string, extra: Record<string, unknown> = {}) =>
      t.call('POST', api('sandbox/set-message-status'), { message_wa_id: messageWaId, status, ...extra });

    async function sent(): Promise<string> {
      await customerWrites(t, phone);
      return (await sendText(t, phone)).json().message_wa_id;
    }

    it('advance sent → delivered → read, one sandbox delay apart', async () => {
      const messageWaId = await sent();
      const seen = [(await messageOf(t, messageWaId)).status];
      for (let step = 0; step < 3; step++) {
        await ctx.scheduler.advance(STATUS_DELAY_MS);
        seen.push((await messageOf(t, messageWaId)).status);
      }
      expect(seen).toEqual(['pending', 'sent', 'delivered', 'read']);
    });

    it('never move backwards: a late delivered after read is ignored', async () => {
      const messageWaId = await sent();
      expect((await setStatus(messageWaId, 'read')).json().message.status).toBe('read');
      expect((await setStatus(messageWaId, 'delivered')).json().message.status).toBe('read');
      expect((await setStatus(messageWaId, 'failed')).json().message.status).toBe('read');
      await ctx.scheduler.advance(3 * STATUS_DELAY_MS);
      expect((await messageOf(t, messageWaId)).status).toBe('read');
    });

    it('keep a failure\'s code and title, and nothing follows a failure', async () => {
      const messageWaId = await sent();
      const response = await setStatus(messageWaId, 'failed', { error_code: 131047, error_title: 'Re-engagement message' });
      expect(response.json().message).toMatchObject({ status: 'failed', error_code: 131047, error_title: 'Re-engagement message' });
      await ctx.scheduler.advance(3 * STATUS_DELAY_MS);
      expect(await messageOf(t, messageWaId)).toMatchObject({ status: 'failed', error_code: 131047 });
    });

    it('that arrive before their message are kept and applied when it appears', async () => {
      await customerWrites(t, phone);
      // WhatsApp's status webhook overtakes the answer to the send request.
      restoreChannel = changeChannel(ctx, (channel) => ({
        sendText: async (message) => {
          const events = ingestEvents(ctx.deps, 'sandbox');
          const timestamp = ctx.clock.now();
          await events.statusChanged(t.accountId, { messageWaId: 'wamid.early', status: 'delivered', timestamp });
          await events.statusChanged(t.accountId, { messageWaId: 'wamid.early', status: 'sent', timestamp });
          expectError(await t.call('GET', api('get-message'), { message_wa_id: 'wamid.early' }), 404, 'Message not found');
          await channel.sendText(message);
          return { messageWaId: 'wamid.early' };
        },
      }));
      const response = await sendText(t, phone);
      expect(response.json().message_wa_id).toBe('wamid.early');
      expect((await messageOf(t, 'wamid.early')).status).toBe('delivered');
      const pending = await ctx.deps.database.db.selectFrom('pending_statuses').selectAll().where('account_id', '=', t.accountId).execute();
      expect(pending).toEqual([]);
    });

    it('that name our message id tie a WhatsApp id the send never told us', async () => {
      await customerWrites(t, phone);
      restoreChannel = changeChannel(ctx, () => ({
        sendText: async (message) => {
          await ingestEvents(ctx.deps, 'sandbox').statusChanged(t.accountId, { messageWaId: 'wamid.echoed', status: 'sent', timestamp: ctx.clock.now(), messageId: message.messageId });
          return { messageWaId: 'wamid.echoed' };
        },
      }));
      const { id } = (await sendText(t, phone)).json();
      expect(await messageOf(t, 'wamid.echoed')).toMatchObject({ id, status: 'sent' });
    });

    it('are set by hand only for the account\'s outbound messages', async () => {
      const inbound = await customerWrites(t, phone);
      expectError(await setStatus(inbound, 'read'), 404, 'Message not found');
      expectError(await setStatus('wamid.unknown', 'read'), 404, 'Message not found');
      expectError(await setStatus(await sent(), 'seen'), 400, 'Invalid message status.');
      expectError(await t.call('POST', api('sandbox/set-message-status'), { status: 'read' }), 400, 'Message WhatsApp Id is required');
    });
  });
});
