import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';

/** Agents, teams and flow bots: named records an account's administrator keeps. */
export type DirectoryTable = 'agents' | 'teams' | 'bots';

export interface DirectoryEntry {
  id: string;
  account_id: string;
  name: string;
  created_at: string;
  type?: string;
}

export async function insertEntry(db: Kysely<DB>, table: DirectoryTable, entry: DirectoryEntry): Promise<void> {
  await db.insertInto(table).values(entry as never).execute();
}

export function listEntries(db: Kysely<DB>, table: DirectoryTable, accountId: string): Promise<DirectoryEntry[]> {
  return db
    .selectFrom(table)
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('created_at')
    .orderBy('id')
    .execute() as Promise<DirectoryEntry[]>;
}

export function findEntry(db: Kysely<DB>, table: DirectoryTable, accountId: string, id: string): Promise<DirectoryEntry | undefined> {
  return db
    .selectFrom(table)
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst() as Promise<DirectoryEntry | undefined>;
}

/** By id alone: for the operator's tools, which name a record without its account. */
export function findEntryById(db: Kysely<DB>, table: DirectoryTable, id: string): Promise<DirectoryEntry | undefined> {
  return db.selectFrom(table).selectAll().where('id', '=', id).executeTakeFirst() as Promise<DirectoryEntry | undefined>;
}

export async function deleteEntry(db: Kysely<DB>, table: DirectoryTable, accountId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom(table).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
