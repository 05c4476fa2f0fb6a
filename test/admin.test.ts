import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UNLIMITED, api, expectError } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

type Method = 'GET' | 'POST' | 'DELETE';

/** The contract's envelope and the 201 a create answers. */
function expectCreated(response: LightMyRequestResponse): Record<string, any> {
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

describeEachDatabase('admin API', (kind) => {
  describe('when OPENMUMBLE_ADMIN_TOKEN is unset', () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext(kind);
    });
    afterAll(async () => {
      await ctx.close();
    });

    it.each([
      ['GET', '/admin/v1/accounts'],
      ['POST', '/admin/v1/accounts'],
      ['POST', `/admin/v1/accounts/x/api-keys`],
      ['DELETE', '/admin/v1/api-keys/x'],
      ['GET', '/admin/v1/accounts/x/agents'],
    ] as const)('%s %s is not a route', async (method, url) => {
      const response = await ctx.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { name: 'x' } });
      expectError(response, 404, 'Route not found');
    });
  });

  describe('when OPENMUMBLE_ADMIN_TOKEN is set', () => {
    let ctx: TestContext;
    const admin = (method: Method, url: string, payload?: Record<string, unknown>, authorization = `Bearer ${ADMIN_TOKEN}`) =>
      ctx.app.inject({ method, url: `/admin/v1${url}`, headers: { authorization }, ...(payload && { payload }) });
    const newAccount = async (name = 'Acme') => expectCreated(await admin('POST', '/accounts', { name })).account as { id: string; name: string };
    const newKey = async (accountId: string, name = 'ci') =>
      expectCreated(await admin('POST', `/accounts/${accountId}/api-keys`, { name })).api_key as { id: string; key: string; name: string };
    const mumble = (key: string, endpoint: string) => ctx.app.inject({ method: 'GET', url: api(endpoint), headers: { 'mumble-api-key': key } });

    beforeAll(async () => {
      ctx = await createTestContext(kind, { ...UNLIMITED, OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN });
    });
    afterAll(async () => {
      await ctx.close();
    });

    describe('authorization', () => {
      it.each([
        ['missing', undefined],
        ['another token', 'Bearer not-the-admin-token-at-all'],
        ['the token with a suffix', `Bearer ${ADMIN_TOKEN}x`],
        ['a prefix of the token', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
        ['the token without a scheme', ADMIN_TOKEN],
        ['another scheme', `Basic ${ADMIN_TOKEN}`],
        ['an empty bearer', 'Bearer '],
        ['an API key', `Bearer ${'om_live_'.padEnd(51, 'x')}`],
      ])('answers 401 "Unauthorized" for %s and does nothing', async (_case, authorization) => {
        const before = (await admin('GET', '/accounts')).json().accounts.length;
        const response = await ctx.app.inject({
          method: 'POST',
          url: '/admin/v1/accounts',
          headers: authorization === undefined ? {} : { authorization },
          payload: { name: 'Intruder' },
        });
        expectError(response, 401, 'Unauthorized');
        expect((await admin('GET', '/accounts')).json().accounts).toHaveLength(before);
      });

      it("refuses the account's API key in place of the admin token", async () => {
        const response = await ctx.app.inject({ method: 'GET', url: '/admin/v1/accounts', headers: { 'mumble-api-key': ctx.apiKey } });
        expectError(response, 401, 'Unauthorized');
      });

      it('takes the scheme name in any case', async () => {
        expect((await admin('GET', '/accounts', undefined, `bearer ${ADMIN_TOKEN}`)).statusCode).toBe(200);
      });
    });

    describe('accounts', () => {
      it('creates an account: 201 {account: {id, name}}, then lists it', async () => {
        const body = expectCreated(await admin('POST', '/accounts', { name: 'Acme Ltd' }));
        expect(body.account).toMatchObject({ id: expect.any(String), name: 'Acme Ltd' });
        const list = await admin('GET', '/accounts');
        expect(list.statusCode).toBe(200);
        expect(list.json().accounts).toContainEqual(expect.objectContaining({ id: body.account.id, name: 'Acme Ltd' }));
      });

      it.each<[string, Record<string, unknown> | undefined]>([
        ['no body', undefined],
        ['no name', {}],
        ['a blank name', { name: '  ' }],
        ['a number name', { name: 5 }],
      ])('answers 400 for %s', async (_case, payload) => {
        const response = await admin('POST', '/accounts', payload);
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual({ error: true, message: expect.any(String) });
      });
    });

    describe('API keys', () => {
      it('creates a key: 201 {api_key: {id, key, name}}, om_ and at least 32 random characters, usable at once', async () => {
        const account = await newAccount();
        const key = await newKey(account.id, 'zapier');
        expect(key).toMatchObject({ id: expect.any(String), name: 'zapier' });
        expect(key.key).toMatch(/^om_[A-Za-z0-9_-]+$/);
        expect(key.key.replace(/^om_(live_)?/, '').length).toBeGreaterThanOrEqual(32);
        expect((await newKey(account.id)).key).not.toBe(key.key);
        expect((await mumble(key.key, 'get-labels')).statusCode).toBe(200);
      });

      it('lists keys without the key or its hash', async () => {
        const account = await newAccount();
        const key = await newKey(account.id, 'listed');
        const response = await admin('GET', `/accounts/${account.id}/api-keys`);
        expect(response.statusCode).toBe(200);
        const { api_keys: keys } = response.json();
        expect(keys).toEqual([expect.objectContaining({ id: key.id, name: 'listed' })]);
        expect(keys[0]).not.toHaveProperty('key');
        expect(keys[0]).not.toHaveProperty('key_hash');
        expect(response.body).not.toContain(key.key);
        expect(response.body).not.toContain(createHash('sha256').update(key.key).digest('hex'));
      });

      it('revokes a key: 200, and the key is refused at once while others keep working', async () => {
        const account = await newAccount();
        const revoked = await newKey(account.id, 'old');
        const kept = await newKey(account.id, 'new');
        expect((await mumble(revoked.key, 'get-labels')).statusCode).toBe(200);
        const response = await admin('DELETE', `/api-keys/${revoked.id}`);
        expect(response.statusCode).toBe(200);
        expect(response.json()).toMatchObject({ success: true });
        expectError(await mumble(revoked.key, 'get-labels'), 401, 'Unauthorized');
        expect((await mumble(kept.key, 'get-labels')).statusCode).toBe(200);
      });

      it('keeps last_used_at, written at most once a minute rather than on every request', async () => {
        const account = await newAccount();
        const key = await newKey(account.id);
        const lastUsed = async () => {
          const value = (await admin('GET', `/accounts/${account.id}/api-keys`)).json().api_keys[0].last_used_at;
          return value === null ? null : Date.parse(value);
        };
        expect(await lastUsed()).toBeNull();
        const first = ctx.clock.now().getTime();
        await mumble(key.key, 'get-labels');
        await vi.waitFor(async () => expect(await lastUsed()).toBe(first));
        ctx.clock.advance(30_000);
        await mumble(key.key, 'get-labels'); // within the minute: no write
        ctx.clock.advance(31_000);
        const third = ctx.clock.now().getTime();
        await mumble(key.key, 'get-labels'); // a minute after the first write, 31 s after the second request
        // Had the second request written, the third would be within its minute and write nothing.
        await vi.waitFor(async () => expect(await lastUsed()).toBe(third));
      });

      it('answers 404 for an unknown account or key', async () => {
        expectError(await admin('POST', '/accounts/no-such-account/api-keys', { name: 'x' }), 404, 'Account not found');
        expectError(await admin('GET', '/accounts/no-such-account/api-keys'), 404, 'Account not found');
        expectError(await admin('DELETE', '/api-keys/no-such-key'), 404, 'API key not found');
      });
    });

    describe.each([
      { table: 'agents', key: 'agent', endpoint: 'get-agents', notFound: 'Agent not found', extra: { email: 'amy@example.com' } },
      { table: 'teams', key: 'team', endpoint: 'get-teams', notFound: 'Team not found', extra: {} },
      { table: 'bots', key: 'bot', endpoint: 'get-bots', notFound: 'Bot not found.', extra: {} },
    ] as const)('$table', ({ table, key, endpoint, notFound, extra }) => {
      it(`creates with 201 {${key}: {id, name}}, lists, and deletes by id`, async () => {
        const account = await newAccount();
        const apiKey = await newKey(account.id);
        const created = expectCreated(await admin('POST', `/accounts/${account.id}/${table}`, { name: 'Amy', ...extra }))[key];
        expect(created).toMatchObject({ id: expect.any(String), name: 'Amy', ...extra, ...(table === 'bots' && { type: 'flow' }) });

        const list = await admin('GET', `/accounts/${account.id}/${table}`);
        expect(list.statusCode).toBe(200);
        expect(list.json()[table]).toEqual([expect.objectContaining({ id: created.id, name: 'Amy' })]);
        expect((await mumble(apiKey.key, endpoint)).json()[table]).toContainEqual(expect.objectContaining({ id: created.id, name: 'Amy' }));

        const removed = await admin('DELETE', `/${table}/${created.id}`);
        expect(removed.statusCode).toBe(200);
        expect(removed.json()).toMatchObject({ success: true });
        expect((await admin('GET', `/accounts/${account.id}/${table}`)).json()[table]).toEqual([]);
        expect((await mumble(apiKey.key, endpoint)).json()[table]).not.toContainEqual(expect.objectContaining({ id: created.id }));
        expectError(await admin('DELETE', `/${table}/${created.id}`), 404, notFound);
      });

      it('answers 404 for an unknown account, 400 without a name', async () => {
        expectError(await admin('POST', `/accounts/no-such-account/${table}`, { name: 'x' }), 404, 'Account not found');
        expectError(await admin('GET', `/accounts/no-such-account/${table}`), 404, 'Account not found');
        const account = await newAccount();
        const response = await admin('POST', `/accounts/${account.id}/${table}`, {});
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual({ error: true, message: expect.any(String) });
      });
    });

    it('refuses an agent email that is not an address', async () => {
      const account = await newAccount();
      const response = await admin('POST', `/accounts/${account.id}/agents`, { name: 'Amy', email: 'not-an-email' });
      expect(response.statusCode).toBe(400);
      expect((await admin('GET', `/accounts/${account.id}/agents`)).json().agents).toEqual([]);
    });
  });
});
