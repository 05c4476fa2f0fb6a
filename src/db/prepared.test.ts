import { afterEach, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../test/helpers.js';
import { sql } from 'kysely';
import { preparedQuery, statementNames } from './prepared.js';

describeEachDatabase('preparedQuery', (kind) => {
  let test: TestDatabase;
  beforeEach(async () => {
    test = await createTestDatabase(kind);
    const { db } = test.database;
    await db.insertInto('accounts').values([
      { id: 'a1', name: 'one', created_at: '2026-01-01T00:00:00.000Z' },
      { id: 'a2', name: 'two', created_at: '2026-01-02T00:00:00.000Z' },
      { id: 'a3', name: 'three', created_at: '2026-01-03T00:00:00.000Z' },
    ]).execute();
  });
  afterEach(async () => test.drop());

  it('runs with each call’s values what Kysely would run, constants of the query kept', async () => {
    const { db } = test.database;
    const named = preparedQuery((db, id: string, name: string) =>
      db.selectFrom('accounts').select(['id', 'name']).where('id', '=', id).where('name', '=', name).where('channel_type', '=', 'sandbox'),
    );
    expect(await named(db, 'a1', 'one')).toEqual([{ id: 'a1', name: 'one' }]);
    expect(await named(db, 'a2', 'two')).toEqual([{ id: 'a2', name: 'two' }]);
    expect(await named(db, 'a2', 'one')).toEqual([]);
  });

  it('binds numbers (limit, offset) and works inside a transaction', async () => {
    const page = preparedQuery((db, from: string, limit: number, offset: number) =>
      db.selectFrom('accounts').select('id').where('created_at', '>=', from).orderBy('created_at').limit(limit).offset(offset),
    );
    const { db } = test.database;
    expect(await page(db, '2026-01-01', 2, 1)).toEqual([{ id: 'a2' }, { id: 'a3' }]);
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values({ id: 'a4', name: 'four', created_at: '2026-01-04T00:00:00.000Z' }).execute();
      expect(await page(trx, '2026-01-02', 5, 0)).toEqual([{ id: 'a2' }, { id: 'a3' }, { id: 'a4' }]);
    });
  });

  it('runs as a named statement on PostgreSQL, and still answers after a migration changed its table', async () => {
    const { db } = test.database;
    const account = preparedQuery((db, id: string) => db.selectFrom('accounts').selectAll().where('id', '=', id));
    // Several calls: each pooled connection prepares it once.
    for (let n = 0; n < 12; n++) expect((await account(db, 'a1'))[0]).toMatchObject({ id: 'a1', name: 'one' });
    const [first] = await account(db, 'a1');
    const compiled = [...statementNames].find(([text]) => text === `select * from "accounts" where "id" = ${kind === 'postgres' ? '$1' : '?'}`);
    expect(compiled?.[1]).toMatch(/^openmumble_\d+$/);
    if (kind === 'postgres') {
      const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(db);
      // pg_prepared_statements shows the statements of the connection that runs this query, one of the pool's.
      expect(prepared.rows.map((row) => row.name)).toContain(compiled![1]);
    }
    // Another instance upgrades first: a column appears under the prepared `select *`.
    await sql`alter table accounts add column added_by_a_later_version text`.execute(db);
    for (let n = 0; n < 12; n++) expect(await account(db, 'a1')).toEqual([{ ...first, added_by_a_later_version: null }]);
  });

  it('refuses a query that does not bind an argument', async () => {
    const shaped = preparedQuery((db, _unused: string) => db.selectFrom('accounts').select('id'));
    await expect(shaped(test.database.db, 'x')).rejects.toThrow(/argument 0 is not a bound value/);
  });
});
