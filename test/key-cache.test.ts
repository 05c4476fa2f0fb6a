import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_COLUMNS } from '../src/db/migrations/0014_auth_epoch.js';
import { authEpoch } from '../src/modules/accounts/accounts.repository.js';
import { UNLIMITED, api, expectError } from './api.js';
import { createScratchDatabase, createTestContext, describeEachDatabase, postgresUrl, until, type ScratchDatabase, type TestContext } from './helpers.js';
import { startInstances, type ServerProcess } from './processes.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

/**
 * API keys are held in memory between requests (src/modules/accounts/key-cache.ts), valid while the
 * authentication epoch stands: every change that could make a held key wrong must move it, and a
 * change must be in force from the next request.
 */
describeEachDatabase('API keys held in memory', (kind) => {
  let ctx: TestContext;
  const admin = (method: 'POST' | 'DELETE' | 'PATCH', url: string, payload?: Record<string, unknown>) =>
    ctx.app.inject({ method, url: `/admin/v1${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, ...(payload && { payload }) });
  const asKey = (key: string) => ctx.app.inject({ method: 'GET', url: api('get-labels'), headers: { 'mumble-api-key': key } });
  const epoch = async () => Number(await authEpoch(ctx.deps.database.db));
  const keyIdOf = async (accountId: string) =>
    (await ctx.deps.database.db.selectFrom('api_keys').select('id').where('account_id', '=', accountId).where('revoked_at', 'is', null).executeTakeFirstOrThrow()).id;

  beforeAll(async () => {
    ctx = await createTestContext(kind, { ...UNLIMITED, OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN });
  });
  afterAll(() => ctx?.close());

  it('watches every column of accounts but the customer count', async () => {
    const columns =
      kind === 'sqlite'
        ? (await sql<{ name: string }>`select name from pragma_table_info('accounts')`.execute(ctx.deps.database.db)).rows
        : (await sql<{ name: string }>`select column_name as name from information_schema.columns where table_name = 'accounts' and table_schema = current_schema()`.execute(ctx.deps.database.db)).rows;
    expect(columns.map((column) => column.name).sort()).toEqual([...ACCOUNT_COLUMNS, 'customers_count'].sort());
  });

  it('moves with a revocation, an account changed or deleted; not with a key used or a customer added', async () => {
    const { accountId, apiKey } = await ctx.otherAccount();
    let before = await epoch();
    // Using a key records it (last_used_at) and adding a customer moves customers_count: neither counts.
    expect((await asKey(apiKey)).statusCode).toBe(200);
    await ctx.app.inject({ method: 'POST', url: api('add-new-customer'), headers: { 'mumble-api-key': apiKey }, payload: { customer_phone: '972501114001' } });
    await ctx.deps.database.db.updateTable('api_keys').set({ last_used_at: '2026-06-01T12:00:00.000Z' }).where('account_id', '=', accountId).execute();
    expect(await epoch()).toBe(before);

    expect((await admin('PATCH', `/accounts/${accountId}`, { name: 'Renamed' })).statusCode).toBe(200);
    expect(await epoch()).toBeGreaterThan(before);
    before = await epoch();
    expect((await admin('DELETE', `/api-keys/${await keyIdOf(accountId)}`)).statusCode).toBe(200);
    expect(await epoch()).toBeGreaterThan(before);
    before = await epoch();
    expect((await admin('DELETE', `/accounts/${accountId}`)).statusCode).toBe(200);
    expect(await epoch()).toBeGreaterThan(before);
  });

  it('refuses a revoked key and shows a changed account from the next request', async () => {
    const { accountId, apiKey } = await ctx.otherAccount();
    const send = () =>
      ctx.app.inject({ method: 'POST', url: api('send-text-message'), headers: { 'mumble-api-key': apiKey }, payload: { customer_phone: '972501114002', text: 'hello' } });
    await ctx.app.inject({ method: 'POST', url: api('add-new-customer'), headers: { 'mumble-api-key': apiKey }, payload: { customer_phone: '972501114002' } });
    expect((await asKey(apiKey)).statusCode).toBe(200);
    expect((await asKey(apiKey)).statusCode).toBe(200);

    // The account's switch, read from the held account.
    expect((await admin('PATCH', `/accounts/${accountId}`, { messaging_enabled: false })).statusCode).toBe(200);
    expect((await send()).statusCode).toBe(401);
    expect((await admin('PATCH', `/accounts/${accountId}`, { messaging_enabled: true })).statusCode).not.toBe(401);

    expect((await admin('DELETE', `/api-keys/${await keyIdOf(accountId)}`)).statusCode).toBe(200);
    expectError(await asKey(apiKey), 401, 'Unauthorized');
  });

  it('refuses a key revoked by another process (the CLI) once it has been told', async () => {
    const { accountId, apiKey } = await ctx.otherAccount();
    expect((await asKey(apiKey)).statusCode).toBe(200);
    // Another connection, as the CLI's: no call of this process's code knows of it.
    const other = ctx.testDatabase.reopen();
    try {
      await other.db.updateTable('api_keys').set({ revoked_at: '2026-06-01T12:00:00.000Z' }).where('account_id', '=', accountId).execute();
    } finally {
      await other.close();
    }
    if (kind === 'sqlite') {
      // SQLite: the epoch is read on every request, so at once.
      expectError(await asKey(apiKey), 401, 'Unauthorized');
    } else {
      // PostgreSQL: as soon as the notification arrives.
      await until(async () => (await asKey(apiKey)).statusCode === 401, 'the revocation to be heard', { limitMs: 2_000, everyMs: 1 });
    }
  });

  it.runIf(kind === 'postgres')('reads keys on every request while the listening connection is down, and misses no change made meanwhile', async () => {
    const { accountId, apiKey } = await ctx.otherAccount();
    expect((await asKey(apiKey)).statusCode).toBe(200);
    await until(() => ctx.deps.keyCache.listenerProcessId() !== undefined, 'the key cache to listen');
    const listener = ctx.deps.keyCache.listenerProcessId()!;
    await sql`select pg_terminate_backend(${listener})`.execute(ctx.deps.database.db);
    await until(() => ctx.deps.keyCache.listenerProcessId() !== listener, 'the key cache to notice');
    // Revoked while this process does not listen: no notification will ever tell it.
    await ctx.deps.database.db.updateTable('api_keys').set({ revoked_at: '2026-06-01T12:00:00.000Z' }).where('account_id', '=', accountId).execute();
    expectError(await asKey(apiKey), 401, 'Unauthorized');
    await until(() => ctx.deps.keyCache.listenerProcessId() !== undefined, 'the key cache to listen again');
    expectError(await asKey(apiKey), 401, 'Unauthorized');
  });
});

/**
 * Two server processes on one PostgreSQL: a key revoked (or an account deleted) through one is refused
 * by the other from the next request, though neither reads the key per request.
 */
describe.skipIf(!postgresUrl)('two instances on PostgreSQL: a revocation is in force on both at once', () => {
  let database: ScratchDatabase;
  let instances: ServerProcess[] = [];
  const API_KEY = `om_live_${'keycachetest'.repeat(4)}`;
  const admin = async (instance: ServerProcess, method: string, path: string, body?: unknown) => {
    const reply = await fetch(`${instance.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: reply.status, json: (await reply.json()) as Record<string, any> };
  };
  const getLabels = async (instance: ServerProcess, key: string) => (await fetch(`${instance.url}/mumbleapi/get-labels`, { headers: { 'mumble-api-key': key } })).status;

  beforeAll(async () => {
    database = await createScratchDatabase('postgres');
    const env = { DATABASE_URL: database.url, OPENMUMBLE_API_KEY: API_KEY, OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN, RATE_LIMIT_PER_KEY: '100000', RATE_LIMIT_PER_IP: '100000', REDIS_URL: '' };
    instances = await startInstances(database, env);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await database?.drop();
  });

  it('refuses on B the very next request after A revoked the key, every time', async () => {
    const [a, b] = instances;
    const accountId = (await admin(a, 'GET', '/accounts')).json.accounts[0].id as string;
    for (let round = 0; round < 15; round++) {
      const created = await admin(a, 'POST', `/accounts/${accountId}/api-keys`, { name: `round ${round}` });
      const { id, key } = created.json.api_key as { id: string; key: string };
      // B holds the key (its listener is up by now: the first requests of a process read the key).
      await until(async () => (await getLabels(b, key)) === 200, 'B to admit the key');
      expect(await getLabels(b, key)).toBe(200);
      expect((await admin(a, 'DELETE', `/api-keys/${id}`)).status).toBe(200);
      expect(await getLabels(b, key), `round ${round}`).toBe(401);
      expect(await getLabels(a, key)).toBe(401);
    }
  });

  it('refuses on B the next request after A deleted the account', async () => {
    const [a, b] = instances;
    const account = (await admin(a, 'POST', '/accounts', { name: 'Doomed' })).json.account as { id: string };
    const { key } = (await admin(a, 'POST', `/accounts/${account.id}/api-keys`, { name: 'doomed' })).json.api_key as { key: string };
    expect(await getLabels(b, key)).toBe(200);
    expect(await getLabels(b, key)).toBe(200);
    expect((await admin(a, 'DELETE', `/accounts/${account.id}`)).status).toBe(200);
    expect(await getLabels(b, key)).toBe(401);
  });
});
