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
import { createDeps, createLogger, type Deps } from '../src/deps.js';
import { createAccount, createApiKey } from '../src/modules/accounts/accounts.service.js';

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

export interface TestDatabase {
  url: string;
  database: Database;
  /** Opens another connection set on the same data (a second instance). */
  reopen(): Database;
  drop(): Promise<void>;
}

/** A fresh, migrated database: a temporary SQLite file, or a new PostgreSQL schema. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'openmumble-test-'));
    const url = `sqlite:${join(dir, 'test.db')}`;
    const database = openDatabase(url);
    await migrateToLatest(database.db);
    return { url, database, reopen: () => openDatabase(url), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set');
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const database = openDatabase(postgresUrl, { schema, poolSize: 5 });
  await migrateToLatest(database.db);
  return {
    url: postgresUrl,
    database,
    reopen: () => openDatabase(postgresUrl, { schema, poolSize: 5 }),
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`drop schema ${schema} cascade`);
      await client.end();
    },
  };
}

export interface TestContext {
  app: FastifyInstance;
  deps: Deps;
  clock: ManualClock;
  accountId: string;
  apiKey: string;
  testDatabase: TestDatabase;
  /** app.inject with the account's key. */
  call(method: 'GET' | 'POST' | 'DELETE' | 'PUT', url: string, payload?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
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
  const config = testConfig({ DATABASE_URL: testDatabase.url, ...env });
  const deps = createDeps(config, { database: testDatabase.database, clock, logger: createLogger('silent') });
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
      await testDatabase.database.close();
      await testDatabase.drop();
    },
  };
}
