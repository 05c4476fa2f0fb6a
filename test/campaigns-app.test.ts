import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { JobWorker } from '../src/jobs/worker.js';
import { campaignJobHandlers } from '../src/modules/campaigns/campaigns.service.js';
import { UNLIMITED, api, newTenant, type Tenant } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';
import { approvedTemplate, expectAppError, ok } from './inbox-fixtures.js';
import { appCaller, signedInPerson, type SignedInPerson } from './inbox-helpers.js';

/**
 * The inbox's Campaigns screen's API (/app/api/admin/campaigns…): the campaigns service behind a
 * cookie session, admins only, their own account, with the service's rules and messages.
 */
describeEachDatabase('inbox: campaigns', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let admin: SignedInPerson;
  let agent: SignedInPerson;
  let worker: JobWorker;
  let template: string;

  beforeAll(async () => {
    ctx = await createTestContext(kind, UNLIMITED);
    worker = new JobWorker(ctx.deps, [...campaignJobHandlers(ctx.deps)], { name: 'campaigns-app' });
  });
  afterAll(() => ctx?.close());
  beforeEach(async () => {
    t = await newTenant(ctx);
    admin = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
    agent = await signedInPerson(ctx, { accountId: t.accountId, role: 'agent' });
    template = await approvedTemplate(t, 'winter_sale', 1);
  });

  const call = (endpoint: string, payload: unknown) => t.call('POST', api(endpoint), payload);
  async function customer(phone: string, name: string | null, labels: string[] = [], customFields: Record<string, unknown> = {}) {
    // A second apart: the audience is in order of creation.
    ctx.clock.advance(1000);
    ok(await call('add-new-customer', { customer_phone: phone, ...(name && { name }), ...customFields }));
    for (const label of labels) {
      await call('add-new-label', { label_name: label });
      ok(await call('add-customer-to-label', { customer_phone: phone, label_name: label }));
    }
  }
  async function runCampaign() {
    for (let round = 0; round < 10; round += 1) {
      await worker.runDue();
      ctx.clock.advance(1000);
    }
  }
  const create = (who: SignedInPerson, body: Record<string, unknown>) => who.call('POST', '/app/api/admin/campaigns', body);
  const base = () => ({ name: 'Winter sale', template_id: template, audience: { labels_any: ['VIP'] }, variables: ['{{customer.name|there}}'] });

  it('creates a campaign, lists it, shows its counts and recipients once sent', async () => {
    await customer('972502220001', 'Dana', ['VIP']);
    await customer('972502220002', null, ['VIP']);
    await customer('972502220003', 'Noa', ['Other']);
    const { campaign } = ok(await create(admin, { ...base(), rate_per_second: 5 }), 201);
    expect(campaign).toMatchObject({ name: 'Winter sale', status: 'scheduled', recipients: 2, rate_per_second: 5, template_id: template });
    expect(ok(await admin.call('GET', '/app/api/admin/campaigns')).campaigns.map((c: { id: string }) => c.id)).toEqual([campaign.id]);
    // The Mumble API sees the same campaign.
    expect((await t.call('GET', `${api('get-campaigns')}`)).json().campaigns).toHaveLength(1);

    await runCampaign();
    const shown = ok(await admin.call('GET', `/app/api/admin/campaigns/${campaign.id}`)).campaign;
    expect(shown).toMatchObject({ status: 'completed', recipients: 2, counts: { queued: 0, failed: 0, skipped: 0 } });
    expect(shown.counts.sending + shown.counts.sent + shown.counts.delivered + shown.counts.read).toBe(2);

    const page = ok(await admin.call('GET', `/app/api/admin/campaigns/${campaign.id}/recipients`));
    expect(page).toMatchObject({ total: 2, pages: 1, current_page: 1 });
    expect(page.recipients.map((r: { phone: string }) => r.phone)).toEqual(['972502220001', '972502220002']);
    const skipped = ok(await admin.call('GET', `/app/api/admin/campaigns/${campaign.id}/recipients?status=skipped&page=1`));
    expect(skipped).toMatchObject({ recipients: [], total: 0 });
    expectAppError(await admin.call('GET', `/app/api/admin/campaigns/${campaign.id}/recipients?status=lost`), 400, 'query status: Invalid status');
    expectAppError(await admin.call('GET', `/app/api/admin/campaigns/${campaign.id}/recipients?page=0`), 400, 'query page: Invalid page');
  });

  it("refuses with the service's messages", async () => {
    await customer('972502220011', 'Dana', ['VIP']);
    expectAppError(await create(admin, { ...base(), template_id: 'nope' }), 404, 'Template not found');
    const pending = (await call('create-template', { name: 'pending_one', language: 'en_US', category: 'UTILITY', body: 'Hi' })).json().data.id;
    expectAppError(await create(admin, { ...base(), template_id: pending, variables: [] }), 400, 'Template is not approved');
    expectAppError(await create(admin, { ...base(), variables: [] }), 400, 'Variables count does not match the template');
    expectAppError(await create(admin, { ...base(), audience: { labels_any: ['Nobody'] } }), 404, 'Label not found');
    await call('add-new-label', { label_name: 'Empty' });
    expectAppError(await create(admin, { ...base(), audience: { labels_any: ['Empty'] } }), 400, 'No recipients');
    expectAppError(await create(admin, { ...base(), scheduled_at: '2020-01-01T00:00:00Z' }), 400, 'scheduled_at must be a future date and time (ISO 8601)');
    expectAppError(await create(admin, { ...base(), audience: {} }), 400, 'audience: Audience needs at least one selector');
    expectAppError(await create(admin, { ...base(), name: '' }), 400, 'name: Campaign name is required.');
    expectAppError(await admin.call('GET', '/app/api/admin/campaigns/nope'), 404, 'Campaign not found');
    expectAppError(await admin.call('GET', '/app/api/admin/campaigns/nope/recipients'), 404, 'Campaign not found');
    for (const action of ['pause', 'resume', 'cancel', 'retry-failed']) {
      expectAppError(await admin.call('POST', `/app/api/admin/campaigns/nope/${action}`), 404, 'Campaign not found');
    }
    expect(ok(await admin.call('GET', '/app/api/admin/campaigns')).campaigns).toEqual([]);
  });

  it('pauses, resumes, cancels and retries, refusing what the state does not allow', async () => {
    await customer('972502220021', 'Dana', ['VIP']);
    await customer('972502220022', 'Gil', ['VIP']);
    const { campaign } = ok(await create(admin, { ...base(), scheduled_at: new Date(ctx.clock.now().getTime() + 3600_000).toISOString() }), 201);
    const act = (action: string) => admin.call('POST', `/app/api/admin/campaigns/${campaign.id}/${action}`);
    expectAppError(await act('resume'), 400, 'Only a paused campaign can be resumed');
    expect(ok(await act('pause')).campaign).toMatchObject({ id: campaign.id, status: 'paused' });
    expectAppError(await act('pause'), 400, 'Only a running or scheduled campaign can be paused');
    expect(ok(await act('resume')).campaign).toMatchObject({ status: 'scheduled' });
    expect(ok(await act('retry-failed'))).toMatchObject({ requeued: 0, campaign: { id: campaign.id } });
    expect(ok(await act('cancel')).campaign).toMatchObject({ status: 'cancelled' });
    expectAppError(await act('cancel'), 400, 'The campaign is already completed or cancelled');
    expectAppError(await act('retry-failed'), 400, 'The campaign is already completed or cancelled');
    await runCampaign();
    expect((await t.call('GET', api('get-campaign'), { campaign_id: campaign.id })).json().campaign).toMatchObject({ status: 'cancelled' });
  });

  it('previews the template for the first of the audience, a given phone, or nobody', async () => {
    await customer('972502220031', 'Dana', ['Other'], { city: 'Haifa' });
    await customer('972502220032', null, ['VIP']);
    await customer('972502220033', 'Noa', ['VIP'], { city: 'Eilat' });
    const preview = (body: Record<string, unknown>) => admin.call('POST', '/app/api/admin/campaigns/preview', { template_id: template, ...body });

    expect(ok(await preview({ variables: ['{{customer.name|there}}'], audience: { labels_any: ['VIP'] } }))).toEqual({
      text: 'Hello there',
      variables: ['there'],
      button_variables: [],
      expected_variables: 1,
      empty: [],
      customer: { phone: '972502220032', name: null },
    });
    expect(ok(await preview({ variables: ['{{fields.city}}'], audience: { custom_field: { name: 'city', equals: 'Eilat' } } }))).toMatchObject({ text: 'Hello Eilat', customer: { phone: '972502220033', name: 'Noa' } });
    expect(ok(await preview({ variables: ['{{customer.name}}'], customer_phone: '972502220031' }))).toMatchObject({ text: 'Hello Dana', customer: { phone: '972502220031' } });
    // No recipient: the fallbacks; a reference without one comes out empty (such a recipient is skipped).
    expect(ok(await preview({ variables: ['{{customer.name}}'], audience: { labels_any: ['VIP'], exclude_labels: ['VIP'] } }))).toMatchObject({ text: 'Hello ', empty: [1], customer: null });
    // Lenient while typing: a variable not given yet stays {{n}}.
    expect(ok(await preview({}))).toMatchObject({ text: 'Hello {{1}}', expected_variables: 1, customer: null });

    expectAppError(await preview({ template_id: 'nope' }), 404, 'Template not found');
    const pending = (await call('create-template', { name: 'pending_two', language: 'en_US', category: 'UTILITY', body: 'Hi' })).json().data.id;
    expectAppError(await preview({ template_id: pending }), 400, 'Template is not approved');
    expectAppError(await preview({ customer_phone: '972502229999' }), 404, 'Customer not found');
    expectAppError(await preview({ audience: { labels_any: ['Nobody'] } }), 404, 'Label not found');
  });

  it("refuses agents, the signed-out and cross-site requests, and another account's campaigns", async () => {
    await customer('972502220041', 'Dana', ['VIP']);
    const { campaign } = ok(await create(admin, base()), 201);
    for (const [method, url] of [
      ['GET', '/app/api/admin/campaigns'],
      ['POST', '/app/api/admin/campaigns'],
      ['POST', '/app/api/admin/campaigns/preview'],
      ['GET', `/app/api/admin/campaigns/${campaign.id}`],
      ['GET', `/app/api/admin/campaigns/${campaign.id}/recipients`],
      ['POST', `/app/api/admin/campaigns/${campaign.id}/pause`],
      ['POST', `/app/api/admin/campaigns/${campaign.id}/cancel`],
    ] as const) {
      expectAppError(await agent.call(method, url, method === 'POST' ? base() : undefined), 403, 'Only admins may do this');
      expectAppError(await appCaller(ctx)(method, url, method === 'POST' ? {} : undefined), 401, 'Not signed in');
    }
    expectAppError(await admin.call('POST', `/app/api/admin/campaigns/${campaign.id}/pause`, {}, { 'x-openmumble-csrf': '' }), 403, 'Cross-site request refused');

    const other = await newTenant(ctx);
    const stranger = await signedInPerson(ctx, { accountId: other.accountId, role: 'admin' });
    expectAppError(await stranger.call('GET', `/app/api/admin/campaigns/${campaign.id}`), 404, 'Campaign not found');
    expectAppError(await stranger.call('GET', `/app/api/admin/campaigns/${campaign.id}/recipients`), 404, 'Campaign not found');
    expectAppError(await stranger.call('POST', `/app/api/admin/campaigns/${campaign.id}/cancel`), 404, 'Campaign not found');
    expectAppError(await stranger.call('POST', '/app/api/admin/campaigns/preview', { template_id: template }), 404, 'Template not found');
    expect(ok(await stranger.call('GET', '/app/api/admin/campaigns')).campaigns).toEqual([]);
    expect(ok(await admin.call('GET', `/app/api/admin/campaigns/${campaign.id}`)).campaign.status).toBe('scheduled');
  });
});
