import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UNLIMITED, api, newTenant, nextPhone, type Tenant } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';
import { appCaller, signedInPerson, type SignedInPerson } from './inbox-helpers.js';
import { assign, conversationWith, expectAppError, ok } from './inbox-fixtures.js';

const ADMINS_ONLY = 'Only admins may do this';
const NOT_SIGNED_IN = 'Not signed in';
const CROSS_SITE = 'Cross-site request refused';

/**
 * The inbox's side-panel edits (customer fields, a new label) and its admin screens (teams, API
 * keys, webhooks, the WhatsApp connection, templates): the Mumble API's and admin API's services
 * behind /app/api, with their rules and errors.
 */
describeEachDatabase('inbox: side panel and admin screens', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let admin: SignedInPerson;
  let agent: SignedInPerson;

  beforeAll(async () => {
    ctx = await createTestContext(kind, { ...UNLIMITED, WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
  });
  afterAll(() => ctx?.close());
  beforeEach(async () => {
    t = await newTenant(ctx);
    admin = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
    agent = await signedInPerson(ctx, { accountId: t.accountId, role: 'agent' });
  });

  describe('editing the customer', () => {
    let phone: string;
    let id: string;
    beforeEach(async () => {
      phone = nextPhone();
      id = await conversationWith(ctx, t, phone, 'Hello');
    });
    const edit = (who: SignedInPerson, body: unknown) => who.call('PATCH', `/app/api/conversations/${id}/customer`, body);
    const customer = async () => (await t.call('POST', api('get-customer'), { customer_phone: phone })).json().customer as Record<string, any>;

    it("changes name, email and custom fields through edit-customer, as the Mumble API then shows", async () => {
      const { conversation } = ok(await edit(agent, { name: 'דנה Levi', email: 'dana@example.com', custom_fields: { order: '#1234', vip: true, visits: 3 } }));
      expect(conversation).toMatchObject({ id, name: 'דנה Levi', email: 'dana@example.com', custom_fields: { order: '#1234', vip: true, visits: 3 } });
      expect(await customer()).toMatchObject({ name: 'דנה Levi', email: 'dana@example.com', custom_fields: { order: '#1234', vip: true, visits: 3 } });
      // null removes a field, others stay; an empty email removes the email.
      const again = ok(await edit(agent, { email: '', custom_fields: { vip: null } })).conversation;
      expect(again).toMatchObject({ email: null, custom_fields: { order: '#1234', visits: 3 } });
      expect(again.custom_fields).not.toHaveProperty('vip');
    });

    it('keeps the 15-names rule: a 16th name is refused and nothing is written', async () => {
      const fifteen = Object.fromEntries(Array.from({ length: 15 }, (_v, i) => [`field_${i}`, i]));
      ok(await edit(agent, { custom_fields: fifteen }));
      expectAppError(await edit(agent, { name: 'Changed', custom_fields: { field_0: 'kept', sixteenth: 'x' } }), 400, 'Cannot add more than 15 custom fields per account');
      expect(await customer()).toMatchObject({ name: null, custom_fields: fifteen });
    });

    it.each([
      [{ custom_fields: { 'bad name': 1 } }, 'Failed to update customer due to invalid input'],
      [{ custom_fields: { utm_source: 'x' } }, 'Failed to update customer due to invalid input'],
      [{ email: 'not-an-email' }, 'email: Invalid email address'],
      [{}, 'Nothing to change: send name, email or custom_fields'],
      [{ phone: '123' }, 'Unrecognized key: "phone"'],
    ])('refuses %j with 400 %s', async (body, message) => {
      expectAppError(await edit(agent, body), 400, message);
      expect(await customer()).toMatchObject({ name: null, email: null, custom_fields: {} });
    });

    it("answers 404 for a conversation the person may not see, and refuses the signed-out and cross-site", async () => {
      const other = await newTenant(ctx);
      const stranger = await signedInPerson(ctx, { accountId: other.accountId, role: 'admin' });
      expectAppError(await edit(stranger, { name: 'X' }), 404, 'Conversation not found');
      const colleague = await signedInPerson(ctx, { accountId: t.accountId, role: 'agent' });
      await assign(t, phone, { agentId: colleague.agentId });
      expectAppError(await edit(agent, { name: 'X' }), 404, 'Conversation not found');
      expectAppError(await appCaller(ctx)('PATCH', `/app/api/conversations/${id}/customer`, { name: 'X' }), 401, NOT_SIGNED_IN);
      expectAppError(await admin.call('PATCH', `/app/api/conversations/${id}/customer`, { name: 'X' }, { 'x-openmumble-csrf': '' }), 403, CROSS_SITE);
      expect((await customer()).name).toBeNull();
    });
  });

  describe('creating a label', () => {
    it('creates it for any person, as get-labels then lists; a second time is 409', async () => {
      const { labels } = ok(await agent.call('POST', '/app/api/labels', { label: 'VIP לקוח' }), 201);
      expect(labels).toEqual([{ id: expect.any(String), name: 'VIP לקוח' }]);
      expect((await t.call('GET', api('get-labels'))).json().labels).toEqual(['VIP לקוח']);
      expectAppError(await admin.call('POST', '/app/api/labels', { label: 'VIP לקוח' }), 409, 'Label already exists');
      expectAppError(await admin.call('POST', '/app/api/labels', { label: '  ' }), 400, 'label: label is required');
      expectAppError(await appCaller(ctx)('POST', '/app/api/labels', { label: 'X' }), 401, NOT_SIGNED_IN);
    });
  });

  describe('admin screens', () => {
    it('refuses agents on every admin route', async () => {
      for (const [method, url] of [
        ['GET', '/app/api/admin/api-keys'],
        ['POST', '/app/api/admin/api-keys'],
        ['DELETE', '/app/api/admin/api-keys/x'],
        ['GET', '/app/api/admin/webhooks'],
        ['POST', '/app/api/admin/webhooks'],
        ['DELETE', '/app/api/admin/webhooks/x'],
        ['GET', '/app/api/admin/webhooks/x/deliveries'],
        ['GET', '/app/api/admin/whatsapp'],
        ['GET', '/app/api/admin/templates'],
        ['POST', '/app/api/admin/templates'],
        ['POST', '/app/api/admin/teams'],
      ] as const) {
        expectAppError(await agent.call(method, url, method === 'POST' ? { name: 'x' } : undefined), 403, ADMINS_ONLY);
        expectAppError(await appCaller(ctx)(method, url), 401, NOT_SIGNED_IN);
      }
      expectAppError(await admin.call('POST', '/app/api/admin/teams', { name: 'x' }, { 'x-openmumble-csrf': '' }), 403, CROSS_SITE);
    });

    it('creates a team, listed with no members and assignable through the Mumble API', async () => {
      const { team } = ok(await admin.call('POST', '/app/api/admin/teams', { name: 'Support צוות' }), 201);
      expect(team).toEqual({ id: expect.any(String), name: 'Support צוות', created_at: expect.any(String), member_ids: [] });
      expect(ok(await admin.call('GET', '/app/api/admin/teams')).teams).toEqual([team]);
      expect((await t.call('GET', api('get-teams'))).json().teams).toContainEqual({ id: team.id, name: 'Support צוות' });
      expectAppError(await admin.call('POST', '/app/api/admin/teams', { name: ' ' }), 400, 'name: name is required');
    });

    it('creates an API key shown once that the Mumble API accepts, lists it without the key, and revokes it', async () => {
      const { api_key: created } = ok(await admin.call('POST', '/app/api/admin/api-keys', { name: 'Zapier' }), 201);
      expect(created).toMatchObject({ name: 'Zapier', key: expect.any(String), prefix: created.key.slice(0, created.prefix.length) });
      const withKey = (key: string) => ctx.app.inject({ method: 'GET', url: api('get-labels'), headers: { 'mumble-api-key': key } });
      expect((await withKey(created.key)).statusCode).toBe(200);
      const listed = ok(await admin.call('GET', '/app/api/admin/api-keys')).api_keys as Array<Record<string, unknown>>;
      expect(listed).toContainEqual({ id: created.id, name: 'Zapier', prefix: created.prefix, created_at: created.created_at, last_used_at: expect.any(String), revoked_at: null });
      expect(JSON.stringify(listed)).not.toContain(created.key);
      const after = ok(await admin.call('DELETE', `/app/api/admin/api-keys/${created.id}`)).api_keys as Array<Record<string, unknown>>;
      expect(after.find((key) => key.id === created.id)?.revoked_at).toEqual(expect.any(String));
      expect((await withKey(created.key)).statusCode).toBe(401);
      expectAppError(await admin.call('POST', '/app/api/admin/api-keys', {}), 400, 'name: name is required');
    });

    it("does not revoke another account's key: 404 as an unknown one", async () => {
      const other = await newTenant(ctx);
      const { listApiKeys } = await import('../src/modules/accounts/accounts.service.js');
      const [key] = await listApiKeys(ctx.deps, other.accountId);
      expectAppError(await admin.call('DELETE', `/app/api/admin/api-keys/${key!.id}`), 404, 'API key not found');
      expectAppError(await admin.call('DELETE', '/app/api/admin/api-keys/unknown'), 404, 'API key not found');
      expect((await other.call('GET', api('get-labels'))).statusCode).toBe(200);
    });

    it('adds, lists and removes webhooks with their deliveries, as get-webhooks shows', async () => {
      const { webhook } = ok(await admin.call('POST', '/app/api/admin/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['customer.updated'] }), 201);
      expect(webhook).toMatchObject({ url: 'http://127.0.0.1:9/hook', events: ['customer.updated'], secret: expect.stringMatching(/^whsec_/) });
      const { webhooks } = ok(await admin.call('GET', '/app/api/admin/webhooks'));
      expect(webhooks).toEqual((await t.call('GET', api('get-webhooks'))).json().webhooks);
      expect(JSON.stringify(webhooks)).not.toContain(webhook.secret);
      // A customer edit is an event the webhook wants: a delivery appears.
      const phone = nextPhone();
      expect((await t.call('POST', api('add-new-customer'), { customer_phone: phone })).statusCode).toBe(200);
      expect((await t.call('POST', api('edit-customer'), { customer_phone: phone, name: 'Changed' })).statusCode).toBe(200);
      const page = ok(await admin.call('GET', `/app/api/admin/webhooks/${webhook.id}/deliveries`));
      expect(page).toMatchObject({ total: 1, pages: 1, current_page: 1, deliveries: [{ event_type: 'customer.updated', status: 'pending' }] });
      expectAppError(await admin.call('POST', '/app/api/admin/webhooks', { url: 'ftp://example.com' }), 400, 'Invalid URL');
      expectAppError(await admin.call('POST', '/app/api/admin/webhooks', {}), 400, 'url: URL is required.');
      expectAppError(await admin.call('POST', '/app/api/admin/webhooks', { url: 'http://127.0.0.1:9/x', events: ['nope'] }), 400, 'Unknown event type: nope');
      ok(await admin.call('DELETE', `/app/api/admin/webhooks/${webhook.id}`));
      expectAppError(await admin.call('DELETE', `/app/api/admin/webhooks/${webhook.id}`), 404, 'Webhook not found');
      expectAppError(await admin.call('GET', `/app/api/admin/webhooks/${webhook.id}/deliveries`), 404, 'Webhook not found');
      expect((await t.call('GET', api('get-webhooks'))).json().webhooks).toEqual([]);
    });

    it('refuses an 11th webhook', async () => {
      for (let i = 0; i < 10; i += 1) ok(await admin.call('POST', '/app/api/admin/webhooks', { url: `http://127.0.0.1:9/h${i}` }), 201);
      expectAppError(await admin.call('POST', '/app/api/admin/webhooks', { url: 'http://127.0.0.1:9/h11' }), 400, 'Cannot add more than 10 webhooks per account');
    });

    it('shows the WhatsApp connection: the sandbox until a number is connected', async () => {
      expect(ok(await admin.call('GET', '/app/api/admin/whatsapp'))).toEqual({ channel: { type: 'sandbox' } });
    });

    it("creates templates by WhatsApp's rules and lists them all with their status", async () => {
      const { template } = ok(
        await admin.call('POST', '/app/api/admin/templates', { name: 'order_update', language: 'he', category: 'UTILITY', body: 'שלום {{1}}', body_examples: ['דנה'] }),
        201,
      );
      expect(template).toEqual({ id: expect.any(String), status: 'PENDING' });
      expect(ok(await admin.call('GET', '/app/api/admin/templates')).templates).toEqual([expect.objectContaining({ id: template.id, name: 'order_update', status: 'PENDING' })]);
      expect((await t.call('GET', api('get-templates'))).json().templates).toHaveLength(1);
      // Not approved: the agents' picker (/app/api/templates) does not offer it.
      expect(ok(await agent.call('GET', '/app/api/templates')).templates).toEqual([]);
      const base = { name: 'x', language: 'en_US', category: 'UTILITY', body: 'Hi' };
      expectAppError(await admin.call('POST', '/app/api/admin/templates', { ...base, name: 'order_update', language: 'he', body: 'Again' }), 409, 'Template name already exists');
      expectAppError(await admin.call('POST', '/app/api/admin/templates', { ...base, body: 'Hi {{1}}' }), 400, 'Invalid template configuration');
      expectAppError(await admin.call('POST', '/app/api/admin/templates', { ...base, body: ' ' }), 400, 'body: Body text is required');
      expectAppError(await admin.call('POST', '/app/api/admin/templates', { ...base, name: '' }), 400, 'name: Template name is required');
      expectAppError(
        await admin.call('POST', '/app/api/admin/templates', { ...base, header: { format: 'IMAGE' }, media_url: 'https://cdn.example.com/a.pdf' }),
        400,
        'Media link is not valid',
      );
    });
  });
});
