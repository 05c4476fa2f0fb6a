import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { describe } from 'vitest';
import { buildApp } from '../src/app.js';
import { ManualClock } from '../src/clock.js';
import { loadConfig, type Config } from '../src/config.js';
import { migrateToLatest, openDatabase, type Database } from '../src/db/database.js';
import type { CustomerRow } from '../src/db/tables.js';
import { closeDeps, createDeps } from '../src/compose.js';
import { createLogger, type Deps } from '../src/deps.js';
import { createAccount, createApiKey } from '../src/modules/accounts/accounts.service.js';
import { ManualScheduler } from '../src/scheduler.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** The databases every repository-backed suite runs on: SQLite always, PostgreSQL when configured. */
export const DATABASE_KINDS: DatabaseKind[] = ['sqlite', 'postgres'];

export const postgresUrl = process.env.TEST_DATABASE_URL;
export const redisUrl = process.env.TEST_REDIS_URL;

/**
 * `describe` once per database. Without TEST_DATABASE_URL the PostgreSQL run is reported as skipped,
 * so the output says what did not run.
 */
export function describeEachDatabase(name: string, body: (kind: DatabaseKind) => void): void {
  for (const kind of DATABASE_KINDS) {
    const skip = kind === 'postgres' && !postgresUrl;
    (skip ? describe.skip : describe)(`${name} [${kind}]`, () => body(kind));
  }
}

/**
 * A database of its own, empty: a temporary SQLite file, or a new PostgreSQL schema (created and
 * dropped under the schema lock). Its `url` is a DATABASE_URL for a child process or the CLI.
 */
export interface ScratchDatabase {
  /** sqlite:<file>, or the PostgreSQL URL with the schema as the search path. */
  url: string;
  /** A temporary folder of its own (the SQLite file is in it), removed with the database. */
  dir: string;
  /** A connection set on it, from this process. */
  open(): Database;
  /** Runs `work` (that migrates this database, say) while no other test file creates, migrates or drops a schema. */
  underSchemaLock<T>(work: () => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

export async function createScratchDatabase(kind: DatabaseKind): Promise<ScratchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'openmumble-test-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  if (kind === 'sqlite') {
    const url = `sqlite:${join(dir, 'test.db')}`;
    // As the server opens it: commits share their fsyncs, and replies wait for them.
    return { url, dir, open: () => openDatabase(url, { groupCommit: true }), underSchemaLock: (work) => work(), drop: async () => removeDir() };
  }
  if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set');
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await withSchemaLock((admin) => admin.query(`create schema ${schema}`));
  const url = new URL(postgresUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    dir,
    open: () => openDatabase(postgresUrl, { schema, poolSize: 5 }),
    underSchemaLock: (work) => withSchemaLock(() => work()),
    drop: async () => {
      await withSchemaLock((admin) => admin.query(`drop schema ${schema} cascade`));
      removeDir();
    },
  };
}

export interface TestDatabase {
  url: string;
  database: Database;
  /** Opens another connection set on the same data (a second instance). */
  reopen(): Database;
  drop(): Promise<void>;
}

/** A fresh, migrated database: a temporary SQLite file, or a new PostgreSQL schema. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const scratch = await createScratchDatabase(kind);
  const database = scratch.open();
  await scratch.underSchemaLock(() => migrateToLatest(database.db));
  return { url: scratch.url, database, reopen: scratch.open, drop: scratch.drop };
}

/**
 * Runs `work` while no other test file creates, migrates or drops a PostgreSQL schema: the
 * migrator lists tables across every schema, and fails when one is dropped under it.
 */
export async function withSchemaLock<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  try {
    await admin.query(`select pg_advisory_lock(hashtext('openmumble-test-schemas'))`);
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** Resolves once `condition` holds, looking every `everyMs`; fails (rather than hangs) after `limitMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, { limitMs = 20_000, everyMs = 10 } = {}): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A request to the app with an account's key: method, URL, JSON payload, extra headers. */
export type Call = (method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH', url: string, payload?: unknown, headers?: Record<string, string>) => Promise<LightMyRequestResponse>;

export interface TestContext {
  app: FastifyInstance;
  deps: Deps;
  clock: ManualClock;
  /** Deferred work (the sandbox's status delays) runs only when advanced: `await scheduler.advance(ms)` also moves the clock. */
  scheduler: ManualScheduler;
  accountId: string;
  apiKey: string;
  testDatabase: TestDatabase;
  /** app.inject with the account's key. */
  call: Call;
  /** A second account with its own key, to prove tenants never see each other. */
  otherAccount(): Promise<{ accountId: string; apiKey: string }>;
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', ...overrides });
}

/** A whole app on a fresh database with a manual clock and one account with a key. */
export async function createTestContext(kind: DatabaseKind, env: Record<string, string> = {}): Promise<TestContext> {
  const testDatabase = await createTestDatabase(kind);
  const clock = new ManualClock('2026-06-01T12:00:00.000Z');
  const scheduler = new ManualScheduler(clock);
  const mediaDir = mkdtempSync(join(tmpdir(), 'openmumble-media-'));
  const config = testConfig({ DATABASE_URL: testDatabase.url, MEDIA_DIR: mediaDir, ...env });
  const deps = createDeps(config, { database: testDatabase.database, clock, scheduler, logger: createLogger('silent') });
  const app = await buildApp(deps);
  const newAccount = async (name: string) => {
    const account = await createAccount(deps, name);
    const key = await createApiKey(deps, account.id, 'test');
    return { accountId: account.id, apiKey: key.key };
  };
  const { accountId, apiKey } = await newAccount('Test account');
  return {
    app,
    deps,
    clock,
    scheduler,
    accountId,
    apiKey,
    testDatabase,
    call: (method, url, payload, headers = {}) =>
      app.inject({
        method,
        url,
        headers: { 'mumble-api-key': apiKey, ...headers },
        ...(payload !== undefined && { payload: payload as InjectOptions['payload'] }),
      }),
    otherAccount: () => newAccount('Other account'),
    close: async () => {
      await app.close();
      await closeDeps(deps);
      await testDatabase.drop();
      rmSync(mediaDir, { recursive: true, force: true });
    },
  };
}

/**
 * Another instance of the server: a second app on the same database (its own connections), clock
 * and account, with its own rate limiter and workers. `config` overrides the first one's settings.
 */
export async function createSecondInstance(ctx: TestContext, config: Partial<Config> = {}) {
  const database = ctx.testDatabase.reopen();
  const deps = createDeps({ ...ctx.deps.config, ...config }, { database, clock: ctx.clock, logger: createLogger('silent') });
  const app = await buildApp(deps);
  return {
    app,
    deps,
    call: (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
      app.inject({ method, url, headers: { 'mumble-api-key': ctx.apiKey }, ...(payload !== undefined && { payload: payload as InjectOptions['payload'] }) }),
    close: async () => {
      await app.close();
      await closeDeps(deps);
    },
  };
}

/** A customer row as the service stores one, for tests that insert rows directly: empty where not given. */
export function customerRow(fields: Pick<CustomerRow, 'id' | 'account_id' | 'phone' | 'created_at'> & Partial<CustomerRow>): CustomerRow {
  return {
    name: null,
    email: null,
    source: null,
    country: 'IL',
    conversation_status: 'new',
    last_interaction_at: null,
    last_inbound_at: null,
    agent_id: null,
    team_id: null,
    bot: null,
    bot_paused_at: null,
    bot_paused_by: null,
    whatsapp_user_id: null,
    custom_fields: '{}',
    attribution: '{}',
    updated_at: fields.created_at,
    ...fields,
  };
}
