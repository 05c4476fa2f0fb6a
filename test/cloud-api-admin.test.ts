/**
 * Connecting an account to the WhatsApp Cloud API through the admin API: the token is encrypted at
 * rest and never returned, a phone_number_id belongs to one account, DELETE returns to the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markChannelDisconnected } from '../src/modules/whatsapp/whatsapp.service.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const SECRET_KEY = 'test-secret-key-that-is-at-least-32-characters';
const ACCESS_TOKEN = 'EAAGm0PX4ZCpsBAxxxxxxxxxxxxxxxxxxxxSECRET';

const connectBody = (overrides: Record<string, unknown> = {}) => ({
  phone_number_id: '106540352242922',
  waba_id: '102290129340398',
  access_token: ACCESS_TOKEN,
  display_phone_number: '+1 555-078-3881',
  ...overrides,
});

describeEachDatabase('admin API: WhatsApp channel', (kind) => {
  let ctx: TestContext;
  const admin = (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    ctx.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, ...(payload !== undefined && { payload: payload as object }) });

  beforeAll(async () => {
    ctx = await createTestContext(kind, { OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN, OPENMUMBLE_SECRET_KEY: SECRET_KEY });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('a new account is on the sandbox', async () => {
    const response = await admin('GET', `/admin/v1/accounts/${ctx.accountId}/whatsapp`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true, channel: { type: 'sandbox' } });
  });

  it('PUT connects, answers the channel without the token, and stores the token encrypted', async () => {
    const response = await admin('PUT', `/admin/v1/accounts/${ctx.accountId}/whatsapp`, connectBody());
    expect(response.statusCode, response.body).toBe(200);
    const { channel } = response.json();
    expect(channel).toMatchObject({
      type: 'cloud_api',
      phone_number_id: '106540352242922',
      waba_id: '102290129340398',
      display_phone_number: '15550783881',
      status: 'connected',
      status_reason: null,
    });
    expect(response.body).not.toContain(ACCESS_TOKEN);
    expect(response.body).not.toContain('access_token');

    const row = await ctx.deps.database.db.selectFrom('whatsapp_channels').selectAll().where('account_id', '=', ctx.accountId).executeTakeFirstOrThrow();
    expect(row.access_token).toMatch(/^v1\./);
    expect(row.access_token).not.toContain(ACCESS_TOKEN);
    const account = await ctx.deps.database.db.selectFrom('accounts').select('channel_type').where('id', '=', ctx.accountId).executeTakeFirstOrThrow();
    expect(account.channel_type).toBe('cloud_api');

    const shown = await admin('GET', `/admin/v1/accounts/${ctx.accountId}/whatsapp`);
    expect(shown.json().channel).toEqual(channel);
    expect(shown.body).not.toContain(ACCESS_TOKEN);
  });

  it('PUT again replaces the token and reconnects a disconnected channel', async () => {
    await markChannelDisconnected(ctx.deps, ctx.accountId, 'access token rejected by WhatsApp (code 190): expired');
    const disconnected = await admin('GET', `/admin/v1/accounts/${ctx.accountId}/whatsapp`);
    expect(disconnected.json().channel).toMatchObject({ status: 'disconnected', status_reason: 'access token rejected by WhatsApp (code 190): expired' });

    const response = await admin('PUT', `/admin/v1/accounts/${ctx.accountId}/whatsapp`, connectBody({ access_token: 'EAAG-new-token' }));
    expect(response.json().channel).toMatchObject({ status: 'connected', status_reason: null });
  });

  it('a phone_number_id belongs to one account: 409 for another', async () => {
    const other = await ctx.otherAccount();
    const response = await admin('PUT', `/admin/v1/accounts/${other.accountId}/whatsapp`, connectBody());
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ error: true, message: 'This phone_number_id is already connected to another account' });
    const shown = await admin('GET', `/admin/v1/accounts/${other.accountId}/whatsapp`);
    expect(shown.json().channel).toEqual({ type: 'sandbox' });
  });

  it.each([
    [{ phone_number_id: undefined }, 'phone_number_id is required'],
    [{ phone_number_id: 'abc' }, 'phone_number_id must be the numeric id Meta shows'],
    [{ waba_id: '' }, 'waba_id must be the numeric id Meta shows'],
    [{ access_token: '' }, 'access_token is required'],
    [{ access_token: 'has space' }, 'access_token must not contain spaces'],
    [{ display_phone_number: '123' }, 'display_phone_number must be an international number (7–15 digits)'],
  ])('refuses bad input %j', async (overrides, message) => {
    const response = await admin('PUT', `/admin/v1/accounts/${ctx.accountId}/whatsapp`, connectBody(overrides));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: true, message });
  });

  it('unknown account → 404; no admin token → 401', async () => {
    expect((await admin('PUT', '/admin/v1/accounts/nope/whatsapp', connectBody({ phone_number_id: '1' }))).json()).toEqual({ error: true, message: 'Account not found' });
    expect((await admin('GET', '/admin/v1/accounts/nope/whatsapp')).statusCode).toBe(404);
    const anonymous = await ctx.app.inject({ method: 'GET', url: `/admin/v1/accounts/${ctx.accountId}/whatsapp` });
    expect(anonymous.statusCode).toBe(401);
  });

  it('DELETE returns the account to the sandbox and frees the phone_number_id', async () => {
    const response = await admin('DELETE', `/admin/v1/accounts/${ctx.accountId}/whatsapp`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true, channel: { type: 'sandbox' } });
    expect(await ctx.deps.database.db.selectFrom('whatsapp_channels').selectAll().execute()).toEqual([]);
    const account = await ctx.deps.database.db.selectFrom('accounts').select('channel_type').where('id', '=', ctx.accountId).executeTakeFirstOrThrow();
    expect(account.channel_type).toBe('sandbox');
    const other = await ctx.otherAccount();
    expect((await admin('PUT', `/admin/v1/accounts/${other.accountId}/whatsapp`, connectBody())).statusCode).toBe(200);
    expect((await admin('DELETE', `/admin/v1/accounts/${ctx.accountId}/whatsapp`)).statusCode).toBe(200);
  });
});

describe('admin API: WhatsApp channel without OPENMUMBLE_SECRET_KEY', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext('sqlite', { OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('refuses to store a token, with a clear message, and stores nothing', async () => {
    const response = await ctx.app.inject({
      method: 'PUT',
      url: `/admin/v1/accounts/${ctx.accountId}/whatsapp`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: connectBody(),
    });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ error: true, message: 'OPENMUMBLE_SECRET_KEY must be set (at least 32 characters) to store a WhatsApp access token' });
    expect(await ctx.deps.database.db.selectFrom('whatsapp_channels').selectAll().execute()).toEqual([]);
  });
});
