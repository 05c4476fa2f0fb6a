/**
 * What the database computes for campaigns (issue 16): the recipients paged and filtered in SQL, the
 * `replied` count within 72 hours, and the custom-field selector, hostile values included.
 */
import { beforeEach, expect, it } from 'vitest';
import type { JobWorker } from '../src/jobs/worker.js';
import { api, expectError, type Tenant } from './api.js';
import { setUpCampaignSuite } from './campaign-helpers.js';
import { describeEachDatabase, type TestContext } from './helpers.js';
import { approvedTemplate } from './inbox-fixtures.js';

describeEachDatabase('campaigns in SQL', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let worker: JobWorker;
  setUpCampaignSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value), worker: (value) => (worker = value) });

  const call = (endpoint: string, payload: unknown) => t.call('POST', api(endpoint), payload);
  async function customer(phone: string, fields: Record<string, unknown> = {}) {
    const added = await call('add-new-customer', { customer_phone: phone, name: `N${phone.slice(-3)}`, ...fields });
    expect(added.statusCode, added.body).toBe(200);
  }
  const phoneOf = (i: number) => `9725013${String(i).padStart(5, '0')}`;

  let template: string;
  beforeEach(async () => {
    template = await approvedTemplate(t, 'sql_sale', 1);
  });

  it('pages the recipients 250 at a time, in order, filtered by status, past the first page', async () => {
    const phones = Array.from({ length: 260 }, (_, i) => phoneOf(i));
    for (const phone of phones) {
      await customer(phone);
      // Recipients are in the order the customers were created.
      ctx.clock.advance(1);
    }
    const { campaign } = (await call('create-campaign', { name: 'Pages', template_id: template, audience: { phones }, variables: ['x'], rate_per_second: 5 })).json();
    // One round: the first 5 are handed over (no status yet), 255 wait.
    await worker.runDue();
    const page = async (payload: Record<string, unknown>) => (await call('get-campaign-recipients', { campaign_id: campaign.id, ...payload })).json();
    const all1 = await page({});
    expect(all1).toMatchObject({ total: 260, pages: 2, current_page: 1 });
    expect(all1.recipients).toHaveLength(250);
    expect(all1.recipients.map((r: { phone: string }) => r.phone)).toEqual(phones.slice(0, 250));
    const all2 = await page({ page: 2 });
    expect(all2).toMatchObject({ total: 260, pages: 2, current_page: 2 });
    expect(all2.recipients.map((r: { phone: string }) => r.phone)).toEqual(phones.slice(250));
    expect(all2.recipients.every((r: { status: string }) => r.status === 'queued')).toBe(true);
    expect((await page({ page: 3 })).recipients).toEqual([]);
    const sending = await page({ status: 'sending' });
    expect(sending).toMatchObject({ total: 5, pages: 1 });
    expect(sending.recipients.map((r: { phone: string }) => r.phone)).toEqual(phones.slice(0, 5));
    expect(sending.recipients[0].message_wa_id).toMatch(/^wamid\./);
    const queued2 = await page({ status: 'queued', page: 2 });
    expect(queued2).toMatchObject({ total: 255, pages: 2, current_page: 2 });
    expect(queued2.recipients.map((r: { phone: string }) => r.phone)).toEqual(phones.slice(255));
    expect((await page({ status: 'read' })).total).toBe(0);
    // Cancelled: the 255 not sent are skipped, page 2 of them too.
    await call('cancel-campaign', { campaign_id: campaign.id });
    const skipped2 = await page({ status: 'skipped', page: 2 });
    expect(skipped2).toMatchObject({ total: 255, pages: 2 });
    expect(skipped2.recipients).toMatchObject(phones.slice(255).map((phone) => ({ phone, status: 'skipped', reason: 'cancelled' })));
    // The sandbox reports the 5 read.
    await ctx.scheduler.advance(5000);
    expect(await page({ status: 'read' })).toMatchObject({ total: 5 });
    expect(await page({ status: 'sending' })).toMatchObject({ total: 0, recipients: [] });
  }, 60_000);

  it('counts a reply within 72 hours of the campaign message as replied (71 h yes, 73 h no, before no)', async () => {
    for (const i of [1, 2, 3]) await customer(phoneOf(900 + i));
    // A message before the campaign is no reply to it.
    await call('sandbox/receive-message', { customer_phone: phoneOf(903), text: 'earlier' });
    ctx.clock.advance(60_000);
    const { campaign } = (await call('create-campaign', { name: 'Replies', template_id: template, audience: { phones: [phoneOf(901), phoneOf(902), phoneOf(903)] }, variables: ['x'], rate_per_second: 50 })).json();
    await worker.runDue();
    ctx.clock.advance(1000);
    await worker.runDue();
    const counts = async () => (await call('get-campaign', { campaign_id: campaign.id })).json().campaign.counts;
    expect((await counts()).replied).toBe(0);
    ctx.clock.advance(71 * 3600_000);
    await call('sandbox/receive-message', { customer_phone: phoneOf(901), text: 'yes please' });
    expect((await counts()).replied).toBe(1);
    ctx.clock.advance(2 * 3600_000);
    await call('sandbox/receive-message', { customer_phone: phoneOf(902), text: 'too late' });
    await call('sandbox/receive-message', { customer_phone: phoneOf(903), text: 'too late too' });
    expect((await counts()).replied).toBe(1);
  });

  it('selects by custom field in SQL: compared as text, the name matched exactly, hostile values only as values', async () => {
    const hostile = `x' or '1'='1"); drop table customers; --`;
    await customer(phoneOf(801), { note: hostile, score: 42, vip: true });
    await customer(phoneOf(802), { note: 'plain', score: 7, vip: false });
    await customer(phoneOf(803), { note: null });
    await customer(phoneOf(804));
    const recipients = async (field: { name: string; equals: unknown }) => {
      const created = await call('create-campaign', { name: 'Field', template_id: template, audience: { custom_field: field }, variables: ['x'] });
      if (created.statusCode !== 200) return created;
      // Counted when created; cancelled before it starts.
      const { campaign } = created.json();
      expect((await call('cancel-campaign', { campaign_id: campaign.id })).statusCode).toBe(200);
      return campaign.recipients as number;
    };
    expect(await recipients({ name: 'note', equals: hostile })).toBe(1);
    expect(await recipients({ name: 'note', equals: 'plain' })).toBe(1);
    expect(await recipients({ name: 'score', equals: 42 })).toBe(1);
    expect(await recipients({ name: 'score', equals: '7' })).toBe(1);
    expect(await recipients({ name: 'vip', equals: true })).toBe(1);
    expect(await recipients({ name: 'vip', equals: 'false' })).toBe(1);
    for (const name of [`note') or 1=1 --`, `$.note`, `"note"`, 'NOTE', `note' or '1'='1`]) {
      expectError((await recipients({ name, equals: hostile })) as never, 400, 'No recipients');
    }
    expectError((await recipients({ name: 'note', equals: `' or '1'='1` })) as never, 400, 'No recipients');
    // Nothing was run as SQL: the customers are all there.
    const left = await ctx.deps.database.db.selectFrom('customers').select((eb) => eb.fn.countAll().as('n')).where('account_id', '=', t.accountId).executeTakeFirstOrThrow();
    expect(Number(left.n)).toBe(4);
    // The frozen audience at start is the same selection: the hostile one is sent to, with its value.
    const { campaign } = (await call('create-campaign', { name: 'Now', template_id: template, audience: { custom_field: { name: 'note', equals: hostile } }, variables: ['{{fields.score}}'] })).json();
    await worker.runDue();
    const sent = (await call('get-campaign-recipients', { campaign_id: campaign.id })).json();
    expect(sent).toMatchObject({ total: 1, recipients: [{ phone: phoneOf(801), status: 'sending' }] });
  });
});
