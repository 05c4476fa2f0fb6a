import { sql, type Kysely } from 'kysely';

/**
 * Each account's number of customers, kept by the transactions that add and delete customers, so
 * that get-all-customers answers `total` and `pages` without counting the account's rows on every
 * request (a count over 1,000,000 index entries: ~80 ms on SQLite, ~1 s on PostgreSQL).
 * Existing accounts start from the rows they have.
 *
 * Customers added by a server of an earlier version after this runs are not counted: migrate with
 * the new version, not beside instances of the old one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('customers_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await sql`update accounts set customers_count = (select count(*) from customers where customers.account_id = accounts.id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('customers_count').execute();
}
