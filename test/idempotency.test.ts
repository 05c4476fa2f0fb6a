import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createDeps } from '../src/compose.js';
import { createLogger } from '../src/deps.js';
import { ApiError } from '../src/errors.js';
import { registerBodyParsers } from '../src/http/body.js';
import { defineEndpoint, registerEndpoints, type Endpoint } from '../src/http/endpoint.js';
import { idempotency } from '../src/http/idempotency.js';
import { createApiKey } from '../src/modules/accounts/accounts.service.js';
import { createTestContext, describeEachDatabase, testConfig, until, type DatabaseKind, type TestContext } from './helpers.js';

const api = (endpoint: string) => `/mumbleapi/${endpoint}`;
const HOUR = 3_600_000;

/** Looking for a request in flight: often, and no longer than 10 s. */
const IN_FLIGHT = { limitMs: 10_000, everyMs: 5 };

describeEachDatabase('idempotency keys', (kind: DatabaseKind) => {
  let ctx: TestContext;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    ctx = await createTestContext(kind);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await ctx.close();
  });

  const withKey = (key: string) => ({ 'idempotency-key': key });
  const addCustomer = (payload: Record<string, unknown>, key?: string) => ctx.call('POST', api('add-new-customer'), payload, key === undefined ? {} : withKey(key));
  const customerCount = async () => Number((await ctx.deps.database.db.selectFrom('customers').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('replays the first reply for the same key and parameters, and does nothing again', async () => {
    const first = await addCustomer({ customer_phone: '972501234567', name: 'A' }, 'key-1');
    expect(first.statusCode).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await addCustomer({ name: 'A', customer_phone: '972501234567' }, 'key-1');
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toMatch(/^application\/json/);
    expect(again.json()).toEqual(first.json());
    expect(await customerCount()).toBe(1);
    // Without the key the same request runs, and is refused: the replay above did not run it.
    expect((await addCustomer({ customer_phone: '972501234567', name: 'A' })).json()).toEqual({ error: true, message: 'Customer already exists' });
  });

  it('answers 422 when the key comes back with other parameters or on another endpoint', async () => {
    await addCustomer({ customer_phone: '972501234567', name: 'A' }, 'key-2');
    const changed = await addCustomer({ customer_phone: '972501234567', name: 'B' }, 'key-2');
    expect(changed.statusCode).toBe(422);
    expect(changed.json()).toEqual({ error: true, message: 'Idempotency key reused with different parameters' });
    const elsewhere = await ctx.call('POST', api('add-new-label'), { label_name: 'vip' }, withKey('key-2'));
    expect(elsewhere.statusCode).toBe(422);
  });

  it('does not store validation errors or other refusals: a corrected retry runs', async () => {
    const invalid = await addCustomer({ name: 'No phone' }, 'key-3');
    expect(invalid.json()).toEqual({ error: true, message: 'Phone number is required.' });
    const corrected = await addCustomer({ customer_phone: '972501234567', name: 'No phone' }, 'key-3');
    expect(corrected.statusCode).toBe(200);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();

    const exists = await addCustomer({ customer_phone: '972501234567' }, 'key-4');
    expect(exists.statusCode).toBe(409);
    await ctx.call('DELETE', api('delete-customer'), { customer_phone: '972501234567' });
    const retried = await addCustomer({ customer_phone: '972501234567' }, 'key-4');
    expect(retried.statusCode).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });

  it('refuses a key that is empty or longer than 255 characters', async () => {
    for (const key of ['', 'x'.repeat(256)]) {
      const response = await addCustomer({ customer_phone: '972501234567' }, key);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ error: true, message: 'Idempotency-Key must be between 1 and 255 characters' });
    }
    expect(await customerCount()).toBe(0);
    expect((await addCustomer({ customer_phone: '972501234567' }, 'k'.repeat(255))).statusCode).toBe(200);
  });

  it('scopes keys to the API key, keeps them 24 hours, and ignores them on GET and DELETE', async () => {
    await ctx.call('POST', api('add-new-label'), { label_name: 'vip' }, withKey('shared'));
    const secondKey = await createApiKey(ctx.deps, ctx.accountId, 'second');
    const viaSecond = await ctx.app.inject({ method: 'POST', url: api('add-new-label'), headers: { 'mumble-api-key': secondKey.key, ...withKey('shared') }, payload: { label_name: 'vip' } });
    expect(viaSecond.json()).toEqual({ error: true, message: 'Label already exists' });

    ctx.clock.advance(24 * HOUR - 1);
    expect((await ctx.call('POST', api('add-new-label'), { label_name: 'vip' }, withKey('shared'))).headers['idempotent-replayed']).toBe('true');
    ctx.clock.advance(1);
    expect((await ctx.call('POST', api('add-new-label'), { label_name: 'vip' }, withKey('shared'))).json()).toEqual({ error: true, message: 'Label already exists' });

    await addCustomer({ customer_phone: '972501234567' });
    const deleted = await ctx.call('DELETE', api('delete-customer'), { customer_phone: '972501234567' }, withKey('del'));
    expect(deleted.statusCode).toBe(200);
    const get = await ctx.call('GET', api('get-labels'), undefined, withKey('get'));
    expect(get.headers['idempotent-replayed']).toBeUndefined();
    const rows = await ctx.deps.database.db.selectFrom('idempotency_keys').select('key').execute();
    // 'shared' ran again after expiring and was refused (released); GET and DELETE stored nothing.
    expect(rows.map((row) => row.key)).toEqual([]);
  });

  it('answers 409 while the first request runs, releases the key after a 5xx, and frees an abandoned one after 5 minutes', async () => {
    let release!: () => void;
    let gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    let fail = false;
    const slow = defineEndpoint({
      method: 'POST',
      path: '/mumbleapi/slow-thing',
      tag: 'Test',
      summary: 'waits for the test',
      input: z.object({ n: z.number() }),
      invalidInput: 'Invalid n',
      output: z.object({}),
      errors: [],
      handler: async ({ n }) => {
        runs += 1;
        await gate;
        if (fail) throw new Error('boom');
        return { n, runs };
      },
    });
    const app = Fastify();
    closers.push(() => app.close());
    registerBodyParsers(app);
    app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
      const status = error instanceof ApiError ? error.statusCode : 500;
      return reply.status(status).send({ error: true, message: status === 500 ? 'An unexpected error occurred' : error.message });
    });
    registerEndpoints(app, [slow as Endpoint], {
      deps: ctx.deps,
      onRequest: async (request) => {
        request.apiKeyId = 'key-id';
      },
      aroundHandler: idempotency(ctx.deps),
    });
    const post = (n: number) => app.inject({ method: 'POST', url: '/mumbleapi/slow-thing', headers: withKey('flight'), payload: { n } });

    const first = post(1);
    await until(() => runs === 1, 'the first request to start', IN_FLIGHT);
    const concurrent = await post(1);
    expect(concurrent.statusCode).toBe(409);
    expect(concurrent.json()).toEqual({ error: true, message: 'Request in progress' });
    expect((await post(2)).statusCode).toBe(422);
    release();
    expect((await first).json()).toEqual({ success: true, n: 1, runs: 1 });
    const replay = await post(1);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual({ success: true, n: 1, runs: 1 });
    expect(runs).toBe(1);

    // A 5xx releases the key: the retry runs.
    fail = true;
    const failing = app.inject({ method: 'POST', url: '/mumbleapi/slow-thing', headers: withKey('boom'), payload: { n: 3 } });
    expect((await failing).statusCode).toBe(500);
    fail = false;
    const retry = await app.inject({ method: 'POST', url: '/mumbleapi/slow-thing', headers: withKey('boom'), payload: { n: 3 } });
    expect(retry.json()).toEqual({ success: true, n: 3, runs: 3 });

    // A reservation whose request never answered (its process died) lapses after 5 minutes.
    gate = new Promise<void>((resolve) => (release = resolve));
    const stuck = app.inject({ method: 'POST', url: '/mumbleapi/slow-thing', headers: withKey('stuck'), payload: { n: 4 } });
    await until(() => runs === 4, 'the stuck request to start', IN_FLIGHT);
    const stuckRetry = () => app.inject({ method: 'POST', url: '/mumbleapi/slow-thing', headers: withKey('stuck'), payload: { n: 4 } });
    expect((await stuckRetry()).statusCode).toBe(409);
    ctx.clock.advance(5 * 60 * 1000);
    const takeover = stuckRetry();
    await until(() => runs === 5, 'the takeover to run', IN_FLIGHT);
    release();
    expect((await takeover).statusCode).toBe(200);
    await stuck;
  });

  if (kind === 'postgres') {
    it('holds across two instances on one database: replay, in-flight 409, mismatch 422', async () => {
      const database = ctx.testDatabase.reopen();
      const deps = createDeps(testConfig({ DATABASE_URL: ctx.testDatabase.url }), { database, clock: ctx.clock, logger: createLogger('silent') });
      const second: FastifyInstance = await buildApp(deps);
      closers.push(async () => {
        await second.close();
        await database.close();
      });
      const onSecond = (payload: unknown, key: string) =>
        second.inject({ method: 'POST', url: api('add-new-customer'), headers: { 'mumble-api-key': ctx.apiKey, ...withKey(key) }, payload: payload as Record<string, unknown> });

      const first = await addCustomer({ customer_phone: '972501234567' }, 'two-1');
      const replay = await onSecond({ customer_phone: '972501234567' }, 'two-1');
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json()).toEqual(first.json());
      expect((await onSecond({ customer_phone: '972501234568' }, 'two-1')).statusCode).toBe(422);

      // Hold the account's lock so the first instance's request waits inside its handler.
      const blocker = ctx.testDatabase.reopen();
      closers.push(() => blocker.close());
      let unblock!: () => void;
      const blocked = new Promise<void>((resolve) => (unblock = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holding = blocker.db.transaction().execute(async (trx) => {
        await trx.selectFrom('accounts').select('id').where('id', '=', ctx.accountId).forUpdate().execute();
        locked();
        await blocked;
      });
      await isLocked;
      const running = addCustomer({ customer_phone: '972509999999' }, 'two-2');
      await until(async () => (await ctx.deps.database.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'two-2').executeTakeFirst()) !== undefined, 'the reservation', IN_FLIGHT);
      const inFlight = await onSecond({ customer_phone: '972509999999' }, 'two-2');
      expect(inFlight.statusCode).toBe(409);
      expect(inFlight.json()).toEqual({ error: true, message: 'Request in progress' });
      unblock();
      await holding;
      expect((await running).statusCode).toBe(200);
      const after = await onSecond({ customer_phone: '972509999999' }, 'two-2');
      expect(after.headers['idempotent-replayed']).toBe('true');
      expect(await customerCount()).toBe(2);
    });
  }
});
