import type { Kysely } from 'kysely';
import { preparedQuery } from '../../db/prepared.js';
import type { Account, ApiKeyRow, DB } from '../../db/tables.js';

export async function insertAccount(db: Kysely<DB>, account: Pick<Account, 'id' | 'name' | 'created_at'>): Promise<void> {
  await db.insertInto('accounts').values(account).execute();
}

export function findAccount(db: Kysely<DB>, id: string): Promise<Account | undefined> {
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateAccount(db: Kysely<DB>, id: string, changes: Partial<Pick<Account, 'name' | 'hide_unassigned' | 'messaging_enabled' | 'default_bot_id' | 'campaign_daily_limit' | 'stop_words'>>): Promise<void> {
  await db.updateTable('accounts').set(changes).where('id', '=', id).execute();
}

export function listAccounts(db: Kysely<DB>): Promise<Account[]> {
  return db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function countAccounts(db: Kysely<DB>): Promise<number> {
  const row = await db.selectFrom('accounts').select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function insertApiKey(db: Kysely<DB>, key: ApiKeyRow): Promise<void> {
  await db.insertInto('api_keys').values(key).execute();
}

export function listApiKeys(db: Kysely<DB>, accountId: string): Promise<ApiKeyRow[]> {
  return db.selectFrom('api_keys').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
}

export function findApiKey(db: Kysely<DB>, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function revokeApiKey(db: Kysely<DB>, id: string, at: string): Promise<boolean> {
  const result = await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

const activeKeyByHash = preparedQuery((db, keyHash: string) =>
  db
    .selectFrom('api_keys')
    .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
    .select(['api_keys.id as key_id', 'api_keys.last_used_at'])
    .selectAll('accounts')
    .where('api_keys.key_hash', '=', keyHash)
    .where('api_keys.revoked_at', 'is', null),
);

/** The active key with this hash and its account, in one indexed lookup (every request makes it: compiled once). */
export async function findActiveKeyByHash(db: Kysely<DB>, keyHash: string) {
  const [row] = await activeKeyByHash(db, keyHash);
  return row;
}

export async function touchApiKey(db: Kysely<DB>, id: string, at: string): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}

const currentAuthEpoch = preparedQuery((db) => db.selectFrom('auth_epoch').select('epoch').where('id', '=', 1));

/** The authentication epoch (migration 0014): read on every SQLite request, so compiled once. */
export async function authEpoch(db: Kysely<DB>): Promise<string | number> {
  const [row] = await currentAuthEpoch(db);
  return row!.epoch;
}
