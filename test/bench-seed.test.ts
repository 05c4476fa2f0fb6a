import { afterAll, beforeAll, expect, it } from 'vitest';
import { BENCH_ACCOUNT_ID, BENCH_PASSWORD, LONG_CONVERSATION, benchApiKey, benchPersonEmail, seed, seededData, seededPhone, type SeedOptions } from '../bench/seed.js';
import { buildApp } from '../src/app.js';
import { closeDeps, createDeps } from '../src/compose.js';
import { createLogger, type Deps } from '../src/deps.js';
import { createScratchDatabase, describeEachDatabase, testConfig, type DatabaseKind, type ScratchDatabase } from './helpers.js';
import type { FastifyInstance } from 'fastify';
import { CSRF, sessionCookieOf } from './inbox-helpers.js';

// The benchmark's bulk seed (bench/seed.ts) must write the rows the service writes, or its figures
// would measure another database. No timing here: a small seed, read back through the API.

/** A scratch database seeded by the bench's seed, and the app on it. */
async function seededServer(kind: DatabaseKind, seedOptions: SeedOptions) {
  const scratch = await createScratchDatabase(kind);
  await scratch.underSchemaLock(() => seed(scratch.url, seedOptions));
  const deps = createDeps(testConfig({ DATABASE_URL: scratch.url, MEDIA_DIR: scratch.dir }), { database: scratch.open(), logger: createLogger('silent') });
  return { scratch, deps, app: await buildApp(deps) };
}

async function closeSeededServer({ scratch, deps, app }: { scratch?: ScratchDatabase; deps?: Deps; app?: FastifyInstance }): Promise<void> {
  await app?.close();
  if (deps) await closeDeps(deps);
  await scratch?.drop();
}

const options: SeedOptions = { customers: 60, conversations: 2, messagesPerConversation: 3, apiKeys: 3, now: new Date() };
const data = seededData(options);

