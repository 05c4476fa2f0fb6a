import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import { GroupCommit } from './group-commit.js';
import { statementNames } from './prepared.js';
import { migrations } from './migrations/index.js';
import type { DB } from './tables.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  dialect: DialectName;
  /**
   * Resolves once every write committed so far is on stable storage. A reply (and anything else the
   * outside world learns, a webhook or a WhatsApp send) waits for it: with group commit on SQLite a
   * commit is visible to other requests before its fsync. Rejects for good if a sync failed.
   */
  durable(): Promise<void>;
  /** Resolves when the database answers a trivial query (and its writes can still be made durable). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL only: the schema every connection uses (tests run each suite in a fresh one). */
  schema?: string;
  /** PostgreSQL only: connections in the pool. */
  poolSize?: number;
  /**
   * SQLite only: commits share fsyncs run off the event loop (see GroupCommit), for a process that
   * waits for `durable()` before it tells anyone about a write (the server does, in every reply).
   * Without it every commit is synced before it returns (`synchronous=FULL`), as a CLI command needs.
   */
  groupCommit?: boolean;
  /** SQLite with group commit: told how long each fsync of the log took, in seconds (a metric). */
  onSync?: (seconds: number) => void;
}

const ALWAYS_DURABLE = () => Promise.resolve();

/** The SQLite file of a `sqlite:` DATABASE_URL (null for PostgreSQL and for `sqlite::memory:`). */
export function sqliteFileOf(databaseUrl: string): string | null {
  const path = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : null;
  return path === null || path === ':memory:' ? null : resolve(path);
}

export function openDatabase(url: string, options: DatabaseOptions = {}): Database {
  // PostgreSQL acknowledges a commit once its WAL is flushed: durable as soon as it returns.
  const { db, durable, close } = url.startsWith('sqlite:')
    ? openSqlite(url.slice('sqlite:'.length), options)
    : { db: openPostgres(url, options), durable: ALWAYS_DURABLE, close: undefined };
  const dialect: DialectName = url.startsWith('sqlite:') ? 'sqlite' : 'postgres';
  const database: Database = {
    db,
    dialect,
    durable,
    ping: async () => {
      await sql`select 1`.execute(db);
      await database.durable();
    },
    close: close ?? (() => db.destroy()),
  };
  return database;
}

interface OpenedSqlite {
  db: Kysely<DB>;
  durable(): Promise<void>;
  close(): Promise<void>;
}

function openSqlite(path: string, { groupCommit = false, onSync }: DatabaseOptions): OpenedSqlite {
  const file = path === ':memory:' ? path : resolve(path);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const connection = new SQLite(file);
  // WAL lets readers run beside the writer. An acknowledged write must survive power loss: FULL syncs
  // the log at every commit; with group commit, commits are synced together before anyone is told.
  const wal = groupCommit && file !== ':memory:' ? walSyncer(`${file}-wal`) : undefined;
  const grouped = wal && new GroupCommit(onSync ? timed(wal.sync, onSync) : wal.sync);
  connection.pragma('journal_mode = WAL');
  connection.pragma(`synchronous = ${grouped ? 'NORMAL' : 'FULL'}`);
  connection.pragma('foreign_keys = ON');
  connection.pragma('busy_timeout = 5000');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(connection, grouped) }) });
  if (!grouped) return { db, durable: ALWAYS_DURABLE, close: () => db.destroy() };
  return {
    db,
    durable: () => grouped.durable(),
    close: async () => {
      // Nothing committed is left unsynced (closing syncs only when no other process has the file open).
      await grouped.durable().catch(() => {});
      await wal.close();
      await db.destroy();
    },
  };
}

function timed(work: () => Promise<void>, report: (seconds: number) => void): () => Promise<void> {
  return async () => {
    const started = performance.now();
    await work();
    report((performance.now() - started) / 1000);
  };
}

/**
 * fsync of the write-ahead log, on the thread pool. The log file stays the same file while this
 * process has the database open (SQLite deletes it only when its last connection closes), so one
 * handle, opened at the first sync (after the first commit, when the file exists), serves them all.
 */
function walSyncer(walFile: string) {
  let handle: Promise<FileHandle> | undefined;
  return {
    sync: async () => {
      handle ??= open(walFile, 'r');
      await (await handle).sync();
    },
    close: async () => {
      await (await handle?.catch(() => undefined))?.close();
    },
  };
}

/** Prepared statements kept per connection; more distinct SQL texts than this and the oldest is dropped. */
const STATEMENT_CACHE_SIZE = 500;

/** A prepared statement as Kysely's driver uses it: `reader`, `all`, `run` and (selects) `iterate`. */
type DriverStatement = ReturnType<SqliteDatabase['prepare']>;

