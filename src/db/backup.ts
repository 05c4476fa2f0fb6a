import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { sqliteFileOf } from './database.js';

/**
 * Online backup and restore of an embedded (SQLite) database with SQLite's backup API: a consistent
 * copy of the database as one transaction saw it, taken while the server keeps serving. (A copy of
 * the file could catch it half-written, and would miss what is still in the -wal file.)
 */

export class BackupError extends Error {}

/** The file a backup or restore works on; PostgreSQL and in-memory databases are refused with the reason. */
export function backupFileOf(databaseUrl: string): string {
  if (!databaseUrl.startsWith('sqlite:')) {
    throw new BackupError('backup and restore work on SQLite databases; for PostgreSQL use pg_dump and pg_restore (docs/operations.md)');
  }
  const file = sqliteFileOf(databaseUrl);
  if (file === null) throw new BackupError('an in-memory database has nothing to back up');
  return file;
}

/**
 * Copies the database at `source` into a new file `destination`. The first step copies every page
 * the database has, within one read transaction: even under a steady write load the copy finishes,
 * and it holds exactly the commits made before it began (and possibly later ones), never part of one.
 */
export async function backupSqlite(source: string, destination: string): Promise<{ pages: number }> {
  if (!existsSync(source)) throw new BackupError(`no database at ${source}`);
  const target = resolve(destination);
  if (existsSync(target)) throw new BackupError(`${target} already exists; choose a new file`);
  mkdirSync(dirname(target), { recursive: true });
  const database = new SQLite(source, { readonly: true, fileMustExist: true });
  // Written beside the destination and renamed at the end: a failed backup leaves no file that looks whole.
  const partial = `${target}.partial`;
  try {
    const { totalPages } = await database.backup(partial, { progress: ({ totalPages: pages }) => Math.max(pages, 100) });
    renameSync(partial, target);
    return { pages: totalPages };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    database.close();
  }
}

/** Refuses a file that is not a sound openmumble database. */
function checkBackup(file: string): void {
  if (!existsSync(file)) throw new BackupError(`no backup at ${file}`);
  let database: SQLite.Database | undefined;
  try {
    database = new SQLite(file, { readonly: true, fileMustExist: true });
    const integrity = database.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new BackupError(`${file} is damaged: ${String(integrity)}`);
    const migrations = database.prepare("select count(*) as n from sqlite_master where type = 'table' and name = 'kysely_migration'").get() as { n: number };
    if (migrations.n === 0) throw new BackupError(`${file} is not an openmumble database`);
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${file} is not a readable SQLite database: ${(error as Error).message}`);
  } finally {
    database?.close();
  }
}

/**
 * Replaces the database at `target` with the backup `file`. The server must be stopped: this writes
 * the whole database under it. Without `overwrite`, an existing database is left alone.
 */
export async function restoreSqlite(file: string, target: string, { overwrite = false } = {}): Promise<{ pages: number }> {
  const source = resolve(file);
  checkBackup(source);
  if (existsSync(target) && !overwrite) throw new BackupError(`${target} exists; stop the server and add --force to replace it`);
  mkdirSync(dirname(target), { recursive: true });
  const backup = new SQLite(source, { readonly: true, fileMustExist: true });
  try {
    const { totalPages } = await backup.backup(target, { progress: ({ totalPages: pages }) => Math.max(pages, 100) });
    return { pages: totalPages };
  } finally {
    backup.close();
  }
}