describeEachDatabase('bench seed', (kind) => {
  let scratch: ScratchDatabase;
  let deps: Deps;
  let app: FastifyInstance;
  const call = async (path: string, body?: Record<string, unknown>) => {
    const response = await app.inject({
      method: body ? 'POST' : 'GET',
      url: path,
      headers: { 'mumble-api-key': benchApiKey(2) },
      ...(body && { payload: body }),
    });
    return { status: response.statusCode, body: response.json() };
  };

  beforeAll(async () => {
    ({ scratch, deps, app } = await seededServer(kind, options));
  });
  afterAll(() => closeSeededServer({ scratch, deps, app }));

  it('seeded customers read back through get-customer exactly as the seed describes them', async () => {
    for (let index = 0; index < options.customers; index++) {
      const { status, body } = await call(`/mumbleapi/get-customer?customer_phone=${seededPhone(index)}`);
      expect(status).toBe(200);
      expect(body.customer).toEqual(data.expectedRecord(index));
    }
  });

  it('writes the row add-new-customer writes for the same fields', async () => {
    const index = options.customers; // the next customer's fields, not seeded
    const expected = data.customerRow(index);
    const customFields = JSON.parse(expected.custom_fields as string);
    const { status } = await call('/mumbleapi/add-new-customer', {
      customer_phone: expected.phone,
      name: expected.name,
      email: expected.email,
      source: expected.source,
      bot_token: expected.bot ?? 'turn_off',
      ...JSON.parse(expected.attribution as string),
      ...customFields,
    });
    expect(status).toBe(200);
    const row = await deps.database.db.selectFrom('customers').selectAll().where('phone', '=', expected.phone as string).executeTakeFirstOrThrow();
    const { id, created_at, updated_at, ...fields } = expected;
    const { id: _id, created_at: _created, updated_at: _updated, ...written } = row;
    expect(written).toEqual(fields);
    expect([typeof id, typeof created_at, typeof updated_at]).toEqual(['string', 'string', 'string']);
  });

  it('keeps the custom-field counts that add-new-customer keeps', async () => {
    const { db } = deps.database;
    const counts = new Map<string, number>();
    for (const row of await db.selectFrom('customers').select('custom_fields').where('account_id', '=', BENCH_ACCOUNT_ID).execute()) {
      for (const name of Object.keys(JSON.parse(row.custom_fields))) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const stored = await db.selectFrom('custom_field_names').select(['name', 'customers_count']).where('account_id', '=', BENCH_ACCOUNT_ID).execute();
    expect(new Map(stored.map((row) => [row.name, Number(row.customers_count)]))).toEqual(counts);
  });

  it("sets the account's customer count that get-all-customers answers", async () => {
    const rows = await deps.database.db
      .selectFrom('customers')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('account_id', '=', BENCH_ACCOUNT_ID)
      .executeTakeFirstOrThrow();
    const { status, body } = await call('/mumbleapi/get-all-customers');
    expect(status).toBe(200);
    expect(body.total).toBe(Number(rows.count));
  });

  it('seeds conversations whose window is open, listed by get-conversation, and sendable', async () => {
    const [first] = data.conversationCustomers();
    const conversation = await call(`/mumbleapi/get-conversation?customer_phone=${seededPhone(first)}`);
    expect(conversation.status).toBe(200);
    expect(conversation.body.total).toBe(options.messagesPerConversation);
    expect(conversation.body.messages[0]).toMatchObject({ direction: 'inbound', type: 'text', status: 'received', to: '15550000000' });
    const sent = await call('/mumbleapi/send-text-message', { customer_phone: seededPhone(first), text: 'hello' });
    expect(sent.status).toBe(200);
  });
});

// The inbox's history (issue 18): a long-tailed message count per customer, a conversation of
// LONG_CONVERSATION messages, people in teams with assignments and read marks, the full-text index
// the triggers keep, and ids that carry on after the seeded ones.
const inboxOptions: SeedOptions = { customers: 400, conversations: 4, messagesPerConversation: 3, apiKeys: 3, now: new Date(), messages: 14_000, longConversations: 1, agents: 6, teams: 2 };
const inboxData = seededData(inboxOptions);

describeEachDatabase('bench seed: the inbox history', (kind) => {
  let scratch: ScratchDatabase;
  let deps: Deps;
  let app: FastifyInstance;
  const asAgent = async (agent: number) => {
    const signIn = await app.inject({ method: 'POST', url: '/app/api/session', headers: CSRF, payload: { email: benchPersonEmail(agent), password: BENCH_PASSWORD } });
    expect(signIn.statusCode).toBe(200);
    const cookie = sessionCookieOf(signIn);
    return async (url: string) => {
      const response = await app.inject({ method: 'GET', url, headers: { cookie } });
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };
  };

  beforeAll(async () => {
    ({ scratch, deps, app } = await seededServer(kind, inboxOptions));
  });
  afterAll(() => closeSeededServer({ scratch, deps, app }));

  it('seeds exactly the messages asked for, most customers with none, one conversation of LONG_CONVERSATION', async () => {
    const { db } = deps.database;
    const total = await db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(total.n)).toBe(inboxOptions.messages);
    const counts = Array.from({ length: inboxOptions.customers }, (_, index) => inboxData.historyOf(index)?.count ?? 0);
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(inboxOptions.messages);
    expect(counts.filter((n) => n === 0).length).toBeGreaterThan(inboxOptions.customers / 2);
    const [long] = inboxData.longConversationCustomers();
    const conversation = await call(`/mumbleapi/get-conversation?customer_phone=${seededPhone(long)}`);
    expect(conversation.body.total).toBe(LONG_CONVERSATION);
  });

  const call = async (path: string, body?: Record<string, unknown>) => {
    const response = await app.inject({ method: body ? 'POST' : 'GET', url: path, headers: { 'mumble-api-key': benchApiKey(1) }, ...(body && { payload: body }) });
    return { status: response.statusCode, body: response.json() };
  };

  it('seeded customers, with their assignments, read back through get-customer as the seed describes them', async () => {
    for (let index = 0; index < inboxOptions.customers; index += 7) {
      const { status, body } = await call(`/mumbleapi/get-customer?customer_phone=${seededPhone(index)}`);
      expect(status).toBe(200);
      expect(body.customer).toEqual(inboxData.expectedRecord(index));
    }
  });

  it("lists an agent's conversations as the visibility rule and the read marks say", async () => {
    const agent = 1;
    const get = await asAgent(agent);
    const visible = Array.from({ length: inboxOptions.customers }, (_, index) => index)
      .filter((index) => inboxData.historyOf(index) && inboxData.agentSees(agent, index))
      .sort((a, b) => inboxData.historyOf(b)!.lastMs - inboxData.historyOf(a)!.lastMs || (inboxData.customerRow(b).id as string).localeCompare(inboxData.customerRow(a).id as string));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/app/api/conversations?tab=all&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      for (const row of page.conversations) {
        const index = visible[seen.length];
        const history = inboxData.historyOf(index)!;
        expect(row.id).toBe(inboxData.customerRow(index).id);
        expect(row.last_message).toMatchObject({ direction: 'inbound', created_at: new Date(history.lastMs).toISOString() });
        const read = inboxData.assignmentOf(index).agent === agent ? inboxData.readPositionOf(index)! : -1;
        // Inbound messages are those an even distance from the last one; unread: after the read mark.
        let unread = 0;
        for (let position = read + 1; position < history.count; position++) if ((history.count - 1 - position) % 2 === 0) unread++;
        expect(row.unread).toBe(unread);
        seen.push(row.id);
      }
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.length).toBe(visible.length);
    const counts = await get('/app/api/conversations/counts');
    expect(counts.counts.all).toBe(visible.length);
  });

  it('opens the long conversation: its newest page, its unread count, and full-text search over the messages', async () => {
    const [long] = inboxData.longConversationCustomers();
    const agent = [0, 1, 2, 3, 4, 5].find((candidate) => inboxData.agentSees(candidate, long))!;
    const get = await asAgent(agent);
    const id = inboxData.customerRow(long).id as string;
    const page = await get(`/app/api/conversations/${id}/timeline?limit=50`);
    expect(page.items).toHaveLength(50);
    expect(page.items[0]).toMatchObject({ kind: 'message', direction: 'inbound', created_at: new Date(inboxData.historyOf(long)!.lastMs).toISOString() });
    const { conversation } = await get(`/app/api/conversations/${id}`);
    const read = inboxData.assignmentOf(long).agent === agent ? inboxData.readPositionOf(long)! : -1;
    expect(conversation.unread).toBe(Math.ceil((LONG_CONVERSATION - 1 - read) / 2));
    const found = await get('/app/api/conversations?q=delivery');
    expect(found.conversations.length).toBeGreaterThan(0);
  });

  it('new messages take ids after the seeded ones', async () => {
    const [first] = inboxData.conversationCustomers();
    const sent = await call('/mumbleapi/send-text-message', { customer_phone: seededPhone(first), text: 'after the seed' });
    expect(sent.status).toBe(200);
    expect(sent.body.id).toBeGreaterThan(inboxOptions.messages!);
  });
});
