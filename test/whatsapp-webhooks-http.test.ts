/**
 * The webhook endpoint itself: the verification handshake, the signature check over the raw body
 * before anything is parsed or stored, the size bound, and durable deduplicated storage with a job.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WEBHOOK_JOB } from '../src/modules/whatsapp/whatsapp.inbox.js';
import { inboundDelivery, metaSignature, statusDelivery } from './graph-simulator.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';

const APP_SECRET = 'meta-app-secret-for-tests';
const VERIFY_TOKEN = 'verify-token-for-tests';
const IDS = { phoneNumberId: '106540352242922' };

describeEachDatabase('WhatsApp webhook endpoint', (kind) => {
  let ctx: TestContext;

  const post = (raw: string, headers: Record<string, string> = {}) =>
    ctx.app.inject({ method: 'POST', url: '/webhooks/whatsapp', headers: { 'content-type': 'application/json', ...headers }, payload: raw });
  const signed = (raw: string, headers: Record<string, string> = {}) => post(raw, { 'x-hub-signature-256': metaSignature(raw, APP_SECRET), ...headers });
  const inbox = () => ctx.deps.database.db.selectFrom('whatsapp_webhook_inbox').selectAll().orderBy('received_at').execute();
  const jobs = () => ctx.deps.database.db.selectFrom('jobs').selectAll().where('type', '=', WEBHOOK_JOB).orderBy('id').execute();

  beforeAll(async () => {
    ctx = await createTestContext(kind, { WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN });
  });
  afterAll(async () => {
    await ctx.close();
  });
  beforeEach(async () => {
    await ctx.deps.database.db.deleteFrom('whatsapp_webhook_inbox').execute();
    await ctx.deps.database.db.deleteFrom('jobs').execute();
  });

  describe('GET: the subscription handshake', () => {
    it('answers hub.challenge as plain text when mode and token match', async () => {
      const response = await ctx.app.inject({
        method: 'GET',
        url: `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
      });
      expect(response.statusCode).toBe(200);
      expect(response.body).toBe('1158201444');
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
    });

    it.each([
      ['a wrong token', `hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`],
      ['a wrong mode', `hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`],
      ['no token', `hub.mode=subscribe&hub.challenge=1`],
      ['no challenge', `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}`],
      ['nothing', ''],
    ])('403 for %s', async (_name, query) => {
      const response = await ctx.app.inject({ method: 'GET', url: `/webhooks/whatsapp?${query}` });
      expect(response.statusCode).toBe(403);
    });

    it('needs no API key and is not under /mumbleapi', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/mumbleapi/webhooks/whatsapp' });
      expect(response.statusCode).toBe(404);
    });
  });

  describe('POST: signature first', () => {
    const raw = JSON.stringify(inboundDelivery(IDS, { phone: '972501234567', name: 'Dana' }, { type: 'text', text: { body: 'hi' } }).payload);

    it.each([
      ['missing', {}],
      ['empty', { 'x-hub-signature-256': '' }],
      ['not sha256=', { 'x-hub-signature-256': 'sha1=abcdef' }],
      ['of another secret', { 'x-hub-signature-256': metaSignature(raw, 'other-secret') }],
      ['of another body', { 'x-hub-signature-256': metaSignature(`${raw} `, APP_SECRET) }],
      ['truncated', { 'x-hub-signature-256': metaSignature(raw, APP_SECRET).slice(0, 40) }],
    ])('a %s signature → 401 and nothing stored', async (_name, headers) => {
      const response = await post(raw, headers as Record<string, string>);
      expect(response.statusCode).toBe(401);
      expect(await inbox()).toEqual([]);
      expect(await jobs()).toEqual([]);
    });

    it('checks the raw bytes: the same JSON re-serialized with other spacing is refused', async () => {
      const spaced = JSON.stringify(JSON.parse(raw), null, 2);
      const response = await post(spaced, { 'x-hub-signature-256': metaSignature(raw, APP_SECRET) });
      expect(response.statusCode).toBe(401);
    });

    it('a bad signature on malformed JSON is 401, not 400 (nothing is parsed before the check)', async () => {
      const response = await post('{not json', { 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) });
      expect(response.statusCode).toBe(401);
    });

    it('a valid signature on a body that is not JSON → 400, nothing stored', async () => {
      const response = await signed('{not json');
      expect(response.statusCode).toBe(400);
      expect(await inbox()).toEqual([]);
    });

    it('accepts any content type Meta might send (the bytes are what is signed)', async () => {
      const response = await signed(raw, { 'content-type': 'application/json; charset=UTF-8' });
      expect(response.statusCode).toBe(200);
    });

    it('accepts bodies up to 3 MB and refuses larger ones', async () => {
      const filler = 'x'.repeat(2.9 * 1024 * 1024);
      const big = JSON.stringify({ ...JSON.parse(raw), filler });
      expect((await signed(big)).statusCode).toBe(200);
      const tooBig = JSON.stringify({ ...JSON.parse(raw), filler: 'x'.repeat(3 * 1024 * 1024) });
      expect((await signed(tooBig)).statusCode).toBe(413);
    });
  });

  describe('POST: durable, deduplicated storage', () => {
    it('stores the raw body and enqueues one job, then answers 200', async () => {
      const { payload } = inboundDelivery(IDS, { phone: '972501234567', name: 'Dana' }, { type: 'text', text: { body: 'hello' } });
      const raw = JSON.stringify(payload);
      const response = await signed(raw);
      expect(response.statusCode).toBe(200);
      const [row, ...others] = await inbox();
      expect(others).toEqual([]);
      expect(row.body).toBe(raw);
      expect(row.processed_at).toBeNull();
      const [job] = await jobs();
      expect(JSON.parse(job.payload)).toEqual({ inboxId: row.id });
      expect(job.group_key).toBe(`whatsapp:${IDS.phoneNumberId}:972501234567`);
    });

    it('the same body delivered again is stored once and answered 200', async () => {
      const raw = JSON.stringify(statusDelivery(IDS, { wamid: 'wamid.X', status: 'read', recipient: '972501234567', timestamp: 1 }));
      expect((await signed(raw)).statusCode).toBe(200);
      expect((await signed(raw)).statusCode).toBe(200);
      expect(await inbox()).toHaveLength(1);
      expect(await jobs()).toHaveLength(1);
    });

    it('deliveries arriving together (stored in one transaction on SQLite) each get their own answer: one row and one job per distinct body', async () => {
      const bodies = Array.from({ length: 12 }, (_, n) => JSON.stringify(statusDelivery(IDS, { wamid: `wamid.B${n}`, status: 'read', recipient: '972501234567', timestamp: n })));
      // The first body three times over and the second twice, all in flight at once.
      const sent = [...bodies, bodies[0], bodies[1], bodies[0]];
      const responses = await Promise.all(sent.map((raw) => signed(raw)));
      expect(responses.map((response) => response.statusCode)).toEqual(sent.map(() => 200));
      const rows = await inbox();
      expect(rows.map((row) => row.body).sort()).toEqual([...bodies].sort());
      expect((await jobs()).map((job) => JSON.parse(job.payload).inboxId).sort()).toEqual(rows.map((row) => row.id).sort());
    });

    it('when the store fails, every delivery in flight is refused (500, so Meta retries) and none is acknowledged', async () => {
      const db = ctx.deps.database.db;
      const failing = Object.create(db, { transaction: { value: () => ({ execute: () => Promise.reject(new Error('disk I/O error')) }) } });
      ctx.deps.database.db = failing;
      try {
        const bodies = Array.from({ length: 5 }, (_, n) => JSON.stringify(statusDelivery(IDS, { wamid: `wamid.F${n}`, status: 'read', recipient: '1', timestamp: n })));
        const responses = await Promise.all(bodies.map((raw) => signed(raw)));
        expect(responses.map((response) => response.statusCode)).toEqual(bodies.map(() => 500));
      } finally {
        ctx.deps.database.db = db;
      }
      expect(await inbox()).toEqual([]);
    });

    it('different deliveries are stored apart', async () => {
      for (const status of ['sent', 'delivered', 'read'] as const) {
        const response = await signed(JSON.stringify(statusDelivery(IDS, { wamid: 'wamid.Y', status, recipient: '1', timestamp: 1 })));
        expect(response.statusCode).toBe(200);
      }
      expect(await inbox()).toHaveLength(3);
    });
  });
});

describe('WhatsApp webhook endpoint without configuration', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext('sqlite');
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('GET is 403 without a verify token configured', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=&hub.challenge=1' });
    expect(response.statusCode).toBe(403);
  });

  it('POST is 503 without an app secret, so Meta retries later; nothing stored', async () => {
    const response = await ctx.app.inject({ method: 'POST', url: '/webhooks/whatsapp', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(response.statusCode).toBe(503);
    expect(await ctx.deps.database.db.selectFrom('whatsapp_webhook_inbox').selectAll().execute()).toEqual([]);
  });
});
