import { afterAll, beforeAll, expect, it } from 'vitest';
import { BENCH_ACCOUNT_ID, benchApiKey, seed, seededData, seededPhone, type SeedOptions } from '../bench/seed.js';
import { buildApp } from '../src/app.js';
import { closeDeps, createDeps } from '../src/compose.js';
import { createLogger, type Deps } from '../src/deps.js';
import { createScratchDatabase, describeEachDatabase, testConfig, type ScratchDatabase } from './helpers.js';
import type { FastifyInstance } from 'fastify';

// The benchmark's bulk seed (bench/seed.ts) must write the rows the service writes, or its figures
// would measure another database. No timing here: a small seed, read back through the API.

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
    scratch = await createScratchDatabase(kind);
    await scratch.underSchemaLock(() => seed(scratch.url, options));
    deps = createDeps(testConfig({ DATABASE_URL: scratch.url, MEDIA_DIR: scratch.dir }), { database: scratch.open(), logger: createLogger('silent') });
    app = await buildApp(deps);
  });

  afterAll(async () => {
    await app?.close();
    if (deps) await closeDeps(deps);
    await scratch?.drop();
  });

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
