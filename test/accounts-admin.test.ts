import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UNLIMITED, api, expectError } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';
import { mediaSample } from './media-samples.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

/** Deleting an account and rotating a key through the admin API (the CLI has the same, test/cli.test.ts). */
describeEachDatabase('accounts and keys: delete and rotate', (kind) => {
  let ctx: TestContext;
  const admin = (method: 'POST' | 'DELETE', url: string) => ctx.app.inject({ method, url: `/admin/v1${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

  beforeAll(async () => {
    ctx = await createTestContext(kind, { ...UNLIMITED, OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN });
  });
  afterAll(() => ctx?.close());

  it('rotates a key: the new one works, the old one is refused at once', async () => {
    const { accountId, apiKey } = await ctx.otherAccount();
    const [old] = (await ctx.deps.database.db.selectFrom('api_keys').select('id').where('account_id', '=', accountId).execute()).map((row) => row.id);
    const rotated = await admin('POST', `/api-keys/${old}/rotate`);
    expect(rotated.statusCode).toBe(201);
    const { key } = rotated.json().api_key;
    const asKey = (value: string) => ctx.app.inject({ method: 'GET', url: api('get-labels'), headers: { 'mumble-api-key': value } });
    expect((await asKey(key)).statusCode).toBe(200);
    expectError(await asKey(apiKey), 401, 'Unauthorized');
    expectError(await admin('POST', `/api-keys/${old}/rotate`), 404, 'API key not found');
  });

  it('deletes an account with everything it holds, its media files included', async () => {
    const { accountId, apiKey } = await ctx.otherAccount();
    const call = (endpoint: string, payload: Record<string, unknown>) => ctx.app.inject({ method: 'POST', url: api(endpoint), headers: { 'mumble-api-key': apiKey }, payload });
    await call('add-new-customer', { customer_phone: '972501113001' });
    await call('sandbox/receive-message', { customer_phone: '972501113001', text: 'send it' });
    const boundary = 'b0undary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="customer_phone"\r\n\r\n972501113001\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.png"\r\nContent-Type: image/png\r\n\r\n`),
      mediaSample('png'),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const sent = await ctx.app.inject({ method: 'POST', url: api('send-media-message'), headers: { 'mumble-api-key': apiKey, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: body });
    expect(sent.statusCode, sent.body).toBe(200);
    const { media_key: mediaKey } = await ctx.deps.database.db.selectFrom('messages').select('media_key').where('account_id', '=', accountId).where('media_key', 'is not', null).executeTakeFirstOrThrow();
    const file = join(ctx.deps.config.MEDIA_DIR, mediaKey!);
    expect(existsSync(file)).toBe(true);

    const deleted = await admin('DELETE', `/accounts/${accountId}`);
    expect(deleted.json()).toEqual({ success: true, message: 'Account deleted', media_files_removed: 1 });
    expect(existsSync(file)).toBe(false);
    for (const table of ['customers', 'messages', 'api_keys'] as const) {
      expect(await ctx.deps.database.db.selectFrom(table).select('account_id').where('account_id', '=', accountId).execute(), table).toEqual([]);
    }
    expectError(await call('get-labels', {}), 401, 'Unauthorized');
    expectError(await admin('DELETE', `/accounts/${accountId}`), 404, 'Account not found');
    // The other accounts are untouched.
    expect((await ctx.call('GET', api('get-labels'))).statusCode).toBe(200);
  });
});
