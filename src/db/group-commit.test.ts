import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportingCommits } from './database.js';
import { DurabilityError, GroupCommit } from './group-commit.js';

/** A sync the test completes by hand, counting how often it was started. */
function manualSync() {
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  return {
    sync: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    get started() {
      return pending.length;
    },
    finish: (n: number) => pending[n].resolve(),
    fail: (n: number, error: Error) => pending[n].reject(error),
  };
}

/** 'settled' or 'pending', after the microtasks already due have run. */
async function state(promise: Promise<unknown>): Promise<string> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled ? 'settled' : 'pending';
}

describe('GroupCommit', () => {
  it('is durable at once while nothing was committed, and syncs nothing', async () => {
    const log = manualSync();
    const group = new GroupCommit(log.sync);
    await group.durable();
    expect(log.started).toBe(0);
  });

  it('answers a commit only after a sync that started after it; commits made meanwhile share the next sync', async () => {
    const log = manualSync();
    const group = new GroupCommit(log.sync);
    group.noteCommit();
    const first = group.durable();
    expect(log.started).toBe(1);
    // Three more commits while the first sync runs: no new sync yet, and none of them is durable.
    group.noteCommit();
    const second = group.durable();
    group.noteCommit();
    group.noteCommit();
    const fourth = group.durable();
    expect(log.started).toBe(1);
    log.finish(0);
    expect(await state(first)).toBe('settled');
    expect(await state(second)).toBe('pending');
    expect(await state(fourth)).toBe('pending');
    // One sync for the three of them.
    expect(log.started).toBe(2);
    log.finish(1);
    expect(await state(second)).toBe('settled');
    expect(await state(fourth)).toBe('settled');
    expect(log.started).toBe(2);
    await group.durable();
  });

  it('after a failed sync refuses every waiter and every later caller, and syncs no more', async () => {
    const log = manualSync();
    const group = new GroupCommit(log.sync);
    group.noteCommit();
    const waiting = group.durable();
    log.fail(0, new Error('EIO: i/o error, fsync'));
    await expect(waiting).rejects.toBeInstanceOf(DurabilityError);
    await expect(group.durable()).rejects.toThrow(/could not be synced to disk: EIO/);
    group.noteCommit();
    expect(log.started).toBe(1);
  });
});

describe('reportingCommits on SQLite', () => {
  let dir: string;
  let connection: SQLite.Database;
  let commits: number;
  let db: Kysely<{ t: { n: number } }>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmumble-commits-'));
    connection = new SQLite(join(dir, 'test.db'));
    connection.pragma('journal_mode = WAL');
    connection.exec('create table t (n integer not null unique)');
    commits = 0;
    const wrap = reportingCommits(connection, () => (commits += 1));
    db = new Kysely({ dialect: new SqliteDialect({ database: { close: () => connection.close(), prepare: (text: string) => wrap(connection.prepare(text)) } }) });
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a write outside a transaction once, and nothing for reads', async () => {
    await db.insertInto('t').values({ n: 1 }).execute();
    expect(commits).toBe(1);
    await db.selectFrom('t').selectAll().execute();
    await sql`select count(*) from t`.execute(db);
    expect(commits).toBe(1);
  });

  it('reports a transaction once, at its COMMIT, however many writes it made', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ n: 1 }).execute();
      await trx.insertInto('t').values({ n: 2 }).execute();
      expect(commits).toBe(0);
    });
    expect(commits).toBe(1);
    // A read-only transaction commits nothing to sync.
    await db.transaction().execute((trx) => trx.selectFrom('t').selectAll().execute());
    expect(commits).toBe(1);
  });

  it('reports a statement that failed, and a rolled-back transaction (a needless sync, never a missed one)', async () => {
    await db.insertInto('t').values({ n: 1 }).execute();
    await expect(db.insertInto('t').values({ n: 1 }).execute()).rejects.toThrow(/UNIQUE/);
    expect(commits).toBe(2);
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ n: 2 }).execute();
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(commits).toBe(3);
  });
});
