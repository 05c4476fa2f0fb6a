import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * The authentication epoch: one counter that moves, in the same transaction, with every change that
 * can make a cached API key wrong (a key revoked, re-pointed or deleted; an account changed or
 * deleted). Servers keep keys in memory and drop them all when it moves (src/modules/accounts/
 * key-cache.ts): SQLite servers read it on every request (one row, no join, no hash), PostgreSQL
 * servers hear it by LISTEN on `openmumble_auth` (`<schema>:<epoch>`) instead of a query per request.
 *
 * `customers_count` is the one column of accounts left out: add-new-customer moves it on every
 * insert, and no cached key carries it. A column added to accounts later must be added to
 * ACCOUNT_COLUMNS here in a new migration (test/key-cache.test.ts checks it).
 */
export const ACCOUNT_COLUMNS = ['id', 'name', 'messaging_enabled', 'channel_type', 'created_at', 'hide_unassigned', 'default_bot_id', 'campaign_daily_limit', 'stop_words'];
export const AUTH_CHANNEL = 'openmumble_auth';

const triggers = [
  ['api_keys_auth_update', 'update of revoked_at, key_hash, account_id on api_keys'],
  ['api_keys_auth_delete', 'delete on api_keys'],
  ['accounts_auth_update', `update of ${ACCOUNT_COLUMNS.join(', ')} on accounts`],
  ['accounts_auth_delete', 'delete on accounts'],
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('auth_epoch')
    .addColumn('id', 'integer', (column) => column.primaryKey())
    .addColumn('epoch', 'bigint', (column) => column.notNull())
    .execute();
  await db.insertInto('auth_epoch').values({ id: 1, epoch: 1 }).execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`create function bump_auth_epoch() returns trigger language plpgsql as $$
      declare next bigint;
      begin
        update auth_epoch set epoch = epoch + 1 where id = 1 returning epoch into next;
        perform pg_notify(${sql.lit(AUTH_CHANNEL)}, current_schema() || ':' || next::text);
        return null;
      end $$`.execute(db);
    for (const [name, event] of triggers) {
      await sql`create trigger ${sql.raw(name)} after ${sql.raw(event)} for each statement execute function bump_auth_epoch()`.execute(db);
    }
    return;
  }
  for (const [name, event] of triggers) {
    await sql`create trigger ${sql.raw(name)} after ${sql.raw(event)} begin update auth_epoch set epoch = epoch + 1 where id = 1; end`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name, event] of triggers) {
    const table = event.split(' on ')[1];
    await sql`drop trigger ${sql.raw(name)}${db.getExecutor().adapter instanceof PostgresAdapter ? sql.raw(` on ${table}`) : sql``}`.execute(db);
  }
  if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`drop function bump_auth_epoch()`.execute(db);
  await db.schema.dropTable('auth_epoch').execute();
}
