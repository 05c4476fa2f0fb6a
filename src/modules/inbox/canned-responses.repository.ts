import type { Kysely } from 'kysely';
import type { CannedResponseRow, DB } from '../../db/tables.js';

export async function listCannedResponses(db: Kysely<DB>, accountId: string): Promise<CannedResponseRow[]> {
  return db.selectFrom('canned_responses').selectAll().where('account_id', '=', accountId).orderBy('shortcut').execute();
}

export async function findCannedResponse(db: Kysely<DB>, accountId: string, id: string): Promise<CannedResponseRow | undefined> {
  return db.selectFrom('canned_responses').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function insertCannedResponse(db: Kysely<DB>, row: CannedResponseRow): Promise<void> {
  await db.insertInto('canned_responses').values(row).execute();
}

/** The row as changed, or undefined when the account has no such canned response. */
export async function updateCannedResponse(
  db: Kysely<DB>,
  accountId: string,
  id: string,
  patch: Partial<Pick<CannedResponseRow, 'shortcut' | 'title' | 'text'>> & Pick<CannedResponseRow, 'updated_at'>,
): Promise<CannedResponseRow | undefined> {
  return db.updateTable('canned_responses').set(patch).where('account_id', '=', accountId).where('id', '=', id).returningAll().executeTakeFirst();
}

/** True when there was one to delete. */
export async function deleteCannedResponse(db: Kysely<DB>, accountId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('canned_responses').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
