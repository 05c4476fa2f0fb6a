import type { Kysely } from 'kysely';
import type { AiSettingsRow, DB } from '../../db/tables.js';

export function findAiSettings(db: Kysely<DB>, accountId: string): Promise<AiSettingsRow | undefined> {
  return db.selectFrom('ai_settings').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

export async function saveAiSettings(db: Kysely<DB>, row: AiSettingsRow): Promise<void> {
  const { account_id, created_at, ...rest } = row;
  await db.insertInto('ai_settings').values(row).onConflict((oc) => oc.column('account_id').doUpdateSet(rest)).execute();
}

export async function deleteAiSettings(db: Kysely<DB>, accountId: string): Promise<boolean> {
  const result = await db.deleteFrom('ai_settings').where('account_id', '=', accountId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function listStoredKeys(db: Kysely<DB>): Promise<Array<{ account_id: string; api_key: string }>> {
  return db.selectFrom('ai_settings').select(['account_id', 'api_key']).where('api_key', 'is not', null).execute() as Promise<Array<{ account_id: string; api_key: string }>>;
}

export async function setStoredKey(db: Kysely<DB>, accountId: string, apiKey: string): Promise<void> {
  await db.updateTable('ai_settings').set({ api_key: apiKey }).where('account_id', '=', accountId).execute();
}