/**
 * Kysely's SQLite driver prepares every query anew, and compiling SQL costs more than running a
 * point lookup. The same SQL text gets the same prepared statement back (most recently used kept),
 * unless that statement is still being iterated (a streamed query), which gets a fresh one. With
 * group commit, each statement also reports the commits it makes.
 */
function withStatementCache(connection: SQLite.Database, grouped: GroupCommit | undefined): SqliteDatabase {
  const statements = new Map<string, { raw: SQLite.Statement; driver: DriverStatement }>();
  const forDriver = grouped ? reportingCommits(connection, () => grouped.noteCommit()) : (raw: SQLite.Statement) => raw;
  return {
    close: () => connection.close(),
    prepare(sql: string) {
      const cached = statements.get(sql);
      if (cached && !cached.raw.busy) {
        statements.delete(sql);
        statements.set(sql, cached);
        return cached.driver;
      }
      const raw = connection.prepare(sql);
      const driver = forDriver(raw);
      if (cached) return driver;
      statements.set(sql, { raw, driver });
      if (statements.size > STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      return driver;
    },
  };
}

/**
 * Wraps a connection's statements so that each commit that wrote something calls `onCommit`: a
 * writing statement outside a transaction, or the end of a transaction in which one ran (COMMIT, or
 * a ROLLBACK, which costs only a needless sync). Streams (`iterate`) are selects only.
 */
export function reportingCommits(connection: SQLite.Database, onCommit: () => void) {
  let wroteSinceCommit = false;
  const afterStatement = () => {
    if (wroteSinceCommit && !connection.inTransaction) {
      wroteSinceCommit = false;
      onCommit();
    }
  };
  return (raw: SQLite.Statement): DriverStatement => {
    const writes = !raw.readonly;
    const execute = <T>(run: () => T): T => {
      if (writes) wroteSinceCommit = true;
      try {
        return run();
      } finally {
        afterStatement();
      }
    };
    return {
      reader: raw.reader,
      all: (parameters) => execute(() => raw.all(parameters)),
      run: (parameters) => execute(() => raw.run(parameters)),
      iterate: (parameters) => raw.iterate(parameters),
    };
  };
}

function openPostgres(url: string, options: DatabaseOptions): Kysely<DB> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client that loses its connection emits 'error'; without a listener that kills the process.
  pool.on('error', () => {});
  pool.on('connect', namedStatements);
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/** PostgreSQL's error when a prepared statement's columns changed under it (a migration added one). */
const CACHED_PLAN_CHANGED = '0A000';

/**
 * Makes the client run the queries compiled once (statementNames) as named prepared statements:
 * PostgreSQL parses and plans each once per connection instead of on every call, which halves the
 * time of a point lookup on a busy server. Should a migration change a table under a statement
 * (another instance upgrading first), PostgreSQL refuses that statement on this connection: it runs
 * unnamed from then on, and the call is not lost.
 */
function namedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const refused = new Set<string>();
  const named = (text: string, values: unknown, name: string) =>
    query({ name, text, values }).catch((error: { code?: string }) => {
      if (error.code !== CACHED_PLAN_CHANGED) throw error;
      refused.add(name);
      return query(text, values);
    });
  client.query = ((text: unknown, values?: unknown, callback?: unknown) => {
    const name = typeof text === 'string' && callback === undefined ? statementNames.get(text) : undefined;
    return name && !refused.has(name) ? named(text as string, values, name) : query(text, values, callback);
  }) as typeof client.query;
}

/**
 * The PostgreSQL schema our tables live in (the first of the search path). Kysely's migrator looks
 * for its bookkeeping tables in every schema unless told which one, so another schema's (another
 * app in the same database, or a concurrent test) would be taken for ours and ours never created.
 */
async function migrationTableSchema(db: Kysely<DB>): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return undefined;
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema ?? undefined;
}

/** Brings the schema up to date. Safe to run on every start and from several instances. */
export async function migrateToLatest(db: Kysely<DB>): Promise<string[]> {
  const schema = await migrationTableSchema(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema && { migrationTableSchema: schema }),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (attempt >= 5 || !isOtherSchemaVanished(error, schema)) throw error;
  }
}

/**
 * Kysely's migrator introspects every schema of the database before it takes its lock; a schema
 * dropped meanwhile (another app's, or a finished test's) fails that query with "schema … does not
 * exist". Nothing has been applied then, so trying again is safe.
 */
function isOtherSchemaVanished(error: unknown, ours: string | undefined): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '3F000' && typeof message === 'string' && !message.includes(`"${ours}"`);
}
