/**
 * An account on the Cloud API channel, driven through the Mumble endpoints, with our Graph API
 * simulator: what goes on the wire for each kind of send, and what each Graph error does.
 */
import { describe, expect, it } from 'vitest';
import { api, expectError } from './api.js';
import { ADMIN_TOKEN, setUpCloudApiSuite, type CloudApiFixture } from './cloud-api-fixture.js';
import { statusDelivery } from './graph-simulator.js';
import { describeEachDatabase } from './helpers.js';
import { multipart } from './messaging.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);

describeEachDatabase('Cloud API channel through the Mumble API', (kind) => {
  let f: CloudApiFixture;
  let seq = 0;
  const nextPhone = () => `97252${String(1_000_000 + ++seq).slice(-7)}`;
  const base = (to: string) => ({ messaging_product: 'whatsapp', recipient_type: 'individual', to });
  const messageRow = (id: number) => f.ctx.deps.database.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const channelStatus = async () =>
    (await f.ctx.app.inject({ method: 'GET', url: `/admin/v1/accounts/${f.ctx.accountId}/whatsapp`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json().channel;

  setUpCloudApiSuite(kind, { fixture: (value) => (f = value) });

  describe('outbound payloads', () => {
    it('send-text-message → type text, to the number, callback data with our id; the answer is the wamid', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      f.simulator.reset();
      const response = await f.send('send-text-message', { customer_phone: phone, text: 'Hi from openmumble' });
      expect(response.statusCode, response.body).toBe(200);
      const { id, message_wa_id } = response.json();
      const [request] = f.simulator.requestsTo(/\/messages$/);
      expect(request.path).toBe(`/${f.ids.phoneNumberId}/messages`);
      expect(request.version).toBe('v23.0');
      expect(request.headers.authorization).toBe('Bearer EAAG-simulated-system-user-token');
      expect(request.json).toEqual({ ...base(phone), type: 'text', text: { preview_url: false, body: 'Hi from openmumble' }, biz_opaque_callback_data: `om:${id}` });
      expect(message_wa_id).toMatch(/^wamid\./);
      const get = await f.ctx.call('GET', api('get-message'), { message_wa_id });
      expect(get.json().message).toMatchObject({ id, status: 'pending', from: f.ids.displayPhoneNumber, to: phone, text: 'Hi from openmumble' });
    });

    it('send-media-message with media_url → a link, with caption (and filename for documents)', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      f.simulator.reset();
      for (const [url, extra] of [
        ['https://cdn.example.com/photo.jpg', {}],
        ['https://cdn.example.com/clip.mp4', {}],
        ['https://cdn.example.com/voice.ogg', {}],
        ['https://cdn.example.com/files/report.pdf', { filename: 'report.pdf' }],
      ] as const) {
        const response = await f.send('send-media-message', { customer_phone: phone, media_url: url, caption: 'See', ...extra });
        expect(response.statusCode, response.body).toBe(200);
      }
      const sent = f.simulator.sentMessages().map(({ biz_opaque_callback_data: _, ...body }) => body);
      expect(sent).toEqual([
        { ...base(phone), type: 'image', image: { link: 'https://cdn.example.com/photo.jpg', caption: 'See' } },
        { ...base(phone), type: 'video', video: { link: 'https://cdn.example.com/clip.mp4', caption: 'See' } },
        { ...base(phone), type: 'audio', audio: { link: 'https://cdn.example.com/voice.ogg' } },
        { ...base(phone), type: 'document', document: { link: 'https://cdn.example.com/files/report.pdf', caption: 'See', filename: 'report.pdf' } },
      ]);
    });

    it('send-media-message with an upload → POST /{phone_number_id}/media first, then the media id', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      f.simulator.reset();
      const { payload, headers } = multipart({ customer_phone: phone, caption: 'Our logo' }, { filename: 'logo.png', contentType: 'image/png', content: PNG });
      const response = await f.ctx.call('POST', api('send-media-message'), payload, headers);
      expect(response.statusCode, response.body).toBe(200);
      const [upload] = f.simulator.requestsTo(/\/media$/);
      expect(upload.path).toBe(`/${f.ids.phoneNumberId}/media`);
      expect(upload.form).toMatchObject({ messaging_product: 'whatsapp', type: 'image/png', file: { type: 'image/png', size: PNG.length } });
      expect((upload.form!.file as { bytes: Buffer }).bytes.equals(PNG)).toBe(true);
      const mediaId = [...f.simulator.media.keys()].at(-1);
      const [send] = f.simulator.sentMessages();
      expect(send).toMatchObject({ ...base(phone), type: 'image', image: { id: mediaId, caption: 'Our logo' } });
    });

    it('create-template → /{waba_id}/message_templates, with the media header sample uploaded by the Resumable Upload API', async () => {
      const sampleUrl = f.simulator.publish('header.png', PNG, 'image/png');
      const response = await f.ctx.call('POST', api('create-template'), {
        name: `order_update_${kind}`,
        language: 'en_US',
        category: 'UTILITY',
        header: { format: 'IMAGE' },
        media_url: sampleUrl,
        body: 'Hi {{1}}, order {{2}} is on its way',
        body_examples: ['Ann', '#42'],
        footer: 'Thanks',
        buttons: [
          { type: 'URL', text: 'Track', url: 'https://shop.example.com/track/{{1}}', example: 'https://shop.example.com/track/42' },
          { type: 'QUICK_REPLY', text: 'Stop' },
        ],
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({ success: true, error: false, message: 'Template created successfully', data: { status: 'PENDING' } });
      const [session] = f.simulator.requestsTo(/\/uploads$/);
      expect(session.path).toBe('/987654321/uploads');
      expect(session.query.get('file_type')).toBe('image/png');
      expect(session.query.get('file_length')).toBe(String(PNG.length));
      const [upload] = f.simulator.requestsTo(/^\/upload:/);
      expect(upload.headers.file_offset).toBe('0');
      expect(upload.body.equals(PNG)).toBe(true);
      const submitted = f.simulator.templates.at(-1)!;
      expect(submitted.wabaId).toBe(f.ids.wabaId);
      expect(submitted.body.name).toBe(`order_update_${kind}`);
      expect(submitted.body.components[0]).toEqual({ type: 'HEADER', format: 'IMAGE', example: { header_handle: [expect.stringMatching(/^4::/)] } });
      expect(submitted.body.components.slice(1)).toEqual([
        { type: 'BODY', text: 'Hi {{1}}, order {{2}} is on its way', example: { body_text: [['Ann', '#42']] } },
        { type: 'FOOTER', text: 'Thanks' },
        {
          type: 'BUTTONS',
          buttons: [
            { type: 'URL', text: 'Track', url: 'https://shop.example.com/track/{{1}}', example: ['https://shop.example.com/track/42'] },
            { type: 'QUICK_REPLY', text: 'Stop' },
          ],
        },
      ]);
    });

    it('send-template → type template with header, body and URL button parameters; no window needed', async () => {
      const name = `shipping_${kind}`;
      const created = await f.ctx.call('POST', api('create-template'), {
        name,
        language: 'en',
        category: 'UTILITY',
        header: { format: 'DOCUMENT' },
        media_url: f.simulator.publish('sample.pdf', Buffer.from('%PDF-1.4'), 'application/pdf'),
        body: 'Order {{1}} for {{2}}',
        body_examples: ['#1', 'Ann'],
        buttons: [{ type: 'URL', text: 'Track', url: 'https://t.example.com/{{1}}', example: 'https://t.example.com/1' }],
      });
      expect(created.statusCode, created.body).toBe(200);
      const metaId = f.simulator.templates.at(-1)!.id;
      const { templateStatusDelivery } = await import('./graph-simulator.js');
      await f.deliver(templateStatusDelivery(f.ids.wabaId, { templateId: metaId, name, language: 'en', event: 'APPROVED' }));
      f.simulator.reset();
      const phone = nextPhone();
      const response = await f.send('send-template-text-variable', {
        customer_phone: phone,
        template_id: created.json().data.id,
        variable: ['#77', 'Ben'],
        button_variables: ['77'],
        media_link: 'https://cdn.example.com/invoice-77.pdf',
        name: 'Ben',
      });
      expect(response.statusCode, response.body).toBe(200);
      const [send] = f.simulator.sentMessages();
      expect(send).toEqual({
        ...base(phone),
        type: 'template',
        biz_opaque_callback_data: `om:${response.json().id}`,
        template: {
          name,
          language: { code: 'en' },
          components: [
            { type: 'header', parameters: [{ type: 'document', document: { link: 'https://cdn.example.com/invoice-77.pdf' } }] },
            { type: 'body', parameters: [{ type: 'text', text: '#77' }, { type: 'text', text: 'Ben' }] },
            { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '77' }] },
          ],
        },
      });
    });
  });

  describe('Graph errors', () => {
    it('131047 → 400 Conversation is closed, message failed with the code', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      f.simulator.failNext({ code: 131047 });
      const response = await f.send('send-text-message', { customer_phone: phone, text: 'too late' });
      expectError(response, 400, 'Conversation is closed (send a template instead)');
      const [failed] = (await f.ctx.call('GET', api('get-conversation'), { customer_phone: phone })).json().messages;
      expect(failed).toMatchObject({ direction: 'outbound', status: 'failed', error_code: 131047, error_title: 'Re-engagement message' });
    });

    it('131047 arriving later as a failed status marks the message failed', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      const { message_wa_id } = (await f.send('send-text-message', { customer_phone: phone, text: 'x' })).json();
      await f.deliver(statusDelivery(f.ids, { wamid: message_wa_id, status: 'failed', recipient: phone, errors: [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message' }] }));
      expect((await f.ctx.call('GET', api('get-message'), { message_wa_id })).json().message).toMatchObject({ status: 'failed', error_code: 131047, error_title: 'Re-engagement message' });
    });

    it.each([130429, 131056])('%i → accepted and pending; a durable job sends it after a backoff', async (code) => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      f.simulator.reset();
      f.simulator.failNext({ code });
      const response = await f.send('send-text-message', { customer_phone: phone, text: 'rate limited' });
      expect(response.statusCode, response.body).toBe(200);
      const { id, message_wa_id } = response.json();
      expect(message_wa_id).toBeNull();
      expect(await messageRow(id)).toMatchObject({ status: 'pending', error_code: code, message_wa_id: null });
      // Not retried from the request, nor before its time.
      expect(f.simulator.sentMessages()).toHaveLength(1);
      expect(await f.runJobs()).toBe(0);
      // Still limited at the first retry: another, longer wait.
      f.simulator.failNext({ code });
      f.ctx.clock.advance(13_000);
      expect(await f.runJobs()).toBe(1);
      expect(f.simulator.sentMessages()).toHaveLength(2);
      expect((await messageRow(id)).status).toBe('pending');
      f.ctx.clock.advance(25_000);
      await f.runJobs();
      const sent = f.simulator.sentMessages();
      expect(sent).toHaveLength(3);
      expect(sent[2]).toEqual(sent[0]);
      const row = await messageRow(id);
      expect(row.message_wa_id).toMatch(/^wamid\./);
      expect(await f.ctx.deps.database.db.selectFrom('jobs').selectAll().where('type', '=', 'whatsapp.send').execute()).toEqual([]);
    });

    it('a rate-limited media upload fails the send (an upload is not queued): never left pending', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      f.simulator.reset();
      f.simulator.failNext({ code: 130429, path: /\/media$/ });
      const { payload, headers } = multipart({ customer_phone: phone }, { filename: 'logo.png', contentType: 'image/png', content: PNG });
      const response = await f.ctx.call('POST', api('send-media-message'), payload, headers);
      expectError(response, 500, 'Failed to send media message.');
      expect(f.simulator.sentMessages()).toHaveLength(0);
      const [failed] = (await f.ctx.call('GET', api('get-conversation'), { customer_phone: phone })).json().messages;
      expect(failed).toMatchObject({ status: 'failed', error_code: 130429 });
    });

    it('other codes → 500, message failed with error_code and error_title', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      f.simulator.failNext({ code: 131026 });
      expectError(await f.send('send-text-message', { customer_phone: phone, text: 'x' }), 500, 'Failed to send text message.');
      const [failed] = (await f.ctx.call('GET', api('get-conversation'), { customer_phone: phone })).json().messages;
      expect(failed).toMatchObject({ status: 'failed', error_code: 131026, error_title: 'Message undeliverable' });
    });

    it('a timeout is sent once, stays pending, and the status webhook (with our id) tells the outcome', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      f.simulator.reset();
      f.simulator.hangNext(/\/messages$/);
      const response = await f.send('send-text-message', { customer_phone: phone, text: 'slow' });
      expectError(response, 500, 'Failed to send text message.');
      expect(f.simulator.sentMessages()).toHaveLength(1);
      const [{ id }] = (await f.ctx.call('GET', api('get-conversation'), { customer_phone: phone })).json().messages;
      expect(await messageRow(id)).toMatchObject({ status: 'pending', message_wa_id: null });
      expect((await messageRow(id)).error_title).toMatch(/outcome is not known/);
      f.ctx.clock.advance(60 * 60_000);
      await f.runJobs();
      expect(f.simulator.sentMessages()).toHaveLength(1);
      // Meta did take it: its status carries our id as biz_opaque_callback_data.
      await f.deliver(statusDelivery(f.ids, { wamid: 'wamid.LATE-ANSWER', status: 'sent', recipient: phone, callbackData: `om:${id}` }));
      expect(await messageRow(id)).toMatchObject({ status: 'sent', message_wa_id: 'wamid.LATE-ANSWER' });
    });

    it('190 → 500, the channel is marked disconnected with the reason, and later sends fail without calling Meta', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      f.simulator.failNext({ code: 190, details: 'Session has expired on Tuesday' });
      expectError(await f.send('send-text-message', { customer_phone: phone, text: 'x' }), 500, 'Failed to send text message.');
      const channel = await channelStatus();
      expect(channel).toMatchObject({ type: 'cloud_api', status: 'disconnected' });
      expect(channel.status_reason).toContain('Session has expired on Tuesday');
      f.simulator.reset();
      expectError(await f.send('send-text-message', { customer_phone: phone, text: 'again' }), 500, 'Failed to send text message.');
      expect(f.simulator.sentMessages()).toHaveLength(0);
      // Inbound keeps flowing while disconnected.
      await f.customerWrites(phone, 'Still here', { type: 'text', text: { body: 'are you there?' } });
      expect((await f.ctx.call('GET', api('get-conversation'), { customer_phone: phone })).json().messages[0].text).toBe('are you there?');
      // Reconnecting with a new token restores sending.
      expect((await f.connect(f.ctx.accountId, f.ids)).statusCode).toBe(200);
      expect((await channelStatus()).status).toBe('connected');
      expect((await f.send('send-text-message', { customer_phone: phone, text: 'back' })).statusCode).toBe(200);
    });
  });

  describe('an unreadable token', () => {
    it('(the secret key changed) refuses sends with the reason, without calling Meta; inbound text still arrives', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      await f.ctx.deps.database.db.updateTable('whatsapp_channels').set({ access_token: 'v1.AAAA.BBBB.CCCC' }).where('account_id', '=', f.ctx.accountId).execute();
      f.simulator.reset();
      expectError(await f.send('send-text-message', { customer_phone: phone, text: 'x' }), 500, 'Failed to send text message.');
      expect(f.simulator.requests).toHaveLength(0);
      const [failed] = (await f.ctx.call('GET', api('get-conversation'), { customer_phone: phone })).json().messages;
      expect(failed.status).toBe('failed');
      expect(failed.error_title).toContain('cannot be decrypted');
      await f.customerWrites(phone, 'Still', { type: 'text', text: { body: 'still here' } });
      expect((await f.ctx.call('GET', api('get-conversation'), { customer_phone: phone })).json().messages[0].text).toBe('still here');
      expect((await f.connect(f.ctx.accountId, f.ids)).statusCode).toBe(200);
    });
  });

  describe('channel selection', () => {
    it('DELETE …/whatsapp puts the account back on the sandbox: sends no longer reach Meta', async () => {
      const phone = nextPhone();
      await f.customerWrites(phone);
      await f.ctx.app.inject({ method: 'DELETE', url: `/admin/v1/accounts/${f.ctx.accountId}/whatsapp`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      f.simulator.reset();
      const response = await f.send('send-text-message', { customer_phone: phone, text: 'sandboxed' });
      expect(response.statusCode, response.body).toBe(200);
      expect(f.simulator.requests).toHaveLength(0);
      expect((await f.connect(f.ctx.accountId, f.ids)).statusCode).toBe(200);
    });

    it('the sandbox endpoints answer only for sandbox accounts', async () => {
      const response = await f.ctx.call('POST', api('sandbox/receive-message'), { customer_phone: nextPhone(), text: 'hi' });
      expectError(response, 404, 'Route not found');
    });
  });
});
