/**
 * Campaigns on the WhatsApp Cloud API, against the Graph API simulator: how each class of Meta's
 * refusals becomes a recipient's status, and what the campaign does about it.
 */
import { beforeAll, expect, it } from 'vitest';
import { JobWorker } from '../src/jobs/worker.js';
import { campaignJobHandlers } from '../src/modules/campaigns/campaigns.service.js';
import { sendRetryJobHandler, webhookJobHandler } from '../src/modules/whatsapp/whatsapp.jobs.js';
import { api, nextPhone } from './api.js';
import { setUpCloudApiSuite, type CloudApiFixture } from './cloud-api-fixture.js';
import { templateStatusDelivery } from './graph-simulator.js';
import { describeEachDatabase } from './helpers.js';

describeEachDatabase('campaigns on the Cloud API', (kind) => {
  let f: CloudApiFixture;
  let worker: JobWorker;
  let template: string;
  setUpCloudApiSuite(kind, { fixture: (value) => (f = value) });

  beforeAll(async () => {
    const { deps } = f.ctx;
    worker = new JobWorker(deps, [webhookJobHandler(deps, deps.whatsapp), sendRetryJobHandler(deps, deps.whatsapp), ...campaignJobHandlers(deps)], { name: 'campaigns-cloud' });
    const created = await f.ctx.call('POST', api('create-template'), { name: 'promo', language: 'en', category: 'MARKETING', body: 'Hi {{1}}', body_examples: ['Ann'] });
    expect(created.statusCode, created.body).toBe(200);
    template = created.json().data.id;
    await f.deliver(templateStatusDelivery(f.ids.wabaId, { templateId: f.simulator.templates.at(-1)!.id, name: 'promo', language: 'en', event: 'APPROVED' }));
  });

  /** Customers (known by phone) labelled `label`; returns their phones. */
  async function audience(label: string, count: number): Promise<string[]> {
    await f.ctx.call('POST', api('add-new-label'), { label_name: label });
    const phones = Array.from({ length: count }, () => nextPhone());
    for (const phone of phones) {
      expect((await f.ctx.call('POST', api('add-new-customer'), { customer_phone: phone, name: 'Ann' })).statusCode).toBe(200);
      await f.ctx.call('POST', api('add-customer-to-label'), { customer_phone: phone, label_name: label });
    }
    return phones;
  }

  async function run(label: string) {
    const created = await f.ctx.call('POST', api('create-campaign'), { name: label, template_id: template, audience: { labels_any: [label] }, variables: ['{{customer.name}}'] });
    expect(created.statusCode, created.body).toBe(200);
    for (let round = 0; round < 12; round += 1) {
      await worker.runDue();
      f.ctx.clock.advance(1000);
    }
    return created.json().campaign.id as string;
  }
  const recipients = async (id: string) => (await f.ctx.call('GET', api('get-campaign-recipients'), { campaign_id: id })).json().recipients as Array<Record<string, unknown>>;

  it('records a refusal that no retry cures (not a WhatsApp user) as failed with its code, and does not retry it', async () => {
    const [phone] = await audience('NotOnWhatsApp', 1);
    f.simulator.failNext({ code: 131026 });
    const id = await run('NotOnWhatsApp');
    expect(await recipients(id)).toMatchObject([{ phone, status: 'failed', error_code: 131026 }]);
    expect((await f.ctx.call('POST', api('retry-failed-campaign'), { campaign_id: id })).json()).toMatchObject({ requeued: 0 });
  });

  it('holds a send back on the throughput limit (130429) and sends it again later, each customer once', async () => {
    const phones = await audience('Throughput', 2);
    f.simulator.failNext({ code: 130429 });
    const id = await run('Throughput');
    const sent = f.simulator.sentMessages().filter((body) => phones.includes(body.to as string));
    // One went at once; the held-back one leaves with the channel's own retry (10 s later, by the job).
    expect(sent.length).toBeGreaterThanOrEqual(1);
    for (let round = 0; round < 20; round += 1) {
      await worker.runDue();
      f.ctx.clock.advance(1000);
    }
    // Three requests: the refused one, its resend, and the other customer's.
    const requests = f.simulator.sentMessages().filter((body) => phones.includes(body.to as string));
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((body) => body.to))).toEqual(new Set(phones));
    // Both taken by WhatsApp (a wamid each); their status comes with Meta's status webhooks.
    expect((await recipients(id)).map((r) => [r.status, typeof r.message_wa_id])).toEqual([
      ['sending', 'string'],
      ['sending', 'string'],
    ]);
  });

  it('pauses the campaign when Meta refuses the token (190)', async () => {
    await audience('Token', 2);
    f.simulator.failNext({ code: 190, times: 5 });
    const id = await run('Token');
    expect((await f.ctx.call('GET', api('get-campaign'), { campaign_id: id })).json().campaign.status).toBe('paused');
  });
});
