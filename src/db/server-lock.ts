import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';

/**
 * One server per SQLite file (docs/decisions.md, "One server per SQLite file"). Two servers on one
 * file would each run the jobs worker and group commit as if alone; SQLite would keep the data
 * whole, but not our promises about it. A server holds an exclusive lock on a small side database
 * beside the data, `<file>-server-lock`, for as long as it runs: SQLite's own file lock (fcntl), in
 * EXCLUSIVE locking mode, so it is never let go while the connection is open, and the operating
 * system drops it when the process ends, however it ends (kill -9 included). Nothing is stale after
 * a crash and nothing is guessed from times. The database itself is not locked: CLI commands
 * (`openmumble agents add`, …) and `openmumble backup` work beside a running server.
 */

export class DatabaseInUseError extends Error {}

export interface ServerLock {
  /** The side database that holds the lock (it stays on disk; it holds no data of ours). */
  readonly path: string;
  release(): void;
}

export function serverLockPath(databaseFile: string): string {
  return `${databaseFile}-server-lock`;
}

/**
 * Takes the lock for `databaseFile` (an absolute path), or throws DatabaseInUseError at once when
 * another process (or another server in this one) holds it.
 */
export function lockSqliteDatabase(databaseFile: string, holder = 'an openmumble server'): ServerLock {
  const path = serverLockPath(databaseFile);
  mkdirSync(dirname(path), { recursive: true });
  // No busy timeout: a held lock is an answer, not something to wait for.
  const connection = new SQLite(path, { timeout: 0 });
  try {
    connection.pragma('locking_mode = EXCLUSIVE');
    connection.pragma('journal_mode = MEMORY');
    connection.exec('BEGIN EXCLUSIVE');
    // A write takes the exclusive lock that EXCLUSIVE locking mode then keeps. Who holds it is noted for a person who looks.
    connection.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER, holder TEXT, since TEXT)');
    connection.exec('DELETE FROM holder');
    connection.prepare('INSERT INTO holder VALUES (?, ?, ?)').run(process.pid, holder, new Date().toISOString());
    connection.exec('COMMIT');
  } catch (error) {
    connection.close();
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new DatabaseInUseError(
        `Another openmumble server is running on the SQLite database ${databaseFile} (it holds ${path}). ` +
          'Stop it first, or set DATABASE_URL to another file. Several instances need PostgreSQL (docs/scaling.md).',
      );
    }
    throw error;
  }
  return { path, release: () => connection.close() };
}
