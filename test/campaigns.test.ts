import { beforeEach, expect, it } from 'vitest';
import { JobWorker } from '../src/jobs/worker.js';
import { campaignJobHandlers } from '../src/modules/campaigns/campaigns.service.js';
import { updateAccountSettings } from '../src/modules/people/people.service.js';
import { api, expectError, newTenant, type Tenant } from './api.js';
import { setUpCampaignSuite } from './campaign-helpers.js';
import { describeEachDatabase, type TestContext } from './helpers.js';
import { approvedTemplate } from './inbox-fixtures.js';

describeEachDatabase('campaigns', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let worker: JobWorker;
  setUpCampaignSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value), worker: (value) => (worker = value) });

  const call = (endpoint: string, payload: unknown) => t.call('POST', api(endpoint), payload);
  async function customer(phone: string, name: string | null, labels: string[] = [], fields: Record<string, unknown> = {}) {
    expect((await call('add-new-customer', { customer_phone: phone, ...(name && { name }), ...fields })).statusCode).toBe(200);
    for (const label of labels) {
      await call('add-new-label', { label_name: label });
      expect((await call('add-customer-to-label', { customer_phone: phone, label_name: label })).statusCode).toBe(200);
    }
  }
  /** Runs the campaign's rounds until it is done, moving the clock a second between rounds. */
  async function runCampaign() {
    for (let round = 0; round < 20; round += 1) {
      await worker.runDue();
      ctx.clock.advance(1000);
    }
  }
  const sentTemplates = async () =>
    (await ctx.deps.database.db.selectFrom('messages').innerJoin('customers', 'customers.id', 'messages.customer_id').select(['customers.phone', 'messages.text', 'messages.sender_type']).where('messages.account_id', '=', t.accountId).where('messages.direction', '=', 'outbound').orderBy('messages.id').execute()).map((m) => [m.phone, m.text, m.sender_type]);

  let template: string;
  beforeEach(async () => {
    template = await approvedTemplate(t, 'december_sale', 1);
  });

  it('refuses what cannot be a campaign, with the contract\'s messages', async () => {
    await customer('972501230001', 'Dana', ['VIP']);
    const base = { name: 'Sale', template_id: template, audience: { labels_any: ['VIP'] }, variables: ['{{customer.name}}'] };
    expectError(await call('create-campaign', { ...base, template_id: 'nope' }), 404, 'Template not found');
    const pending = (await call('create-template', { name: 'pending_one', language: 'en_US', category: 'UTILITY', body: 'Hi' })).json().data.id;
    expectError(await call('create-campaign', { ...base, template_id: pending, variables: [] }), 400, 'Template is not approved');
    expectError(await call('create-campaign', { ...base, variables: [] }), 400, 'Variables count does not match the template');
    expectError(await call('create-campaign', { ...base, audience: { labels_any: ['Nobody'] } }), 404, 'Label not found');
    await call('add-new-label', { label_name: 'Empty' });
    expectError(await call('create-campaign', { ...base, audience: { labels_any: ['Empty'] } }), 400, 'No recipients');
    expectError(await call('create-campaign', { ...base, scheduled_at: '2020-01-01T00:00:00Z' }), 400, 'scheduled_at must be a future date and time (ISO 8601)');
    expectError(await call('create-campaign', { ...base, scheduled_at: 'tomorrow' }), 400, 'scheduled_at must be a future date and time (ISO 8601)');
    expect((await call('create-campaign', { ...base, audience: {} })).statusCode).toBe(400);
    expectError(await call('get-campaign', { campaign_id: 'nope' }), 404, 'Campaign not found');
    expect((await call('get-campaigns', {})).json().campaigns).toEqual([]);
  });

  it('sends the template once to each selected customer, with their own values and fallbacks, skipping the opted-out', async () => {
    await customer('972501230011', 'Dana', ['VIP']);
    await customer('972501230012', null, ['VIP', 'Israel']);
    await customer('972501230013', 'Noa', ['Israel']);
    await customer('972501230014', 'Gil', ['VIP', 'Churned']);
    await customer('972501230015', 'Ori', ['VIP']);
    expect((await call('add-webhook', { url: 'https://hooks.example.com/campaigns', events: ['campaign.completed'] })).statusCode).toBe(200);
    // Ori writes STOP: opted out (and labelled so).
    expect((await call('sandbox/receive-message', { customer_phone: '972501230015', text: ' Stop ' })).statusCode).toBe(200);
    const created = await call('create-campaign', {
      name: 'December sale',
      template_id: template,
      audience: { labels_any: ['VIP', 'Israel'], exclude_labels: ['Churned'] },
      variables: ['{{customer.name|there}}'],
      rate_per_second: 2,
    });
    expect(created.statusCode, created.body).toBe(200);
    const { campaign } = created.json();
    expect(campaign).toMatchObject({ name: 'December sale', status: 'scheduled', recipients: 4, rate_per_second: 2 });
    await runCampaign();
    expect((await sentTemplates()).sort()).toEqual([
      ['972501230011', 'Hello Dana', 'campaign'],
      ['972501230012', 'Hello there', 'campaign'],
      ['972501230013', 'Hello Noa', 'campaign'],
    ]);
    // The sandbox reports sent, delivered, read; a reply within 72 hours counts.
    await ctx.scheduler.advance(5000);
    await call('sandbox/receive-message', { customer_phone: '972501230011', text: 'I want the shoes' });
    const done = (await call('get-campaign', { campaign_id: campaign.id })).json().campaign;
    expect(done).toMatchObject({ status: 'completed', counts: { queued: 0, sending: 0, sent: 0, delivered: 0, read: 3, replied: 1, failed: 0, skipped: 1 } });
    const recipients = (await call('get-campaign-recipients', { campaign_id: campaign.id })).json();
    expect(recipients).toMatchObject({ total: 4, pages: 1, current_page: 1 });
    expect(recipients.recipients.find((r: { phone: string }) => r.phone === '972501230015')).toEqual({ phone: '972501230015', status: 'skipped', message_wa_id: null, error_code: null, error_title: null, reason: 'opted_out' });
    expect((await call('get-campaign-recipients', { campaign_id: campaign.id, status: 'read' })).json().total).toBe(3);
    // Each customer got exactly one message, however often the worker runs.
    await runCampaign();
    expect(await sentTemplates()).toHaveLength(3);
    const event = await ctx.deps.database.db.selectFrom('webhook_events').select(['type', 'payload']).where('account_id', '=', t.accountId).where('type', '=', 'campaign.completed').execute();
    expect(event).toHaveLength(1);
    expect(JSON.parse(event[0]!.payload).data.campaign).toMatchObject({ id: campaign.id, status: 'completed', counts: { queued: 0, skipped: 1 } });
  });

  it('pauses, resumes and cancels; a paused campaign sends nothing', async () => {
    for (let i = 0; i < 6; i += 1) await customer(`97250123002${i}`, `C${i}`, ['All']);
    const { campaign } = (await call('create-campaign', { name: 'Paced', template_id: template, audience: { labels_all: ['All'] }, variables: ['x'], rate_per_second: 2 })).json();
    await worker.runDue();
    expect(await sentTemplates()).toHaveLength(2);
    expect((await call('pause-campaign', { campaign_id: campaign.id })).json().campaign.status).toBe('paused');
    expectError(await call('pause-campaign', { campaign_id: campaign.id }), 400, 'Only a running or scheduled campaign can be paused');
    await runCampaign();
    expect(await sentTemplates()).toHaveLength(2);
    expect((await call('resume-campaign', { campaign_id: campaign.id })).json().campaign.status).toBe('running');
    expectError(await call('resume-campaign', { campaign_id: campaign.id }), 400, 'Only a paused campaign can be resumed');
    await worker.runDue();
    expect(await sentTemplates()).toHaveLength(4);
    const cancelled = (await call('cancel-campaign', { campaign_id: campaign.id })).json().campaign;
    expect(cancelled).toMatchObject({ status: 'cancelled', counts: { skipped: 2 } });
    await runCampaign();
    expect(await sentTemplates()).toHaveLength(4);
    expectError(await call('cancel-campaign', { campaign_id: campaign.id }), 400, 'The campaign is already completed or cancelled');
  });

  it('freezes a scheduled campaign\'s audience when it starts, not before', async () => {
    await customer('972501230031', 'Early', ['Later']);
    const at = new Date(ctx.clock.now().getTime() + 3600_000).toISOString();
    const { campaign } = (await call('create-campaign', { name: 'Later', template_id: template, audience: { labels_any: ['Later'] }, variables: ['{{customer.name}}'], scheduled_at: at })).json();
    await customer('972501230032', 'Joined', ['Later']);
    await worker.runDue();
    expect(await sentTemplates()).toEqual([]);
    ctx.clock.advance(3600_000);
    await runCampaign();
    expect((await sentTemplates()).map(([phone]) => phone).sort()).toEqual(['972501230031', '972501230032']);
    expect((await call('get-campaign', { campaign_id: campaign.id })).json().campaign).toMatchObject({ status: 'completed', recipients: 2 });
  });

  it('lets the number\'s other campaigns go while a scheduled one waits for its time', async () => {
    await customer('972501230035', 'Waiting', ['Tomorrow']);
    await customer('972501230036', 'Now', ['Today']);
    const at = new Date(ctx.clock.now().getTime() + 86_400_000).toISOString();
    const later = (await call('create-campaign', { name: 'Tomorrow', template_id: template, audience: { labels_any: ['Tomorrow'] }, variables: ['{{customer.name}}'], scheduled_at: at })).json().campaign;
    const now = (await call('create-campaign', { name: 'Today', template_id: template, audience: { labels_any: ['Today'] }, variables: ['{{customer.name}}'] })).json().campaign;
    await runCampaign();
    expect((await sentTemplates()).map(([phone]) => phone)).toEqual(['972501230036']);
    expect((await call('get-campaign', { campaign_id: now.id })).json().campaign).toMatchObject({ status: 'completed' });
    expect((await call('get-campaign', { campaign_id: later.id })).json().campaign).toMatchObject({ status: 'scheduled' });
    ctx.clock.advance(86_400_000);
    await runCampaign();
    expect((await sentTemplates()).map(([phone]) => phone).sort()).toEqual(['972501230035', '972501230036']);
  });

  it('keeps each recipient to one message with two workers at once, and selects by phone and custom field', async () => {
    await customer('972501230041', 'A', [], { city: 'Haifa' });
    await customer('972501230042', 'B', [], { city: 'Eilat' });
    await customer('972501230043', 'C', [], { city: 'Haifa' });
    const second = new JobWorker(ctx.deps, campaignJobHandlers(ctx.deps), { name: 'campaigns-2' });
    await call('create-campaign', { name: 'Haifa', template_id: template, audience: { custom_field: { name: 'city', equals: 'Haifa' } }, variables: ['{{fields.city}}'], rate_per_second: 50 });
    await call('create-campaign', { name: 'By phone', template_id: template, audience: { phones: ['972501230042'] }, variables: ['friend'], rate_per_second: 50 });
    await Promise.all([worker.runDue(), second.runDue(), worker.runDue()]);
    await runCampaign();
    expect((await sentTemplates()).sort()).toEqual([
      ['972501230041', 'Hello Haifa', 'campaign'],
      ['972501230042', 'Hello friend', 'campaign'],
      ['972501230043', 'Hello Haifa', 'campaign'],
    ]);
    const other = await newTenant(ctx);
    expect((await other.call('POST', api('get-campaigns'), {})).json().campaigns).toEqual([]);
  });

  const setAccount = (patch: Record<string, unknown>) => updateAccountSettings(ctx.deps, t.accountId, patch);

  it("keeps to the number's daily budget of unique recipients, going on when the day rolls over", async () => {
    for (let i = 0; i < 3; i += 1) await customer(`97250123005${i}`, `D${i}`, ['Daily']);
    await setAccount({ campaign_daily_limit: 2 });
    const { campaign } = (await call('create-campaign', { name: 'Budget', template_id: template, audience: { labels_any: ['Daily'] }, variables: ['x'] })).json();
    await runCampaign();
    expect(await sentTemplates()).toHaveLength(2);
    expect((await call('get-campaign', { campaign_id: campaign.id })).json().campaign).toMatchObject({ status: 'running', counts: { queued: 1 } });
    ctx.clock.advance(24 * 3600_000);
    await runCampaign();
    expect(await sentTemplates()).toHaveLength(3);
    expect((await call('get-campaign', { campaign_id: campaign.id })).json().campaign.status).toBe('completed');
  });

  it('waits 6 seconds after the last message to a customer (pair rate)', async () => {
    await customer('972501230061', 'Pair', ['Pair']);
    await call('sandbox/receive-message', { customer_phone: '972501230061', text: 'hi' });
    expect((await call('send-text-message', { customer_phone: '972501230061', text: 'hello' })).statusCode).toBe(200);
    await call('create-campaign', { name: 'Pair', template_id: template, audience: { labels_any: ['Pair'] }, variables: ['x'] });
    await worker.runDue();
    const templatesSent = async () => (await sentTemplates()).filter(([, , sender]) => sender === 'campaign').length;
    expect(await templatesSent()).toBe(0);
    ctx.clock.advance(6000);
    await worker.runDue();
    expect(await templatesSent()).toBe(1);
  });

  it("opts customers out with the account's own stop words", async () => {
    await setAccount({ stop_words: ['BASTA'] });
    await customer('972501230071', 'Out', ['Words']);
    await customer('972501230072', 'In', ['Words']);
    await call('sandbox/receive-message', { customer_phone: '972501230071', text: 'basta' });
    await call('sandbox/receive-message', { customer_phone: '972501230072', text: 'STOP' });
    const { campaign } = (await call('create-campaign', { name: 'Words', template_id: template, audience: { labels_any: ['Words'] }, variables: ['x'] })).json();
    await runCampaign();
    expect((await sentTemplates()).map(([phone]) => phone)).toEqual(['972501230072']);
    const skipped = (await call('get-campaign-recipients', { campaign_id: campaign.id, status: 'skipped' })).json().recipients;
    expect(skipped).toMatchObject([{ phone: '972501230071', reason: 'opted_out' }]);
  });
});
