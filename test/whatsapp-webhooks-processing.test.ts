/**
 * Inbound webhooks end to end: signed delivery → stored → job → the ingest path. Every message type,
 * media downloads, referrals, duplicates, statuses in any order, template verdicts, unknown numbers.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, customerOf, nextPhone } from './api.js';
import { setUpCloudApiSuite, type CloudApiFixture } from './cloud-api-fixture.js';
import { inboundDelivery, messagesDelivery, statusDelivery, templateStatusDelivery } from './graph-simulator.js';
import { describeEachDatabase } from './helpers.js';
import { conversationOf } from './messaging.js';

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]);

describeEachDatabase('WhatsApp webhooks: processing', (kind) => {
  let f: CloudApiFixture;
  const conversation = async (phone: string) => (await conversationOf(f.ctx, phone)).messages as Array<Record<string, any>>;
  const customer = (phone: string) => customerOf(f.ctx.call, phone);
  /** Where the message's media file is kept; null when none is. */
  const mediaKeyOf = async (wamid: string) =>
    (await f.ctx.deps.database.db.selectFrom('messages').select('media_key').where('message_wa_id', '=', wamid).executeTakeFirstOrThrow()).media_key;
  const at = () => Math.floor(f.ctx.clock.now().getTime() / 1000);

  setUpCloudApiSuite(kind, { env: { WHATSAPP_MEDIA_MAX_BYTES: '1kb' }, fixture: (value) => (f = value) });

  describe('inbound messages', () => {
    it('a text creates the customer with the profile name, opens the window, and is listed', async () => {
      const phone = nextPhone();
      const wamid = await f.customerWrites(phone, 'Dana Levi');
      expect(await customer(phone)).toMatchObject({ name: 'Dana Levi', phone });
      const [message] = await conversation(phone);
      expect(message).toMatchObject({ message_wa_id: wamid, direction: 'inbound', type: 'text', text: 'Hello!', status: 'received', from: phone, to: f.ids.displayPhoneNumber });
      const active = await f.ctx.call('GET', api('is-active-conv'), { customer_phone: phone });
      expect(active.json()).toMatchObject({ success: true, is_active: true });
    });

    it('the same wamid delivered twice (even in different bodies) is stored once', async () => {
      const phone = nextPhone();
      const first = inboundDelivery(f.ids, { phone, name: 'A' }, { type: 'text', text: { body: 'once' } }, { timestamp: at() });
      await f.deliver(first.payload);
      await f.deliver(first.payload);
      const again = inboundDelivery(f.ids, { phone, name: 'A' }, { type: 'text', text: { body: 'once' } }, { timestamp: at(), wamid: first.wamid });
      (again.payload as any).entry[0].id = 'another-entry-id';
      await f.deliver(again.payload);
      expect(await conversation(phone)).toHaveLength(1);
    });

    it('every message type is stored with its text', async () => {
      const phone = nextPhone();
      const types: Array<[Record<string, unknown>, string, string | null]> = [
        [{ type: 'location', location: { latitude: 32.08, longitude: 34.78, name: 'Office', address: 'Rothschild 1' } }, 'location', 'Office, Rothschild 1'],
        [{ type: 'contacts', contacts: [{ name: { formatted_name: 'Avi Cohen' }, phones: [{ phone: '+972 50 000 0000', wa_id: '972500000000' }] }] }, 'contacts', 'Avi Cohen'],
        [{ type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Yes please' } } }, 'interactive', 'Yes please'],
        [{ type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'r2', title: 'Tuesday', description: 'morning' } } }, 'interactive', 'Tuesday'],
        [{ type: 'button', button: { text: 'Stop promotions', payload: 'STOP' } }, 'button', 'Stop promotions'],
        [{ type: 'reaction', reaction: { message_id: 'wamid.OUT', emoji: '❤️' } }, 'reaction', '❤️'],
        [{ type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown', error_data: { details: 'Message type is currently not supported.' } }] }, 'unsupported', 'Message type is currently not supported.'],
      ];
      for (const [message] of types) await f.customerWrites(phone, 'Types', message);
      const listed = (await conversation(phone)).reverse();
      expect(listed.map((m) => [m.type, m.text])).toEqual(types.map(([, type, text]) => [type, text]));
      expect(listed[0].is_geo_location).toBe(true);
    });

    it('media of each kind is downloaded with the bearer token into the media store', async () => {
      const phone = nextPhone();
      const kinds: Array<[string, Buffer, string, Record<string, unknown>]> = [
        ['image', JPEG, 'image/jpeg', { caption: 'Look' }],
        ['video', Buffer.from('....ftypisom'), 'video/mp4', {}],
        ['audio', Buffer.from('OggS-voice'), 'audio/ogg; codecs=opus', { voice: true }],
        ['document', Buffer.from('%PDF-1.4 invoice'), 'application/pdf', { filename: 'invoice.pdf', caption: 'Invoice' }],
        ['sticker', Buffer.from('RIFF....WEBPVP8 '), 'image/webp', { animated: false }],
      ];
      for (const [type, bytes, mime, extra] of kinds) {
        const id = f.simulator.addMedia(bytes, mime.split(';')[0]);
        await f.customerWrites(phone, 'Media', { type, [type]: { id, mime_type: mime, sha256: createHash('sha256').update(bytes).digest('base64'), ...extra } });
      }
      const downloads = f.simulator.requestsTo(/^\/media-download\//);
      expect(downloads).toHaveLength(kinds.length);
      for (const request of downloads) expect(request.headers.authorization).toBe('Bearer EAAG-simulated-system-user-token');
      const rows = await f.ctx.deps.database.db.selectFrom('messages').selectAll().where('direction', '=', 'inbound').where('type', 'in', kinds.map(([t]) => t)).orderBy('id').execute();
      expect(rows.map((r) => [r.type, r.media_mime_type, r.media_filename])).toEqual([
        ['image', 'image/jpeg', null],
        ['video', 'video/mp4', null],
        ['audio', 'audio/ogg', null],
        ['document', 'application/pdf', 'invoice.pdf'],
        ['sticker', 'image/webp', null],
      ]);
      for (const [i, row] of rows.entries()) {
        const stream = await f.ctx.deps.media.open(row.media_key!);
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        expect(Buffer.concat(chunks).equals(kinds[i][1])).toBe(true);
      }
      const listed = (await conversation(phone)).reverse();
      expect(listed.map((m) => [m.is_img, m.is_video, m.is_audio, m.is_pdf, m.is_sticker])).toEqual([
        [true, false, false, false, false],
        [false, true, false, false, false],
        [false, false, true, false, false],
        [false, false, false, true, false],
        [false, false, false, false, true],
      ]);
      expect(listed[0].text).toBe('Look');
    });

    it('media that cannot be had (unknown id) leaves the message stored without it', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone, 'Gone', { type: 'image', image: { id: '999999', mime_type: 'image/jpeg', caption: 'lost' } });
      const [message] = await conversation(phone);
      expect(message).toMatchObject({ type: 'image', text: 'lost' });
      expect(await mediaKeyOf(message.message_wa_id)).toBeNull();
    });

    it('media larger than WHATSAPP_MEDIA_MAX_BYTES is not kept; the message is', async () => {
      const phone = nextPhone();
      const id = f.simulator.addMedia(Buffer.concat([JPEG, Buffer.alloc(2048)]), 'image/jpeg');
      await f.customerWrites(phone, 'Big', { type: 'image', image: { id, mime_type: 'image/jpeg', caption: 'huge' } });
      const [message] = await conversation(phone);
      expect(message).toMatchObject({ type: 'image', text: 'huge' });
      expect(await mediaKeyOf(message.message_wa_id)).toBeNull();
    });

    it('a click-to-WhatsApp referral becomes the customer attribution', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone, 'From an ad', {
        type: 'text',
        text: { body: 'I saw your ad' },
        referral: { source_url: 'https://fb.me/abc', source_id: '120226305854810726', source_type: 'ad', headline: 'Spring sale', body: '20% off', media_type: 'image', image_url: 'https://scontent.example/i.jpg', ctwa_clid: 'ARAkLkA8rmlFeiCktEJQ' },
      });
      const record = await customer(phone);
      expect(record.source).toBe('whatsapp_ad');
      expect(record.attribution).toEqual({
        current_url: 'https://fb.me/abc',
        ctwa_source_url: 'https://fb.me/abc',
        ctwa_source_id: '120226305854810726',
        ctwa_source_type: 'ad',
        ctwa_headline: 'Spring sale',
        ctwa_body: '20% off',
        ctwa_media_type: 'image',
        ctwa_image_url: 'https://scontent.example/i.jpg',
        ctwa_clid: 'ARAkLkA8rmlFeiCktEJQ',
      });
    });
  });

  describe('routing', () => {
    it('an unknown phone_number_id is kept (outcome unrouted) and touches no account', async () => {
      const phone = nextPhone();
      const { payload } = inboundDelivery({ phoneNumberId: '555000111' }, { phone, name: 'Nobody' }, { type: 'text', text: { body: 'lost?' } }, { timestamp: at() });
      await f.deliver(payload);
      const rows = await f.ctx.deps.database.db.selectFrom('whatsapp_webhook_inbox').selectAll().where('outcome', '=', 'unrouted').execute();
      expect(rows).toHaveLength(1);
      expect(rows[0].unrouted_phone_number_ids).toBe('555000111');
      expect(rows[0].body).toBe(JSON.stringify(payload));
      const lookup = await f.ctx.call('GET', api('get-customer'), { customer_phone: phone });
      expect(lookup.statusCode).toBe(404);
    });

    it('two accounts on two numbers each get their own messages', async () => {
      const other = await f.ctx.otherAccount();
      const otherIds = { phoneNumberId: '200000000000002', wabaId: '300000000000003', displayPhoneNumber: '15550001111' };
      expect((await f.connect(other.accountId, otherIds)).statusCode).toBe(200);
      const phone = nextPhone();
      await f.deliver(inboundDelivery(otherIds, { phone, name: 'Other' }, { type: 'text', text: { body: 'for the other' } }, { timestamp: at() }).payload);
      expect((await f.ctx.call('GET', api('get-customer'), { customer_phone: phone })).statusCode).toBe(404);
      const theirs = await f.ctx.app.inject({ method: 'GET', url: api('get-conversation'), headers: { 'mumble-api-key': other.apiKey }, query: { customer_phone: phone } });
      expect(theirs.json().messages[0]).toMatchObject({ text: 'for the other', to: '15550001111' });
    });
  });

  describe('templates', () => {
    it('template status updates move the template by its Meta id (FLAGGED changes nothing, REINSTATED approves)', async () => {
      const created = await f.ctx.call('POST', api('create-template'), { name: `promo_${kind}`, language: 'en', category: 'MARKETING', body: 'Hi {{1}}', body_examples: ['Ann'] });
      expect(created.statusCode, created.body).toBe(200);
      const metaId = f.simulator.templates.at(-1)!.id;
      const status = async () => {
        const list = await f.ctx.call('GET', api('get-templates'));
        return list.json().templates.find((t: any) => t.name === `promo_${kind}`).status;
      };
      expect(await status()).toBe('PENDING');
      for (const [event, expected] of [['APPROVED', 'APPROVED'], ['PAUSED', 'PAUSED'], ['REINSTATED', 'APPROVED'], ['FLAGGED', 'APPROVED'], ['DISABLED', 'DISABLED']]) {
        await f.deliver(templateStatusDelivery(f.ids.wabaId, { templateId: metaId, name: `promo_${kind}`, language: 'en', event }));
        expect(await status()).toBe(expected);
      }
    });
  });

  describe('statuses', () => {
    async function sentMessage(phone: string): Promise<{ id: number; wamid: string }> {
      await f.customerWrites(phone);
      const response = await f.send('send-text-message', { customer_phone: phone, text: 'Our reply' });
      expect(response.statusCode, response.body).toBe(200);
      return { id: response.json().id, wamid: response.json().message_wa_id };
    }
    const statusOf = async (wamid: string) => (await f.ctx.call('GET', api('get-message'), { message_wa_id: wamid })).json().message;

    it('sent → delivered → read', async () => {
      const phone = nextPhone();
      const { wamid } = await sentMessage(phone);
      for (const status of ['sent', 'delivered', 'read'] as const) {
        await f.deliver(statusDelivery(f.ids, { wamid, status, recipient: phone, timestamp: at() }));
        expect((await statusOf(wamid)).status).toBe(status);
      }
    });

    it('out of order (read, then delivered, then sent) never moves backwards', async () => {
      const phone = nextPhone();
      const { wamid } = await sentMessage(phone);
      for (const status of ['read', 'delivered', 'sent'] as const) await f.deliver(statusDelivery(f.ids, { wamid, status, recipient: phone, timestamp: at() }));
      expect((await statusOf(wamid)).status).toBe('read');
    });

    it('a failed status keeps Meta error code and title, visible in get-message', async () => {
      const phone = nextPhone();
      const { wamid } = await sentMessage(phone);
      await f.deliver(
        statusDelivery(f.ids, {
          wamid,
          status: 'failed',
          recipient: phone,
          timestamp: at(),
          errors: [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', error_data: { details: 'Recipient is not a WhatsApp user' } }],
        }),
      );
      expect(await statusOf(wamid)).toMatchObject({ status: 'failed', error_code: 131026, error_title: 'Message undeliverable' });
    });

    it('a status that arrives before the send has its answer is kept, then applied', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      const early = `wamid.EARLY${phone}`;
      await f.deliver(statusDelivery(f.ids, { wamid: early, status: 'delivered', recipient: phone, timestamp: at() }));
      expect(await f.ctx.deps.database.db.selectFrom('pending_statuses').selectAll().where('message_wa_id', '=', early).execute()).toHaveLength(1);
      f.simulator.nextWamid(early);
      const response = await f.send('send-text-message', { customer_phone: phone, text: 'Raced' });
      expect(response.json().message_wa_id).toBe(early);
      expect((await statusOf(early)).status).toBe('delivered');
    });

    it('one delivery with several changes and entries is applied whole', async () => {
      const phone = nextPhone();
      const { wamid } = await sentMessage(phone);
      const reply = inboundDelivery(f.ids, { phone, name: 'Batch' }, { type: 'text', text: { body: 'batched' } }, { timestamp: at() });
      const statuses = messagesDelivery(f.ids, {
        statuses: ['sent', 'delivered'].map((status) => ({ id: wamid, status, timestamp: String(at()), recipient_id: phone })),
      }) as any;
      const combined = { object: 'whatsapp_business_account', entry: [...(reply.payload as any).entry, ...statuses.entry] };
      await f.deliver(combined);
      expect((await statusOf(wamid)).status).toBe('delivered');
      expect((await conversation(phone)).some((m) => m.text === 'batched')).toBe(true);
    });
  });
});
