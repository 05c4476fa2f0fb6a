import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import type { DB } from './tables.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  dialect: DialectName;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL only: the schema every connection uses (tests run each suite in a fresh one). */
  schema?: string;
  /** PostgreSQL only: connections in the pool. */
  poolSize?: number;
}

export function openDatabase(url: string, options: DatabaseOptions = {}): Database {
  const db = url.startsWith('sqlite:') ? openSqlite(url.slice('sqlite:'.length)) : openPostgres(url, options);
  const dialect: DialectName = url.startsWith('sqlite:') ? 'sqlite' : 'postgres';
  return {
    db,
    dialect,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

function openSqlite(path: string): Kysely<DB> {
  const file = path === ':memory:' ? path : resolve(path);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const connection = new SQLite(file);
  // WAL lets readers run beside the writer; FULL syncs every commit so an acknowledged write survives power loss.
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = FULL');
  connection.pragma('foreign_keys = ON');
  connection.pragma('busy_timeout = 5000');
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(connection) }) });
}

/** Prepared statements kept per connection; more distinct SQL texts than this and the oldest is dropped. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query anew, and compiling SQL costs more than running a
 * point lookup. The same SQL text gets the same prepared statement back (most recently used kept),
 * unless that statement is still being iterated (a streamed query), which gets a fresh one.
 */
function withStatementCache(connection: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => connection.close(),
    prepare(sql: string) {
      const cached = statements.get(sql);
      if (cached && !cached.busy) {
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const statement = connection.prepare(sql);
      if (cached) return statement;
      statements.set(sql, statement);
      if (statements.size > STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      return statement;
    },
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
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
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
