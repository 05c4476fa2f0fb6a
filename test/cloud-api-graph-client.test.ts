/**
 * The Graph API client against our simulator: every outbound shape as it arrives on the wire, every
 * error mapping, and the no-blind-resend rule on timeouts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphClient, GraphRequestError, MediaTooLargeError } from '../src/channels/cloud-api/graph-client.js';
import { mediaMessage, templateMessage, templateSubmission, textMessage } from '../src/channels/cloud-api/payloads.js';
import { createPublicDispatcher } from '../src/net/public-address.js';
import { GraphSimulator } from './graph-simulator.js';

const PNID = '106540352242922';
const TOKEN = 'EAAG-test-token';

let simulator: GraphSimulator;
let client: GraphClient;

beforeAll(async () => {
  simulator = await GraphSimulator.start();
  simulator.validTokens.add(TOKEN);
  client = new GraphClient({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 300 });
});
afterAll(async () => {
  await client.close();
  await simulator.close();
});
beforeEach(() => simulator.reset());

async function failureOf(promise: Promise<unknown>): Promise<GraphRequestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GraphRequestError);
  return error as GraphRequestError;
}

describe('sending messages', () => {
  it('POSTs to /{version}/{phone-number-id}/messages with the bearer token and returns the wamid', async () => {
    const sent = await client.sendMessage(PNID, TOKEN, textMessage('972501234567', 'Hello', { callbackData: 'om:1' }));
    expect(sent.wamid).toMatch(/^wamid\./);
    expect(sent.waId).toBe('972501234567');
    const [request] = simulator.requests;
    expect(request).toMatchObject({ method: 'POST', version: 'v23.0', path: `/${PNID}/messages` });
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.json).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '972501234567',
      type: 'text',
      text: { preview_url: false, body: 'Hello' },
      biz_opaque_callback_data: 'om:1',
    });
  });

  it('media by link and template with parameters arrive as built', async () => {
    await client.sendMessage(PNID, TOKEN, mediaMessage('972501234567', { kind: 'document', source: { link: 'https://x.example/a.pdf' }, caption: 'A', filename: 'a.pdf' }));
    await client.sendMessage(PNID, TOKEN, templateMessage('972501234567', { name: 'order', language: 'en', body: ['1'], buttons: [{ subType: 'url', index: 0, text: 'x' }] }));
    expect(simulator.sentMessages()).toEqual([
      { messaging_product: 'whatsapp', recipient_type: 'individual', to: '972501234567', type: 'document', document: { link: 'https://x.example/a.pdf', caption: 'A', filename: 'a.pdf' } },
      {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '972501234567',
        type: 'template',
        template: {
          name: 'order',
          language: { code: 'en' },
          components: [
            { type: 'body', parameters: [{ type: 'text', text: '1' }] },
            { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'x' }] },
          ],
        },
      },
    ]);
  });

  it('uploads media as multipart (messaging_product, type, file) and sends it by id', async () => {
    const bytes = Buffer.from('%PDF-1.4 test');
    const mediaId = await client.uploadMedia(PNID, TOKEN, { bytes, mimeType: 'application/pdf', filename: 'r.pdf' });
    const [upload] = simulator.requestsTo(/\/media$/);
    expect(upload.path).toBe(`/${PNID}/media`);
    expect(upload.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(upload.form).toMatchObject({ messaging_product: 'whatsapp', type: 'application/pdf', file: { filename: 'r.pdf', type: 'application/pdf', size: bytes.length } });
    expect(simulator.media.get(mediaId)?.bytes.equals(bytes)).toBe(true);
  });
});

describe('templates', () => {
  it('submits to /{waba-id}/message_templates and gets Meta id and PENDING', async () => {
    const answer = await client.createTemplate('555', TOKEN, templateSubmission({ name: 'hi', language: 'en', category: 'UTILITY', body: 'Hi {{1}}', bodyExamples: ['Ann'] }));
    expect(answer).toMatchObject({ status: 'PENDING', category: 'UTILITY' });
    expect(simulator.requestsTo(/message_templates$/)[0].json).toEqual({
      name: 'hi',
      language: 'en',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Hi {{1}}', example: { body_text: [['Ann']] } }],
    });
  });

  it('uploads a header sample through the Resumable Upload API and returns the handle', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const handle = await client.uploadResumable('1234', TOKEN, { bytes, mimeType: 'image/png', filename: 'h.png' });
    expect(handle).toMatch(/^4::/);
    const [session, upload] = simulator.requests;
    expect(session.path).toBe('/1234/uploads');
    expect(Object.fromEntries(session.query)).toEqual({ file_name: 'h.png', file_length: String(bytes.length), file_type: 'image/png' });
    expect(session.headers.authorization).toBe(`OAuth ${TOKEN}`);
    expect(upload.path).toMatch(/^\/upload:/);
    expect(upload.headers.file_offset).toBe('0');
    expect(upload.headers.authorization).toBe(`OAuth ${TOKEN}`);
    expect(upload.body.equals(bytes)).toBe(true);
  });
});

describe('error mapping', () => {
  it('131047 → window_closed, with code, title and details', async () => {
    simulator.failNext({ code: 131047 });
    const error = await failureOf(client.sendMessage(PNID, TOKEN, textMessage('1', 'x')));
    expect(error.failure).toEqual({
      action: 'window_closed',
      code: 131047,
      title: 'Re-engagement message',
      details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    });
    expect(error.graph?.fbtraceId).toMatch(/^A/);
  });

  it('130429 and 131056 → retry_later', async () => {
    for (const code of [130429, 131056]) {
      simulator.failNext({ code });
      expect((await failureOf(client.sendMessage(PNID, TOKEN, textMessage('1', 'x')))).failure).toMatchObject({ action: 'retry_later', code });
    }
  });

  it('190 (and any unknown token) → disconnect with a reason', async () => {
    const error = await failureOf(client.sendMessage(PNID, 'revoked-token', textMessage('1', 'x')));
    expect(error.failure.action).toBe('disconnect');
    expect(error.failure.code).toBe(190);
    expect(error.failure.reason).toMatch(/^access token rejected by WhatsApp \(code 190\)/);
    expect(error.httpStatus).toBe(401);
  });

  it('other codes → fail, keeping code and title', async () => {
    simulator.failNext({ code: 131026 });
    expect((await failureOf(client.sendMessage(PNID, TOKEN, textMessage('1', 'x')))).failure).toMatchObject({ action: 'fail', code: 131026, title: 'Message undeliverable' });
    simulator.failNext({ code: 132001, path: /message_templates$/ });
    expect((await failureOf(client.createTemplate('9', TOKEN, {}))).failure).toMatchObject({ action: 'fail', code: 132001 });
  });
});

describe('no blind resend', () => {
  it('a request that times out is outcome_unknown and sent exactly once', async () => {
    simulator.hangNext(/\/messages$/);
    const error = await failureOf(client.sendMessage(PNID, TOKEN, textMessage('1', 'x')));
    expect(error.failure.action).toBe('outcome_unknown');
    expect(simulator.requestsTo(/\/messages$/)).toHaveLength(1);
  });

  it('a refused connection is known not to have been sent: retry_later', async () => {
    const closed = await GraphSimulator.start();
    const url = closed.url;
    await closed.close();
    const offline = new GraphClient({ baseUrl: url, version: 'v23.0', timeoutMs: 300 });
    const error = await failureOf(offline.sendMessage(PNID, TOKEN, textMessage('1', 'x')));
    expect(error.failure).toMatchObject({ action: 'retry_later', code: null });
    await offline.close();
  });
});

describe('media download', () => {
  it('resolves the media id, then downloads with the bearer token', async () => {
    const id = simulator.addMedia(Buffer.from('JPEGDATA'), 'image/jpeg');
    const info = await client.getMediaInfo(id, TOKEN, PNID);
    expect(info).toMatchObject({ mimeType: 'image/jpeg', fileSize: 8 });
    expect(simulator.requests[0].query.get('phone_number_id')).toBe(PNID);
    const media = await client.downloadMedia(info.url, TOKEN, { maxBytes: 1024 });
    expect(media.bytes.toString()).toBe('JPEGDATA');
    expect(media.mimeType).toBe('image/jpeg');
    expect(simulator.requests[1].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('refuses media over the size bound', async () => {
    const id = simulator.addMedia(Buffer.alloc(2048), 'video/mp4');
    const info = await client.getMediaInfo(id, TOKEN);
    await expect(client.downloadMedia(info.url, TOKEN, { maxBytes: 1024 })).rejects.toBeInstanceOf(MediaTooLargeError);
  });

  it('never sends the token to another host without the public-address guard, nor over plain http', async () => {
    await expect(client.downloadMedia('https://lookaside.example.invalid/x', TOKEN, { maxBytes: 10 })).rejects.toThrow(/public-address guard/);
    await expect(client.downloadMedia('http://lookaside.example.invalid/x', TOKEN, { maxBytes: 10 })).rejects.toThrow(/non-https/);
    expect(simulator.requests).toHaveLength(0);
  });

  it('a media URL on another host goes through the public-address guard: a private address is refused before any connection', async () => {
    const guard = createPublicDispatcher();
    for (const url of ['https://127.0.0.1:9/media', 'https://10.1.2.3/media', 'https://[::1]/media', 'https://169.254.169.254/latest']) {
      const error = await failureOf(client.downloadMedia(url, TOKEN, { maxBytes: 10, publicDispatcher: guard }));
      expect(error.failure).toMatchObject({ action: 'fail' });
      expect(error.failure.title).toMatch(/non-public address/);
    }
    await guard.close();
  });
});
