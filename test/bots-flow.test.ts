import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { JobWorker } from '../src/jobs/worker.js';
import { botJobHandlers } from '../src/modules/bots/bot-runner.js';
import { api, expectError, newTenant, UNLIMITED, type Tenant } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';
import { signedInPerson } from './inbox-helpers.js';
import { approvedTemplate, customerIdOf } from './inbox-fixtures.js';
import { conversationOf, multipart } from './messaging.js';
import { mediaSample } from './media-samples.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const example = (name: string) => JSON.parse(readFileSync(new URL(`../examples/flows/${name}.json`, import.meta.url), 'utf8'));

const greeter = (text = 'Hello {{customer.name}}') => ({ version: 1, start: 'hi', nodes: [{ id: 'hi', type: 'message', text }], edges: [] });

describeEachDatabase('flow bots', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let worker: JobWorker;
  const admin = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown) =>
    ctx.app.inject({ method, url: `/admin/v1${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, ...(payload !== undefined && { payload: payload as string }) });

  beforeAll(async () => {
    ctx = await createTestContext(kind, { ...UNLIMITED, OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN });
    worker = new JobWorker(ctx.deps, botJobHandlers(ctx.deps));
  });
  afterAll(() => ctx.close());
  beforeEach(async () => {
    t = await newTenant(ctx);
  });

  async function addBot(name: string, flow: unknown): Promise<string> {
    const response = await admin('POST', `/accounts/${t.accountId}/bots`, { name, flow });
    expect(response.statusCode, response.body).toBe(201);
    return response.json().bot.id;
  }

  /** The customer writes (or taps `reply_id`); then every due bot job runs. */
  async function writes(phone: string, body: { text?: string; reply_id?: string; name?: string }) {
    const response = await t.call('POST', api('sandbox/receive-message'), { customer_phone: phone, ...body });
    expect(response.statusCode, response.body).toBe(200);
    await worker.runDue();
  }

  /** The texts the business sent the customer, oldest first. */
  async function sent(phone: string): Promise<string[]> {
    const { messages } = await conversationOf(t, phone);
    return (messages as Array<Record<string, any>>).filter((m) => m.direction === 'outbound').reverse().map((m) => m.text);
  }

  const customerOf = async (phone: string) => (await t.call('GET', api('get-customer'), { customer_phone: phone })).json().customer;
  const row = (phone: string) => ctx.deps.database.db.selectFrom('customers').selectAll().where('account_id', '=', t.accountId).where('phone', '=', phone).executeTakeFirstOrThrow();

  it('runs the order-status example end to end: keyword, tap, retry, answer saved, label set', async () => {
    await addBot('Orders', example('order-status'));
    const phone = '972501234567';
    await writes(phone, { text: 'Where is my order?', name: 'John' });
    expect(await sent(phone)).toEqual(['Hi John! How can we help?', 'Choose one']);
    await writes(phone, { reply_id: 'track' });
    await writes(phone, { text: 'abc' });
    await writes(phone, { text: '#12345' });
    expect(await sent(phone)).toEqual(['Hi John! How can we help?', 'Choose one', 'What is your order number?', 'Digits only, please', 'Thanks! Order #12345 is on its way.']);
    const customer = await customerOf(phone);
    expect(customer).toMatchObject({ custom_fields: { order_number: '#12345' }, labels: ['Order inquiries'] });
    // Bot messages are the bot's, and the customer's tap is stored as what it was.
    const rows = await ctx.deps.database.db.selectFrom('messages').select(['direction', 'type', 'sender_type', 'text', 'content']).where('account_id', '=', t.accountId).orderBy('id').execute();
    expect(rows.filter((m) => m.direction === 'outbound').every((m) => m.sender_type === 'bot')).toBe(true);
    expect(rows.find((m) => m.type === 'interactive' && m.direction === 'outbound')?.content).toBe(JSON.stringify({ interactive: { buttons: [{ id: 'track', title: 'Track order' }, { id: 'human', title: 'Talk to us' }] } }));
    expect(rows.find((m) => m.direction === 'inbound' && m.type === 'interactive')).toMatchObject({ text: 'Track order', content: JSON.stringify({ reply: { kind: 'button_reply', id: 'track', title: 'Track order' } }) });
    const metrics = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/openmumble_bot_events_total\{bot="[0-9a-f-]+",event="step"\} \d+/);
    expect(metrics).toMatch(/openmumble_bot_events_total\{bot="[0-9a-f-]+",event="no_match"\} 1/);
  });

  it('hands over: typed text that matches nothing goes to a person, and the bot then stays silent', async () => {
    await addBot('Orders', example('order-status'));
    const phone = '972501234568';
    await writes(phone, { text: 'הזמנה חדשה' });
    await writes(phone, { text: 'I am angry' });
    expect((await sent(phone)).at(-1)).toBe('Connecting you to a person…');
    const customer = await row(phone);
    expect(customer).toMatchObject({ conversation_status: 'waiting_for_agent', bot_paused_by: null });
    expect(customer.bot_paused_at).not.toBeNull();
    const before = (await sent(phone)).length;
    await writes(phone, { text: 'order order order' });
    expect(await sent(phone)).toHaveLength(before);
  });

  it('matches typed text at buttons by number and by title', async () => {
    await addBot('Orders', example('order-status'));
    await writes('972501234569', { text: 'order' });
    await writes('972501234569', { text: '1' });
    expect((await sent('972501234569')).at(-1)).toBe('What is your order number?');
    await writes('972501234570', { text: 'order' });
    await writes('972501234570', { text: '  TRACK order ' });
    expect((await sent('972501234570')).at(-1)).toBe('What is your order number?');
  });

  it('starts no flow without a matching keyword, nor for a conversation a person has', async () => {
    await addBot('Orders', example('order-status'));
    await writes('972501234571', { text: 'reorder please' });
    expect(await sent('972501234571')).toEqual([]);
    const agent = await t.add('agents', 'Amy');
    await writes('972501234572', { text: 'hello' });
    await t.call('POST', api('assign-customer-to-agent'), { customer_phone: '972501234572', agent_id: agent });
    await writes('972501234572', { text: 'my order' });
    expect(await sent('972501234572')).toEqual([]);
  });

  it("answers a new customer's first message with the default flow, and only the first", async () => {
    const id = await addBot('Welcome', greeter('Welcome, {{customer.name}}!'));
    await writes('972501234573', { text: 'before the default existed' });
    expectError(await admin('PATCH', `/accounts/${t.accountId}`, { default_bot_id: 'no-such-bot' }), 404, 'Bot not found.');
    const empty = (await admin('POST', `/accounts/${t.accountId}/bots`, { name: 'Empty' })).json().bot;
    expectError(await admin('PATCH', `/accounts/${t.accountId}`, { default_bot_id: empty.id }), 400, 'This bot has no flow yet');
    expect((await admin('PATCH', `/accounts/${t.accountId}`, { default_bot_id: id })).json().account.default_bot_id).toBe(id);
    await writes('972501234574', { text: 'hi', name: 'Noa' });
    expect(await sent('972501234574')).toEqual(['Welcome, Noa!']);
    // The flow became the conversation's bot: it answers again, as an assigned bot does.
    expect((await customerOf('972501234574')).bot ?? (await row('972501234574')).bot).toBe(id);
    await writes('972501234573', { text: 'an old customer writes again' });
    expect(await sent('972501234573')).toEqual([]);
    expect((await admin('PATCH', `/accounts/${t.accountId}`, { default_bot_id: null })).json().account.default_bot_id).toBeNull();
  });

  it('assign-bot starts the flow at once while the window is open; turn_off stops it', async () => {
    const id = await addBot('Greeter', example('lead-capture'));
    await writes('972501234575', { text: 'hello', name: 'Dan' });
    expect(await sent('972501234575')).toEqual([]);
    expect((await t.call('POST', api('assign-bot'), { customer_phone: '972501234575', bot_token: id })).statusCode).toBe(200);
    await worker.runDue();
    expect(await sent('972501234575')).toEqual(['Happy to send you a quote. Three quick questions.', 'What is your name?']);
    expect((await t.call('POST', api('assign-bot'), { customer_phone: '972501234575', bot_token: 'turn_off' })).statusCode).toBe(200);
    await writes('972501234575', { text: 'Dan Cohen' });
    expect(await sent('972501234575')).toHaveLength(2);
  });

  it('runs the lead-capture example: answers into fields, a list, a condition and a status', async () => {
    await addBot('Leads', example('lead-capture'));
    const phone = '972501234576';
    await writes(phone, { text: 'what is the price?' });
    await writes(phone, { text: 'Dana Levi' });
    await writes(phone, { text: 'not an email' });
    await writes(phone, { text: 'Dana@Example.com' });
    await writes(phone, { text: '2' });
    expect(await sent(phone)).toEqual([
      'Happy to send you a quote. Three quick questions.',
      'What is your name?',
      'Thanks Dana Levi. Your email address?',
      'That does not look like an email address. Try again?',
      'How many people are on your team?',
      'Thanks! We will email the quote to dana@example.com within the hour.',
    ]);
    expect(await customerOf(phone)).toMatchObject({ name: 'Dana Levi', email: 'dana@example.com', custom_fields: { team_size: '11-50' }, labels: ['Leads'], conversation_status: 'pending_customer' });
  });

  it('runs the after-hours example by the clock of its time zone', async () => {
    const id = await addBot('After hours', example('after-hours'));
    await admin('PATCH', `/accounts/${t.accountId}`, { default_bot_id: id });
    // The context's clock: Monday 2026-06-01 12:00 UTC, 15:00 in Jerusalem: open.
    await writes('972501234577', { text: 'hi', name: 'Ori' });
    expect(await sent('972501234577')).toEqual(['Hi Ori, a person will answer you in a few minutes.']);
    ctx.clock.advance(6 * 3600_000); // 21:00 in Jerusalem: closed
    await writes('972501234578', { text: 'hi' });
    await writes('972501234578', { reply_id: 'yes' });
    expect(await sent('972501234578')).toEqual([
      'We are closed now (Sunday to Thursday, 9:00–18:00). Shall someone call you back tomorrow?',
      'Noted. We will call 972501234578 on the next working day.',
    ]);
    expect(await customerOf('972501234578')).toMatchObject({ labels: ['Call back'], conversation_status: 'waiting_for_agent' });
  });

  it('finishes a running session on the version it started with', async () => {
    const flow = example('order-status');
    const id = await addBot('Orders', flow);
    await writes('972501234579', { text: 'order' });
    const changed = structuredClone(flow);
    changed.nodes.find((node: { id: string }) => node.id === 'ask').text = 'Order number, please?';
    const put = await admin('PUT', `/bots/${id}`, { flow: changed });
    expect(put.json().bot).toMatchObject({ id, version: 2 });
    await writes('972501234579', { reply_id: 'track' });
    expect((await sent('972501234579')).at(-1)).toBe('What is your order number?');
    await writes('972501234580', { text: 'order' });
    await writes('972501234580', { reply_id: 'track' });
    expect((await sent('972501234580')).at(-1)).toBe('Order number, please?');
  });

  it('manages flows through the admin API, refusing a flow that does not validate with the node and the problem', async () => {
    const bad = { ...greeter(), nodes: [{ id: 'menu', type: 'buttons', text: 'x', buttons: [1, 2, 3, 4].map((n) => ({ id: `b${n}`, title: `B${n}` })) }], start: 'menu' };
    expectError(await admin('POST', `/accounts/${t.accountId}/bots`, { name: 'Bad', flow: bad }), 400, 'Invalid flow: node "menu": buttons: a buttons node has 1 to 3 buttons');
    expectError(await admin('POST', `/accounts/${t.accountId}/bots`, { name: 'Bad', flow: { ...greeter(), nodes: [{ id: 'hi', type: 'goto', bot_id: 'elsewhere' }] } }), 400, 'Invalid flow: node "hi": there is no bot "elsewhere" in this account');
    expectError(await admin('POST', `/accounts/${t.accountId}/bots`, { name: 'Bad', flow: { ...greeter(), nodes: [{ id: 'hi', type: 'template', template_id: 'nope' }] } }), 400, 'Invalid flow: node "hi": there is no template "nope" in this account');
    expectError(await admin('POST', `/accounts/${t.accountId}/bots`, { name: 'Bad', flow: { ...greeter(), nodes: [{ id: 'hi', type: 'media', kind: 'image', url: 'https://cdn.example.com/a.pdf' }] } }), 400, "Invalid flow: node \"hi\": the url's file type is not an image WhatsApp takes");
    expectError(await admin('POST', `/accounts/${t.accountId}/bots`, { name: 'Bad', flow: greeter(), extra: 1 }), 400, 'Unrecognized key: "extra"');
    const list = async () => (await admin('GET', `/accounts/${t.accountId}/bots`)).json().bots;
    expect(await list()).toEqual([]);

    const id = await addBot('Greeter', greeter());
    const got = (await admin('GET', `/bots/${id}`)).json().bot;
    expect(got).toMatchObject({ id, name: 'Greeter', type: 'flow', version: 1, flow: { version: 1, start: 'hi', timeout_seconds: 1800, triggers: [] } });
    expect((await admin('PUT', `/bots/${id}`, { name: 'Renamed' })).json().bot).toMatchObject({ name: 'Renamed', version: 1, flow: got.flow });
    expectError(await admin('PUT', `/bots/${id}`, { flow: { ...greeter(), start: 'nope' } }), 400, 'Invalid flow: start: there is no node "nope"');
    expect((await admin('GET', `/bots/${id}`)).json().bot.version).toBe(1);
    expectError(await admin('GET', '/bots/no-such-bot'), 404, 'Bot not found.');
    expectError(await admin('PUT', '/bots/no-such-bot', { flow: greeter() }), 404, 'Bot not found.');
    expect(await list()).toEqual([{ id, name: 'Renamed', type: 'flow', version: 1, created_at: got.created_at }]);
    // get-bots shows it as before.
    expect((await t.call('GET', api('get-bots'))).json().bots).toEqual([{ id, name: 'Renamed', type: 'flow' }, { id: 'AI', name: 'AI', type: 'ai' }]);
  });

  it('sends approved templates, and a template step outside the 24-hour window', async () => {
    const template = await approvedTemplate(t, 'order_update', 1);
    const flow = { version: 1, start: 'w', nodes: [{ id: 'w', type: 'wait', seconds: 2 * 86400 }, { id: 't', type: 'template', template_id: template, variables: ['{{customer.name}}'] }, { id: 'late', type: 'message', text: 'Too late for free text' }], edges: [{ from: 'w', to: 't' }, { from: 't', to: 'late' }] };
    const id = await addBot('Follow-up', flow);
    await writes('972501234581', { text: 'hi', name: 'Gal' });
    await t.call('POST', api('assign-bot'), { customer_phone: '972501234581', bot_token: id });
    await worker.runDue();
    ctx.clock.advance(2 * 86400_000 + 1000);
    await worker.runDue();
    await worker.runDue();
    expect(await sent('972501234581')).toEqual(['Hello Gal']);
    // The free text after it was refused (the window is closed); the bot counted the error and went on.
    expect((await ctx.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(new RegExp(`openmumble_bot_events_total\\{bot="${id}",event="error"\\} 1`));
  });

  it('keeps quiet once a person takes over in the inbox, and answers again when handed back', async () => {
    await addBot('Orders', example('order-status'));
    const phone = '972501234582';
    await writes(phone, { text: 'order' });
    const person = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
    const customerId = await customerIdOf(t, phone);
    expect((await person.call('POST', `/app/api/conversations/${customerId}/bot/take-over`)).statusCode).toBe(200);
    await writes(phone, { reply_id: 'track' });
    expect(await sent(phone)).toEqual(['Hi there! How can we help?', 'Choose one']);
    // Handed back, the bot starts afresh on the next message: the session ended when the person took over.
    expect((await person.call('POST', `/app/api/conversations/${customerId}/bot/hand-back`)).statusCode).toBe(200);
    await writes(phone, { reply_id: 'track' });
    expect((await sent(phone)).slice(2)).toEqual(['Hi there! How can we help?', 'Choose one']);
  });

  it('refuses an http node a private address, taking its error edge', async () => {
    const flow = {
      version: 1,
      start: 'h',
      nodes: [
        { id: 'h', type: 'http', url: 'http://127.0.0.1:9/internal', timeout_seconds: 2 },
        { id: 'ok', type: 'message', text: 'reached' },
        { id: 'no', type: 'message', text: 'not reached' },
      ],
      edges: [
        { from: 'h', to: 'ok', on: 'ok' },
        { from: 'h', to: 'no', on: 'error' },
      ],
    };
    const id = await addBot('Hook', flow);
    await writes('972501234583', { text: 'hi' });
    await t.call('POST', api('assign-bot'), { customer_phone: '972501234583', bot_token: id });
    await worker.runDue();
    expect(await sent('972501234583')).toEqual(['not reached']);
  });

  it("lets the inbox's admins edit their account's flows, validate one before saving, and nothing of another account", async () => {
    const adminPerson = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
    const agent = await signedInPerson(ctx, { accountId: t.accountId, role: 'agent' });
    expectError(await agent.call('GET', '/app/api/admin/bots'), 403, 'Only admins may do this');
    const created = await adminPerson.call('POST', '/app/api/admin/bots', { name: 'Greeter', flow: greeter() });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json().bot;
    expect((await adminPerson.call('GET', '/app/api/admin/bots')).json().bots).toMatchObject([{ id, name: 'Greeter', version: 1 }]);
    // Every person sees the bots' names (a conversation's bot is shown by name).
    expect((await agent.call('GET', '/app/api/directory')).json().bots).toEqual([{ id, name: 'Greeter' }, { id: 'AI', name: 'AI' }]);
    expect((await adminPerson.call('POST', '/app/api/admin/bots/validate', { flow: greeter() })).json()).toEqual({ valid: true, nodes: 1, edges: 0 });
    expectError(await adminPerson.call('POST', '/app/api/admin/bots/validate', { flow: { ...greeter(), start: 'x' } }), 400, 'Invalid flow: start: there is no node "x"');
    const saved = await adminPerson.call('PUT', `/app/api/admin/bots/${id}`, { flow: greeter('Shalom {{customer.name|friend}}') });
    expect(saved.json().bot).toMatchObject({ version: 2, flow: { nodes: [{ text: 'Shalom {{customer.name|friend}}' }] } });
    const elsewhere = await newTenant(ctx);
    const theirs = (await admin('POST', `/accounts/${elsewhere.accountId}/bots`, { name: 'Theirs', flow: greeter() })).json().bot.id;
    expectError(await adminPerson.call('GET', `/app/api/admin/bots/${theirs}`), 404, 'Bot not found.');
    expectError(await adminPerson.call('PUT', `/app/api/admin/bots/${theirs}`, { name: 'Mine now' }), 404, 'Bot not found.');
    expect((await admin('GET', `/bots/${theirs}`)).json().bot.name).toBe('Theirs');
  });

  it("sends a file uploaded for flows, each send with a copy of its own", async () => {
    const adminPerson = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
    const { payload, headers } = multipart({}, { filename: 'menu.jpg', content: mediaSample('jpg'), contentType: 'image/jpeg' });
    const uploaded = await adminPerson.call('POST', '/app/api/admin/bots/media', payload, headers);
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const { media_key: key } = uploaded.json();
    expect(uploaded.json()).toMatchObject({ kind: 'image', mime_type: 'image/jpeg', filename: 'menu.jpg' });
    const flow = { version: 1, start: 'm', nodes: [{ id: 'm', type: 'media', kind: 'image', media_key: key, caption: 'Our menu' }], edges: [] };
    expectError(await admin('POST', `/accounts/${t.accountId}/bots`, { name: 'Bad', flow: { ...flow, nodes: [{ ...flow.nodes[0], media_key: 'no-such-file.jpg' }] } }), 400, 'Invalid flow: node "m": there is no uploaded file "no-such-file.jpg"');
    expectError(await admin('POST', `/accounts/${t.accountId}/bots`, { name: 'Bad', flow: { ...flow, nodes: [{ ...flow.nodes[0], kind: 'video' }] } }), 400, "Invalid flow: node \"m\": the file's type is not a video WhatsApp takes");
    const id = await addBot('Menu', flow);
    for (const phone of ['972501234590', '972501234591']) {
      await writes(phone, { text: 'hi' });
      await t.call('POST', api('assign-bot'), { customer_phone: phone, bot_token: id });
      await worker.runDue();
    }
    const sentFiles = await ctx.deps.database.db.selectFrom('messages').select(['type', 'text', 'media_key', 'status']).where('account_id', '=', t.accountId).where('direction', '=', 'outbound').execute();
    expect(sentFiles.map((m) => [m.type, m.text])).toEqual([['image', 'Our menu'], ['image', 'Our menu']]);
    const keys = sentFiles.map((m) => m.media_key);
    expect(new Set([...keys, key]).size).toBe(3);
    // The flow's file stays when a copy goes.
    await ctx.deps.media.remove(keys[0]!);
    await expect(ctx.deps.media.open(key).then((stream) => void stream.destroy())).resolves.toBeUndefined();
  });
});
