import { afterEach, beforeEach, expect, it } from 'vitest';
import { JobWorker } from '../src/jobs/worker.js';
import { createWebhookDelivery, type WebhookDelivery } from '../src/modules/webhooks/delivery.js';
import { WEBHOOK_EVENT_TYPES } from '../src/modules/webhooks/events.js';
import { addEntry } from '../src/modules/directory/directory.service.js';
import { createTestContext, describeEachDatabase, type DatabaseKind, type TestContext } from './helpers.js';
import { startReceiver, verifyStandardWebhook, type Receiver } from './webhooks-receiver.js';

const api = (endpoint: string) => `/mumbleapi/${endpoint}`;
const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describeEachDatabase('webhooks', (kind: DatabaseKind) => {
  let ctx: TestContext;
  let receiver: Receiver;
  let delivery: WebhookDelivery;
  let worker: JobWorker;
  const extra: Array<() => Promise<void>> = [];

  async function setUp(env: Record<string, string> = {}) {
    ctx = await createTestContext(kind, { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT: '300ms', ...env });
    delivery = createWebhookDelivery(ctx.deps, { random: () => 0 });
    worker = new JobWorker(ctx.deps, [delivery.handler]);
  }

  beforeEach(async () => {
    receiver = await startReceiver();
    await setUp();
  });
  afterEach(async () => {
    for (const close of extra.splice(0)) await close();
    await worker.stop();
    await delivery.close();
    await ctx.close();
    await receiver.close();
  });

  async function subscribe(events?: string[] | string, path = '/hook') {
    const response = await ctx.call('POST', api('add-webhook'), { url: `${receiver.url}${path}`, ...(events !== undefined && { events }) });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().webhook as { id: string; url: string; events: string[]; secret: string };
  }

  const addCustomer = (phone: string, extraFields: Record<string, unknown> = {}) =>
    ctx.call('POST', api('add-new-customer'), { customer_phone: phone, name: `Customer ${phone}`, ...extraFields });
  const bodies = () => receiver.received.map((request) => JSON.parse(request.body) as { type: string; timestamp: string; data: Record<string, any> });
  const deliveries = async (webhookId: string, page?: number) => {
    const response = await ctx.call('POST', api('get-webhook-deliveries'), { webhook_id: webhookId, ...(page && { page }) });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };

  it('add-webhook returns the secret once; get-webhooks never shows it', async () => {
    const webhook = await subscribe();
    expect(webhook.url).toBe(`${receiver.url}/hook`);
    expect(webhook.events).toEqual([...WEBHOOK_EVENT_TYPES]);
    expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(webhook.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    const listed = await ctx.call('GET', api('get-webhooks'));
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual({
      success: true,
      webhooks: [
        { id: webhook.id, url: webhook.url, events: webhook.events, status: 'active', disabled_reason: null, disabled_at: null, failing_since: null, created_at: expect.any(String) },
      ],
    });
    expect(listed.body).not.toContain('whsec_');
    const chosen = await subscribe(['message.status', 'customer.created']);
    expect(chosen.events).toEqual(['message.status', 'customer.created']);
    expect((await subscribe('customer.updated, message.received')).events).toEqual(['message.received', 'customer.updated']);
  });

  it('add-webhook refuses a missing or invalid URL, an unknown event, and an 11th webhook', async () => {
    const refuse = async (payload: unknown, message: string) => {
      const response = await ctx.call('POST', api('add-webhook'), payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toEqual({ error: true, message });
    };
    await refuse({}, 'URL is required.');
    await refuse({ url: '' }, 'URL is required.');
    await refuse({ url: '   ' }, 'URL is required.');
    await refuse({ url: 'not a url' }, 'Invalid URL');
    await refuse({ url: 'ftp://example.com/x' }, 'Invalid URL');
    await refuse({ url: 42 }, 'Invalid URL');
    await refuse({ url: `${receiver.url}/x`, events: ['customer.created', 'customer.deleted'] }, 'Unknown event type: customer.deleted');
    await refuse({ url: `${receiver.url}/x`, events: { a: 1 } }, 'Events must be a list of event types');
    for (let i = 0; i < 10; i += 1) await subscribe(undefined, `/hook${i}`);
    await refuse({ url: `${receiver.url}/eleven` }, 'Cannot add more than 10 webhooks per account');
    expect((await ctx.call('GET', api('get-webhooks'))).json().webhooks).toHaveLength(10);
  });

  it('refuses URLs on non-public addresses unless WEBHOOK_ALLOW_PRIVATE_URLS is set', async () => {
    const strict = await createTestContext(kind, {});
    extra.push(() => strict.close());
    for (const url of ['http://127.0.0.1/x', 'http://localhost:8080/x', 'http://10.0.0.1/x', 'http://192.168.1.10/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://[fd00:ec2::254]/x']) {
      const response = await strict.call('POST', api('add-webhook'), { url });
      expect(response.statusCode, url).toBe(400);
      expect(response.json().message).toBe('Invalid URL');
    }
  });

  it('delete-webhook removes it; unknown ids and other accounts get 404', async () => {
    const webhook = await subscribe();
    const other = await ctx.otherAccount();
    const asOther = await ctx.app.inject({ method: 'DELETE', url: api('delete-webhook'), headers: { 'mumble-api-key': other.apiKey }, payload: { webhook_id: webhook.id } });
    expect(asOther.statusCode).toBe(404);
    expect(asOther.json()).toEqual({ error: true, message: 'Webhook not found' });
    expect((await ctx.call('DELETE', api('delete-webhook'), {})).json()).toEqual({ error: true, message: 'Webhook ID is required.' });
    await addCustomer('972501234567');
    const deleted = await ctx.call('DELETE', api('delete-webhook'), { webhook_id: webhook.id });
    expect(deleted.json()).toEqual({ success: true, message: 'Webhook deleted successfully' });
    expect((await ctx.call('DELETE', api('delete-webhook'), { webhook_id: webhook.id })).statusCode).toBe(404);
    expect(await worker.runDue()).toBe(0);
    expect(receiver.received).toHaveLength(0);
    expect(await ctx.deps.database.db.selectFrom('jobs').selectAll().execute()).toEqual([]);
  });

  it('delivers customer.created signed per Standard Webhooks, with the API record as data', async () => {
    const webhook = await subscribe();
    expect((await addCustomer('972501234567', { email: 'a@example.com', utm_source: 'google' })).statusCode).toBe(200);
    expect(receiver.received).toHaveLength(0);
    await worker.runDue();
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hook');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(verifyStandardWebhook(webhook.secret, request!.headers, request!.body)).toBe(true);
    expect(verifyStandardWebhook(webhook.secret, request!.headers, request!.body.replace('972501234567', '972501234568'))).toBe(false);
    expect(request!.headers['webhook-timestamp']).toBe(String(Math.floor(ctx.clock.now().getTime() / 1000)));
    const customer = (await ctx.call('GET', api('get-customer'), { customer_phone: '972501234567' })).json().customer;
    expect(JSON.parse(request!.body)).toEqual({ type: 'customer.created', timestamp: ctx.clock.now().toISOString(), data: customer });

    const listed = await deliveries(webhook.id);
    expect(listed).toMatchObject({ success: true, total: 1, pages: 1, current_page: 1 });
    expect(listed.deliveries[0]).toMatchObject({
      event_id: request!.headers['webhook-id'],
      event_type: 'customer.created',
      status: 'succeeded',
      redelivery: false,
      next_attempt_at: null,
      attempts: [{ number: 1, attempted_at: ctx.clock.now().toISOString(), response_status: 200, duration_ms: expect.any(Number), error: null }],
    });
  });

  it('records customer.updated and conversation.status_changed for real changes only, filtered by the subscription', async () => {
    const all = await subscribe();
    const onlyStatus = await subscribe(['conversation.status_changed'], '/status');
    await addCustomer('972501234567');
    const agent = await addEntry(ctx.deps, 'agents', ctx.accountId, { name: 'Agent' });
    const team = await addEntry(ctx.deps, 'teams', ctx.accountId, { name: 'Team' });
    await ctx.call('POST', api('edit-customer'), { customer_phone: '972501234567', name: 'Renamed', plan: 'gold' });
    await ctx.call('POST', api('edit-customer'), { customer_phone: '972501234567', name: 'Renamed' }); // no change: no event
    await ctx.call('POST', api('edit-customer-conv-status'), { customer_phone: '972501234567', status: 'in_progress' });
    await ctx.call('POST', api('edit-customer-conv-status'), { customer_phone: '972501234567', status: 'in_progress' }); // no change
    await ctx.call('POST', api('assign-customer-to-agent'), { customer_phone: '972501234567', agent_id: agent.id });
    await ctx.call('POST', api('assign-customer-to-team'), { customer_phone: '972501234567', team_id: team.id });
    // Refused requests record nothing: their transaction never commits.
    expect((await ctx.call('POST', api('edit-customer'), { customer_phone: '972501234567', email: 'not-an-email' })).statusCode).toBe(400);
    await worker.runDue();
    const byPath = (path: string) => receiver.received.filter((r) => r.path === path).map((r) => JSON.parse(r.body));
    const events = byPath('/hook');
    expect(events.map((e) => e.type)).toEqual(['customer.created', 'customer.updated', 'conversation.status_changed', 'customer.updated', 'customer.updated']);
    expect(events[1].data).toMatchObject({ name: 'Renamed', custom_fields: { plan: 'gold' }, phone: '972501234567' });
    expect(events[2].data).toMatchObject({ conversation_status: 'in_progress', previous_conversation_status: 'new' });
    expect(events[3].data.agent_id).toBe(agent.id);
    expect(events[4].data.team_id).toBe(team.id);
    expect(byPath('/status').map((e) => e.type)).toEqual(['conversation.status_changed']);
    expect((await deliveries(onlyStatus.id)).total).toBe(1);
    expect((await deliveries(all.id)).total).toBe(5);
  });

  it('customer.updated from edit-customer carries the labels as get-customer shows them; an edit that changes nothing records nothing', async () => {
    await subscribe(['customer.updated']);
    await addCustomer('972501234567');
    for (const label of ['vip', 'lead']) {
      expect((await ctx.call('POST', api('add-new-label'), { label_name: label })).statusCode).toBe(200);
      expect((await ctx.call('POST', api('add-customer-to-label'), { customer_phone: '972501234567', label_name: label })).statusCode).toBe(200);
    }
    const edit = { customer_phone: '972501234567', name: 'Renamed', email: 'r@example.com', source: 'ads', utm_campaign: 'spring', plan: 'gold' };
    expect((await ctx.call('POST', api('edit-customer'), edit)).statusCode).toBe(200);
    expect((await ctx.call('POST', api('edit-customer'), edit)).statusCode).toBe(200); // no change: no event
    await worker.runDue();
    const customer = (await ctx.call('GET', api('get-customer'), { customer_phone: '972501234567' })).json().customer;
    expect(customer.labels).toEqual(['lead', 'vip']);
    expect(bodies()).toEqual([{ type: 'customer.updated', timestamp: ctx.clock.now().toISOString(), data: customer }]);
  });

  it('records message.received, message.status, a reopened conversation and template.status_changed from the ingest path', async () => {
    await subscribe();
    const phone = '972501234567';
    const inbound = await ctx.call('POST', api('sandbox/receive-message'), { customer_phone: phone, text: 'Hello', name: 'Dana' });
    expect(inbound.statusCode, inbound.body).toBe(200);
    const sent = await ctx.call('POST', api('send-text-message'), { customer_phone: phone, text: 'Hi Dana' });
    expect(sent.statusCode, sent.body).toBe(200);
    const outboundId = sent.json().message_wa_id as string;
    expect((await ctx.call('POST', api('sandbox/set-message-status'), { message_wa_id: outboundId, status: 'delivered' })).statusCode).toBe(200);
    await ctx.call('POST', api('edit-customer-conv-status'), { customer_phone: phone, status: 'closed' });
    await ctx.call('POST', api('sandbox/receive-message'), { customer_phone: phone, text: 'Again' });
    const template = await ctx.call('POST', api('create-template'), { name: 'welcome_message', language: 'en_US', category: 'MARKETING', body: 'Welcome to our store!' });
    expect(template.statusCode, template.body).toBe(200);
    const templateId = template.json().data.id as string;
    expect((await ctx.call('POST', api('sandbox/set-template-status'), { template_id: templateId, status: 'APPROVED' })).statusCode).toBe(200);
    await worker.runDue();

    const events = bodies();
    const forCustomer = events.filter((e) => e.type !== 'template.status_changed');
    expect(forCustomer.map((e) => e.type)).toEqual([
      'customer.created',
      'message.received',
      ...forCustomer.slice(2, -3).map(() => 'message.status'),
      'conversation.status_changed',
      'message.received',
      'conversation.status_changed',
    ]);
    expect(forCustomer[1]!.data).toMatchObject({ message_wa_id: inbound.json().message_wa_id, direction: 'inbound', text: 'Hello', status: 'received', from: phone, customer_phone: phone });
    const statuses = events.filter((e) => e.type === 'message.status');
    expect(statuses.at(-1)!.data).toMatchObject({ message_wa_id: outboundId, direction: 'outbound', status: 'delivered', to: phone, customer_phone: phone });
    expect(forCustomer.at(-1)!.data).toMatchObject({ phone, conversation_status: 'reopened', previous_conversation_status: 'closed' });
    const templateEvents = events.filter((e) => e.type === 'template.status_changed');
    expect(templateEvents).toHaveLength(1);
    expect(templateEvents[0]!.data).toMatchObject({ id: templateId, name: 'welcome_message', status: 'APPROVED', previous_status: 'PENDING' });
  });

  it('retries after 500s and timeouts, first retry within 10 s, with the same webhook-id', async () => {
    const webhook = await subscribe();
    receiver.answer = (_request, index) => (index === 0 ? { status: 500 } : index === 1 ? { delayMs: 2_000 } : { status: 204 });
    await addCustomer('972501234567');
    await worker.runDue();
    expect(receiver.received).toHaveLength(1);
    let [item] = (await deliveries(webhook.id)).deliveries;
    expect(item).toMatchObject({ status: 'pending', last_error: 'HTTP 500', attempts: [{ response_status: 500, error: 'HTTP 500' }] });
    expect(Date.parse(item.next_attempt_at) - ctx.clock.now().getTime()).toBeLessThanOrEqual(10 * SECOND);
    expect(await worker.runDue()).toBe(0);

    ctx.clock.advance(10 * SECOND);
    await worker.runDue();
    expect(receiver.received).toHaveLength(2);
    [item] = (await deliveries(webhook.id)).deliveries;
    expect(item.attempts[1]).toMatchObject({ number: 2, response_status: null, error: 'Timed out after 300ms' });
    expect((await ctx.call('GET', api('get-webhooks'))).json().webhooks[0].failing_since).toBe(item.attempts[0].attempted_at);

    ctx.clock.advance(HOUR);
    await worker.runDue();
    expect(receiver.received).toHaveLength(3);
    [item] = (await deliveries(webhook.id)).deliveries;
    expect(item).toMatchObject({ status: 'succeeded', last_error: null, completed_at: ctx.clock.now().toISOString() });
    expect(item.attempts.map((a: { response_status: number | null }) => a.response_status)).toEqual([500, null, 204]);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const request of receiver.received) expect(verifyStandardWebhook(webhook.secret, request.headers, request.body)).toBe(true);
    expect((await ctx.call('GET', api('get-webhooks'))).json().webhooks[0].failing_since).toBeNull();
  });

  it('never follows a redirect: a 3xx is a failed attempt', async () => {
    const webhook = await subscribe();
    receiver.answer = (request) => (request.path === '/hook' ? { status: 302, headers: { location: `${receiver.url}/elsewhere` } } : { status: 200 });
    await addCustomer('972501234567');
    await worker.runDue();
    expect(receiver.received.map((r) => r.path)).toEqual(['/hook']);
    const [item] = (await deliveries(webhook.id)).deliveries;
    expect(item.attempts[0]).toMatchObject({ response_status: 302, error: 'Redirect not followed (HTTP 302)' });
  });

  it('delivers in order per customer: a later event waits until the earlier one succeeded', async () => {
    await subscribe();
    let failA = true;
    receiver.answer = (request) => {
      const body = JSON.parse(request.body);
      if (failA && body.data.phone === '972501111111' && body.type === 'customer.created') return { status: 503 };
      return { status: 200 };
    };
    await addCustomer('972501111111');
    await addCustomer('972502222222');
    await ctx.call('POST', api('edit-customer'), { customer_phone: '972501111111', name: 'A2' });
    await ctx.call('POST', api('edit-customer'), { customer_phone: '972501111111', name: 'A3' });
    await worker.runDue();
    const seen = () => bodies().map((b) => `${b.data.phone.slice(-1)}:${b.type}:${b.data.name}`);
    // Different customers are delivered concurrently: no order between them.
    expect([...seen()].sort()).toEqual(['1:customer.created:Customer 972501111111', '2:customer.created:Customer 972502222222']);
    ctx.clock.advance(HOUR);
    await worker.runDue();
    // Retried and failed again: A's updates still wait.
    expect(seen().slice(2)).toEqual(['1:customer.created:Customer 972501111111']);
    failA = false;
    ctx.clock.advance(HOUR);
    await worker.runDue();
    expect(seen().slice(3)).toEqual(['1:customer.created:Customer 972501111111', '1:customer.updated:A2', '1:customer.updated:A3']);
  });

  it('gives a delivery up after the retry schedule, and the customer’s next event goes out', async () => {
    await ctx.close();
    await setUp({ WEBHOOK_RETRY_SCHEDULE: '1s,2s' });
    const webhook = await subscribe();
    receiver.answer = (request) => (JSON.parse(request.body).type === 'customer.created' ? { status: 500 } : { status: 200 });
    await addCustomer('972501234567');
    ctx.clock.advance(1);
    await ctx.call('POST', api('edit-customer'), { customer_phone: '972501234567', name: 'Next' });
    for (let i = 0; i < 3; i += 1) {
      await worker.runDue();
      ctx.clock.advance(3 * SECOND);
    }
    await worker.runDue();
    expect(bodies().map((b) => b.type)).toEqual(['customer.created', 'customer.created', 'customer.created', 'customer.updated']);
    const listed = (await deliveries(webhook.id)).deliveries;
    expect(listed.map((d: { event_type: string; status: string }) => [d.event_type, d.status])).toEqual([
      ['customer.updated', 'succeeded'],
      ['customer.created', 'failed'],
    ]);
    expect(listed[1].attempts).toHaveLength(3);
  });

  it('redelivers an event as a new delivery with the same webhook-id; 404 for unknown or foreign deliveries', async () => {
    const webhook = await subscribe();
    await addCustomer('972501234567');
    await worker.runDue();
    const [first] = (await deliveries(webhook.id)).deliveries;
    ctx.clock.advance(SECOND);
    const response = await ctx.call('POST', api('redeliver-webhook'), { delivery_id: first.id });
    expect(response.statusCode).toBe(200);
    const { delivery_id: redeliveryId } = response.json();
    expect(response.json()).toEqual({ success: true, message: 'Redelivery scheduled', delivery_id: expect.any(String) });
    expect(redeliveryId).not.toBe(first.id);
    await worker.runDue();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.headers['webhook-id']).toBe(receiver.received[0]!.headers['webhook-id']);
    expect(receiver.received[1]!.body).toBe(receiver.received[0]!.body);
    const listed = (await deliveries(webhook.id)).deliveries;
    expect(listed[0]).toMatchObject({ id: redeliveryId, event_id: first.event_id, redelivery: true, status: 'succeeded' });

    expect((await ctx.call('POST', api('redeliver-webhook'), { delivery_id: 'nope' })).json()).toEqual({ error: true, message: 'Delivery not found' });
    expect((await ctx.call('POST', api('redeliver-webhook'), {})).json()).toEqual({ error: true, message: 'Delivery ID is required.' });
    const other = await ctx.otherAccount();
    const foreign = await ctx.app.inject({ method: 'POST', url: api('redeliver-webhook'), headers: { 'mumble-api-key': other.apiKey }, payload: { delivery_id: first.id } });
    expect(foreign.statusCode).toBe(404);
    const foreignList = await ctx.app.inject({ method: 'POST', url: api('get-webhook-deliveries'), headers: { 'mumble-api-key': other.apiKey }, payload: { webhook_id: webhook.id } });
    expect(foreignList.json()).toEqual({ error: true, message: 'Webhook not found' });
  });

  it('pages deliveries newest first, 100 per page', async () => {
    const webhook = await subscribe(['customer.created']);
    for (let i = 0; i < 101; i += 1) await addCustomer(`97250${String(1_000_000 + i)}`);
    const first = await deliveries(webhook.id);
    expect(first).toMatchObject({ total: 101, pages: 2, current_page: 1 });
    expect(first.deliveries).toHaveLength(100);
    const second = await deliveries(webhook.id, 2);
    expect(second.deliveries).toHaveLength(1);
    expect((await deliveries(webhook.id, 3)).deliveries).toEqual([]);
    const bad = await ctx.call('POST', api('get-webhook-deliveries'), { webhook_id: webhook.id, page: 0 });
    expect(bad.json()).toEqual({ error: true, message: 'Invalid page' });
  });

  it('disables a webhook failing for 5 days, shows why, and a successful redelivery enables it again', async () => {
    const webhook = await subscribe();
    receiver.answer = () => ({ status: 500 });
    await addCustomer('972501234567');
    const start = ctx.clock.now().getTime();
    let lastEdit = start;
    const status = async () => (await ctx.call('GET', api('get-webhooks'))).json().webhooks[0];
    while (ctx.clock.now().getTime() - start < 6 * DAY && (await status()).status === 'active') {
      if (ctx.clock.now().getTime() - lastEdit >= DAY) {
        lastEdit = ctx.clock.now().getTime();
        await ctx.call('POST', api('edit-customer'), { customer_phone: '972501234567', name: `Day ${Math.round((lastEdit - start) / DAY)}` });
      }
      await worker.runDue();
      const elapsed = ctx.clock.now().getTime() - start;
      if (elapsed < 5 * DAY) expect((await status()).status, `at ${elapsed / HOUR} h`).toBe('active');
      ctx.clock.advance(HOUR);
    }
    const disabled = await status();
    expect(disabled.status).toBe('disabled');
    expect(Date.parse(disabled.disabled_at) - start).toBeGreaterThanOrEqual(5 * DAY);
    expect(disabled.disabled_reason).toContain('HTTP 500');
    expect(disabled.disabled_reason).toContain(new Date(start).toISOString());
    const listed = (await deliveries(webhook.id)).deliveries as Array<{ id: string; status: string }>;
    expect(listed.every((d) => d.status === 'failed')).toBe(true);
    expect(await ctx.deps.database.db.selectFrom('jobs').selectAll().execute()).toEqual([]);

    // Disabled: new events are not delivered.
    const count = receiver.received.length;
    await ctx.call('POST', api('edit-customer'), { customer_phone: '972501234567', name: 'While disabled' });
    await worker.runDue();
    expect(receiver.received).toHaveLength(count);
    expect((await deliveries(webhook.id)).total).toBe(listed.length);

    receiver.answer = () => ({ status: 200 });
    await ctx.call('POST', api('redeliver-webhook'), { delivery_id: listed[0]!.id });
    await worker.runDue();
    expect(receiver.received).toHaveLength(count + 1);
    expect(await status()).toMatchObject({ status: 'active', disabled_reason: null, disabled_at: null, failing_since: null });
    await ctx.call('POST', api('edit-customer'), { customer_phone: '972501234567', name: 'Enabled again' });
    await worker.runDue();
    expect(JSON.parse(receiver.received.at(-1)!.body).data.name).toBe('Enabled again');
  });

  it('never connects to a non-public address when private URLs are not allowed (checked on every attempt)', async () => {
    await ctx.close();
    await setUp({ WEBHOOK_ALLOW_PRIVATE_URLS: 'false' });
    // Stored directly: add-webhook would refuse these URLs.
    const port = new URL(receiver.url).port;
    const now = ctx.clock.now().toISOString();
    for (const [id, host] of [['a', '127.0.0.1'], ['b', 'localhost']]) {
      await ctx.deps.database.db
        .insertInto('webhook_subscriptions')
        .values({ id: `hook-${id}`, account_id: ctx.accountId, url: `http://${host}:${port}/hook`, events: JSON.stringify(['customer.created']), secret: 'whsec_c2VjcmV0', status: 'active', disabled_reason: null, disabled_at: null, failing_since: null, created_at: now, updated_at: now })
        .execute();
    }
    await addCustomer('972501234567');
    await worker.runDue();
    expect(receiver.received).toHaveLength(0);
    for (const id of ['hook-a', 'hook-b']) {
      const [item] = (await deliveries(id)).deliveries;
      expect(item.attempts[0].error).toMatch(/^Refused: .*not a public address$/);
      expect(item.status).toBe('pending');
    }
  });

  if (kind === 'postgres') {
    it('an event committed on one instance is delivered by the worker of another', async () => {
      await subscribe();
      const second = ctx.testDatabase.reopen();
      const otherWorker = new JobWorker({ ...ctx.deps, database: second }, [delivery.handler]);
      extra.push(async () => {
        await otherWorker.stop();
        await second.close();
      });
      await addCustomer('972501234567');
      expect(await otherWorker.runDue()).toBe(1);
      expect(await worker.runDue()).toBe(0);
      expect(bodies().map((b) => b.type)).toEqual(['customer.created']);
    });
  }
});
