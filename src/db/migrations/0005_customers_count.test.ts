import { Migrator, sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createScratchDatabase, describeEachDatabase, type ScratchDatabase } from '../../../test/helpers.js';
import type { Database } from '../database.js';
import { migrations } from './index.js';

// An existing database gains accounts.customers_count: it must start at each account's rows, or
// get-all-customers' total would be wrong for every account created before the upgrade.

describeEachDatabase('migration 0005_customers_count', (kind) => {
  let scratch: ScratchDatabase;
  let database: Database;

  beforeEach(async () => {
    scratch = await createScratchDatabase(kind);
    database = scratch.open();
  });
  afterEach(async () => {
    await database.close();
    await scratch.drop();
  });

  /** Kysely's migrator on this database (on PostgreSQL, its bookkeeping in our schema, as migrateToLatest has it). */
  async function migrator(): Promise<Migrator> {
    const db = database.db as Kysely<any>;
    const schema = kind === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0].schema : undefined;
    return new Migrator({ db, provider: { getMigrations: async () => migrations }, ...(schema && { migrationTableSchema: schema }) });
  }

  async function migrate(run: (migrator: Migrator) => Promise<{ error?: unknown }>): Promise<void> {
    const m = await migrator();
    const { error } = await scratch.underSchemaLock(() => run(m));
    if (error) throw error;
  }

  /** Accounts and customers as a database before 0005 holds them. */
  async function insertAccount(id: string, customers: number): Promise<void> {
    const db = database.db as Kysely<any>;
    const at = '2026-01-01T00:00:00.000Z';
    await db.insertInto('accounts').values({ id, name: id, created_at: at }).execute();
    for (let i = 0; i < customers; i++) {
      await db
        .insertInto('customers')
        .values({ id: `${id}-${i}`, account_id: id, phone: `9725010${String(i).padStart(5, '0')}`, created_at: at, updated_at: at })
        .execute();
    }
  }

  async function counts(): Promise<Record<string, number>> {
    const rows = await database.db.selectFrom('accounts').select(['id', 'customers_count']).orderBy('id').execute();
    return Object.fromEntries(rows.map((row) => [row.id, Number(row.customers_count)]));
  }

  it("starts each account's count at the customers it already has, and new accounts at 0", async () => {
    await migrate((m) => m.migrateTo('0004_cloud_api'));
    await insertAccount('a', 3);
    await insertAccount('b', 0);
    await insertAccount('c', 1);
    await migrate((m) => m.migrateToLatest());
    expect(await counts()).toEqual({ a: 3, b: 0, c: 1 });

    await database.db.insertInto('accounts').values({ id: 'd', name: 'd', created_at: '2026-01-02T00:00:00.000Z' }).execute();
    expect((await counts()).d).toBe(0);
  });

  it('is undone by its down migration (and those after it), and counts again when reapplied', async () => {
    await migrate((m) => m.migrateTo('0004_cloud_api'));
    await insertAccount('a', 2);
    await migrate((m) => m.migrateToLatest());
    await migrate((m) => m.migrateTo('0004_cloud_api'));
    await insertAccount('b', 4);
    await migrate((m) => m.migrateToLatest());
    expect(await counts()).toEqual({ a: 2, b: 4 });
  });
});
