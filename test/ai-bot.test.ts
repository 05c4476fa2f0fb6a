import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createLogger } from '../src/deps.js';
import { JobWorker } from '../src/jobs/worker.js';
import { botJobHandlers } from '../src/modules/bots/bot-runner.js';
import { aiSettingsInput } from '../src/modules/ai/ai.schema.js';
import { putAiSettings } from '../src/modules/ai/ai.service.js';
import { webhookJobHandler } from '../src/modules/whatsapp/whatsapp.jobs.js';
import { api, expectError, newTenant, nextPhone, UNLIMITED, type Tenant } from './api.js';
import { setUpCloudApiSuite, type CloudApiFixture } from './cloud-api-fixture.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';
import { startFakeOpenAi, type FakeOpenAi } from './fake-openai.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const API_KEY = 'sk-test-0123456789-very-secret';

describeEachDatabase('the AI bot', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let fake: FakeOpenAi;
  let worker: JobWorker;
  let logged = '';
  const admin = (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    ctx.app.inject({ method, url: `/admin/v1${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, ...(payload !== undefined && { payload: payload as string }) });

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    ctx = await createTestContext(kind, { ...UNLIMITED, OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN, OPENMUMBLE_SECRET_KEY: 'k'.repeat(40), AI_ALLOW_PRIVATE_BASE_URL: 'true', AI_TIMEOUT: '400ms' });
    // The worker logs into `logged`, so a test can prove the key never reaches a log line.
    const capture = new Writable({ write: (chunk, _encoding, done) => ((logged += chunk.toString()), done()) });
    const deps = { ...ctx.deps, logger: createLogger('debug', capture) };
    worker = new JobWorker(deps, botJobHandlers(deps));
  });
  afterAll(async () => {
    await ctx.close();
    await fake.close();
  });
  beforeEach(async () => {
    t = await newTenant(ctx);
    fake.requests.length = 0;
  });

  async function configure(overrides: Record<string, unknown> = {}) {
    const response = await admin('PUT', `/accounts/${t.accountId}/ai`, { base_url: fake.url, api_key: API_KEY, model: 'test-model', instructions: 'You are Shira from Acme Shoes.', knowledge: 'We ship in 3 days.', ...overrides });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().ai;
  }

  /** A customer whose bot is the AI, who wrote `first` (no answer yet: the bot was assigned after). */
  async function aiCustomer(phone: string, first = 'hello') {
    await writes(phone, first, false);
    expect((await t.call('POST', api('assign-bot'), { customer_phone: phone, bot_token: 'AI' })).statusCode).toBe(200);
  }

  async function writes(phone: string, text: string, run = true) {
    expect((await t.call('POST', api('sandbox/receive-message'), { customer_phone: phone, text, name: 'Dana' })).statusCode).toBe(200);
    if (run) await worker.runDue();
  }

  const customerRow = (phone: string) => ctx.deps.database.db.selectFrom('customers').selectAll().where('account_id', '=', t.accountId).where('phone', '=', phone).executeTakeFirstOrThrow();
  const outbound = async (phone: string) => {
    const customer = await customerRow(phone);
    return ctx.deps.database.db.selectFrom('messages').selectAll().where('customer_id', '=', customer.id).where('direction', '=', 'outbound').orderBy('id').execute();
  };
  const notes = async (phone: string) => {
    const customer = await customerRow(phone);
    return (await ctx.deps.database.db.selectFrom('notes').select(['text', 'agent_id']).where('customer_id', '=', customer.id).execute()).map((n) => n.text);
  };

  it('answers with the model, telling it the instructions, knowledge, customer and conversation, the customer marked untrusted', async () => {
    await configure();
    await aiCustomer('972501110001');
    fake.script({ content: 'We ship in 3 days, Dana!' });
    await writes('972501110001', 'How long is shipping?');
    const sent = await outbound('972501110001');
    expect(sent).toMatchObject([{ text: 'We ship in 3 days, Dana!', sender_type: 'bot', ai_model: 'test-model', ai_prompt_tokens: 120, ai_completion_tokens: 30 }]);
    const [request] = fake.requests;
    expect(request!.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request!.body.model).toBe('test-model');
    const system = request!.body.messages[0]!.content!;
    expect(system).toContain('You are Shira from Acme Shoes.');
    expect(system).toContain('<knowledge>\nWe ship in 3 days.\n</knowledge>');
    expect(system).toContain('"name":"Dana"');
    expect(request!.body.messages.slice(1)).toEqual([
      { role: 'user', content: '<customer_message>hello</customer_message>' },
      { role: 'user', content: '<customer_message>How long is shipping?</customer_message>' },
    ]);
    expect(request!.body.tools!.map((tool) => tool.function.name)).toEqual(['handoff_to_human', 'set_label', 'set_custom_field', 'set_status']);
    // Not in the Mumble API.
    const message = (await t.call('GET', api('get-message'), { message_wa_id: sent[0]!.message_wa_id })).json().message;
    expect(JSON.stringify(message)).not.toMatch(/ai_model|test-model|tokens/);
  });

  it('hands over when the model calls handoff_to_human: team, status, a private note, and the bot stops', async () => {
    const team = await t.add('teams', 'Support');
    await configure({ handoff_team_id: team });
    await aiCustomer('972501110002');
    fake.script({ toolCalls: [{ name: 'set_label', arguments: { name: 'Refund' } }, { name: 'handoff_to_human', arguments: { reason: 'wants a refund' } }] });
    await writes('972501110002', 'I want my money back');
    const customer = await customerRow('972501110002');
    expect(customer).toMatchObject({ team_id: team, conversation_status: 'waiting_for_agent', bot: 'AI', bot_paused_by: null });
    expect(customer.bot_paused_at).not.toBeNull();
    expect(await notes('972501110002')).toEqual(['The AI handed over: wants a refund']);
    expect((await t.call('GET', api('get-customer'), { customer_phone: '972501110002' })).json().customer.labels).toEqual(['Refund']);
    await writes('972501110002', 'hello?');
    expect(fake.requests).toHaveLength(1);
    expect(await outbound('972501110002')).toEqual([]);
  });

  it('hands over when the provider fails or times out, after its retries, and never sends twice', async () => {
    await configure();
    await aiCustomer('972501110003');
    fake.script({ status: 500 }, { status: 500 }, { status: 500 });
    await writes('972501110003', 'hi');
    expect(fake.requests).toHaveLength(3);
    expect(await notes('972501110003')).toEqual(['The AI provider failed or timed out']);
    expect((await customerRow('972501110003')).conversation_status).toBe('waiting_for_agent');

    await aiCustomer('972501110004');
    fake.requests.length = 0;
    fake.script({ content: 'too late', delayMs: 1000 }, { content: 'too late', delayMs: 1000 }, { content: 'too late', delayMs: 1000 });
    await writes('972501110004', 'hi');
    expect(await outbound('972501110004')).toEqual([]);
    expect(await notes('972501110004')).toEqual(['The AI provider failed or timed out']);
  });

  it('drops the answer when a person takes the conversation while the model works', async () => {
    await configure();
    await aiCustomer('972501110005');
    fake.script({ content: 'The model answers late', delayMs: 200 });
    await writes('972501110005', 'anyone?', false);
    const running = worker.runDue();
    await fake.received(1);
    const agent = await t.add('agents', 'Amy');
    expect((await t.call('POST', api('assign-customer-to-agent'), { customer_phone: '972501110005', agent_id: agent })).statusCode).toBe(200);
    await running;
    expect(await outbound('972501110005')).toEqual([]);
  });

  it('answers messages that came together, or while the model was thinking, in one reply', async () => {
    await configure();
    await aiCustomer('972501110006');
    await writes('972501110006', 'one', false);
    await writes('972501110006', 'two', false);
    fake.script({ content: 'first answer', delayMs: 150 }, { content: 'one answer to all three' });
    const running = worker.runDue();
    await fake.received(1);
    await writes('972501110006', 'three', false);
    await running;
    await worker.runDue();
    expect((await outbound('972501110006')).map((m) => m.text)).toEqual(['one answer to all three']);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]!.body.messages.slice(-3).map((m) => m.content)).toEqual(['<customer_message>one</customer_message>', '<customer_message>two</customer_message>', '<customer_message>three</customer_message>']);
  });

  it('sends only the knowledge that answers the question when all of it does not fit', async () => {
    const filler = (topic: string) => Array.from({ length: 15 }, (_v, i) => `${topic} note ${i}: ${'lorem ipsum dolor sit amet '.repeat(20)}`).join('\n\n');
    await configure({ knowledge: [filler('Warranty'), 'Shipping to Eilat takes 5 business days.', filler('Returns')].join('\n\n') });
    await aiCustomer('972501110007');
    fake.script({ content: '5 days' });
    await writes('972501110007', 'How long does shipping to Eilat take?');
    const system = fake.requests[0]!.body.messages[0]!.content!;
    expect(system).toContain('Shipping to Eilat takes 5 business days.');
    expect(system.length).toBeLessThan(8000);
  });

  it('hands over without asking the model: not configured, a customer asking for a person, the reply budget spent', async () => {
    await aiCustomer('972501110008');
    await writes('972501110008', 'hi');
    expect(await notes('972501110008')).toEqual(['AI is not configured']);

    await configure({ max_replies_per_conversation: 1 });
    await aiCustomer('972501110009');
    await writes('972501110009', 'אני רוצה נציג בבקשה');
    expect(await notes('972501110009')).toEqual(['The customer asked for a person']);

    await aiCustomer('972501110010');
    fake.script({ content: 'one reply' });
    await writes('972501110010', 'first question');
    await writes('972501110010', 'second question');
    expect((await outbound('972501110010')).map((m) => m.text)).toEqual(['one reply']);
    expect(await notes('972501110010')).toEqual(['The AI reply budget of this conversation is spent: 1 replies']);
    expect(fake.requests).toHaveLength(1);
  });

  it('keeps the key sealed: never in a reply, the database in clear, or a log line', async () => {
    const shown = await configure();
    expect(shown).toMatchObject({ has_api_key: true, model: 'test-model', base_url: fake.url });
    expect(JSON.stringify(shown)).not.toContain(API_KEY);
    const got = await admin('GET', `/accounts/${t.accountId}/ai`);
    expect(got.body).not.toContain(API_KEY);
    const stored = await ctx.deps.database.db.selectFrom('ai_settings').select('api_key').where('account_id', '=', t.accountId).executeTakeFirstOrThrow();
    expect(stored.api_key).not.toContain(API_KEY);
    // Kept when not given again; removed with null.
    expect((await configure({ api_key: undefined })).has_api_key).toBe(true);
    await aiCustomer('972501110011');
    fake.script({ status: 500 }, { status: 500 }, { status: 500 });
    await writes('972501110011', 'hi');
    expect(logged).toContain('AI provider failed');
    expect(logged).not.toContain(API_KEY);
    expect((await configure({ api_key: null })).has_api_key).toBe(false);
  });

  it("answers a flow's ai_reply node from the knowledge, and takes its error edge without an answer", async () => {
    const flow = {
      version: 1,
      start: 'q',
      nodes: [
        { id: 'q', type: 'ask', text: 'What would you like to know?', save_to: 'fields.question' },
        { id: 'answer', type: 'ai_reply' },
        { id: 'more', type: 'message', text: 'Anything else? Write "menu".' },
        { id: 'sorry', type: 'handoff', text: 'Let me find a person for you.' },
      ],
      edges: [
        { from: 'q', to: 'answer' },
        { from: 'answer', to: 'more' },
        { from: 'answer', to: 'sorry', on: 'error' },
      ],
    };
    const bot = (await admin('PUT', `/accounts/${t.accountId}/ai`, { base_url: fake.url, model: 'test-model' })).statusCode;
    expect(bot).toBe(200);
    const created = await ctx.app.inject({ method: 'POST', url: `/admin/v1/accounts/${t.accountId}/bots`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { name: 'FAQ', flow } });
    const flowId = created.json().bot.id;
    await writes('972501110012', 'hi', false);
    await t.call('POST', api('assign-bot'), { customer_phone: '972501110012', bot_token: flowId });
    await worker.runDue();
    fake.script({ content: 'We ship in 3 days.' });
    await writes('972501110012', 'How fast do you ship?');
    expect((await outbound('972501110012')).map((m) => [m.text, m.ai_model])).toEqual([
      ['What would you like to know?', null],
      ['We ship in 3 days.', 'test-model'],
      ['Anything else? Write "menu".', null],
    ]);
    expect(fake.requests[0]!.body.messages.at(-1)).toEqual({ role: 'user', content: '<customer_message>How fast do you ship?</customer_message>' });
    expect(fake.requests[0]!.body.tools).toBeUndefined();

    fake.script({ status: 500 }, { status: 500 }, { status: 500 });
    await writes('972501110012', 'menu');
    await writes('972501110012', 'And returns?');
    expect((await outbound('972501110012')).at(-1)!.text).toBe('Let me find a person for you.');
  });

  it('manages the settings through the admin API with the contract of its errors', async () => {
    expectError(await admin('GET', `/accounts/${t.accountId}/ai`), 404, 'AI settings not found');
    expectError(await admin('PUT', `/accounts/${t.accountId}/ai`, { model: 'x', surprise: 1 }), 400, 'Unrecognized key: "surprise"');
    expectError(await admin('PUT', `/accounts/${t.accountId}/ai`, { base_url: 'ftp://x' }), 400, 'base_url: base_url must be an http(s) URL');
    expectError(await admin('PUT', `/accounts/${t.accountId}/ai`, { handoff_team_id: 'nope' }), 404, 'Team not found');
    expectError(await admin('PUT', '/accounts/no-such-account/ai', {}), 404, 'Account not found');
    await configure();
    expect((await admin('DELETE', `/accounts/${t.accountId}/ai`)).json()).toEqual({ success: true, message: 'AI settings removed' });
    expectError(await admin('DELETE', `/accounts/${t.accountId}/ai`), 404, 'AI settings not found');
  });
});

describeEachDatabase('the AI bot on the Cloud API', (kind) => {
  let f: CloudApiFixture;
  let fake: FakeOpenAi;
  let worker: JobWorker;
  setUpCloudApiSuite(kind, { env: { AI_ALLOW_PRIVATE_BASE_URL: 'true' }, fixture: (value) => (f = value) });

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    const { deps } = f.ctx;
    worker = new JobWorker(deps, [webhookJobHandler(deps, deps.whatsapp), ...botJobHandlers(deps)], { name: 'ai-cloud' });
    await putAiSettings(deps, f.ctx.accountId, aiSettingsInput.parse({ base_url: fake.url, model: 'test-model', api_key: API_KEY }));
  });
  afterAll(() => fake.close());

  it('answers through the Cloud API: a webhook in, the model, a text message out to Meta', async () => {
    const phone = nextPhone();
    await f.customerWrites(phone, 'John');
    await worker.runDue();
    expect((await f.ctx.call('POST', api('assign-bot'), { customer_phone: phone, bot_token: 'AI' })).statusCode).toBe(200);
    fake.script({ content: 'Hello John, how can I help?' });
    await f.customerWrites(phone, 'John', { type: 'text', text: { body: 'Do you ship to Eilat?' } });
    await worker.runDue();
    const sent = f.simulator.sentMessages().filter((body) => body.to === phone);
    expect(sent).toMatchObject([{ type: 'text', text: { body: 'Hello John, how can I help?' } }]);
    expect(fake.requests.at(-1)!.body.messages.at(-1)).toEqual({ role: 'user', content: '<customer_message>Do you ship to Eilat?</customer_message>' });
  });
});
