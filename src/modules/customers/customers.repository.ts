import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../../db/database.js';
import { preparedQuery } from '../../db/prepared.js';
import type { CustomerRow, CustomerUpdate, DB, NewCustomerRow } from '../../db/tables.js';

const customerByPhone = preparedQuery((db, accountId: string, phone: string) =>
  db.selectFrom('customers').selectAll().where('account_id', '=', accountId).where('phone', '=', phone),
);

/** Most customer and messaging requests start here: compiled once. */
export async function findCustomerByPhone(db: Kysely<DB>, accountId: string, phone: string): Promise<CustomerRow | undefined> {
  const [row] = await customerByPhone(db, accountId, phone);
  return row;
}

/** Inserts unless the phone exists; true when inserted (a concurrent twin loses without an error). */
export async function insertCustomer(db: Kysely<DB>, row: NewCustomerRow): Promise<boolean> {
  const result = await db
    .insertInto('customers')
    .values(row)
    .onConflict((oc) => oc.columns(['account_id', 'phone']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function updateCustomer(db: Kysely<DB>, accountId: string, id: string, patch: CustomerUpdate): Promise<void> {
  await db.updateTable('customers').set(patch).where('account_id', '=', accountId).where('id', '=', id).execute();
}

export async function deleteCustomer(db: Kysely<DB>, accountId: string, id: string): Promise<void> {
  await db.deleteFrom('customers').where('account_id', '=', accountId).where('id', '=', id).execute();
}

export async function countCustomers(db: Kysely<DB>, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** One page in creation order (oldest first, ties by id), served by the (account_id, created_at, id) index. */
export function listCustomersPage(db: Kysely<DB>, accountId: string, limit: number, offset: number): Promise<CustomerRow[]> {
  return db
    .selectFrom('customers')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .offset(offset)
    .execute();
}

function labelsQuery(db: Kysely<DB>, accountId: string, customerIds: string[]) {
  return db
    .selectFrom('customer_labels')
    .innerJoin('labels', 'labels.id', 'customer_labels.label_id')
    .select(['customer_labels.customer_id', 'labels.name'])
    .where('customer_labels.account_id', '=', accountId)
    .where('customer_labels.customer_id', 'in', customerIds)
    .orderBy('labels.name');
}

/** get-customer's labels: compiled once. */
const labelsOfOneCustomer = preparedQuery((db, accountId: string, customerId: string) => labelsQuery(db, accountId, [customerId]));

/** Label names of each customer, for a page of customers in one query. */
export async function labelNamesByCustomer(db: Kysely<DB>, accountId: string, customerIds: string[]): Promise<Map<string, string[]>> {
  const names = new Map<string, string[]>(customerIds.map((id) => [id, []]));
  if (customerIds.length === 0) return names;
  const rows = customerIds.length === 1 ? await labelsOfOneCustomer(db, accountId, customerIds[0]) : await labelsQuery(db, accountId, customerIds).execute();
  for (const row of rows) names.get(row.customer_id)?.push(row.name);
  return names;
}

export async function clearBotAssignment(db: Kysely<DB>, accountId: string, botId: string): Promise<void> {
  await db.updateTable('customers').set({ bot: null }).where('account_id', '=', accountId).where('bot', '=', botId).execute();
}

/**
 * Serializes the account's custom-field bookkeeping inside a transaction on PostgreSQL. SQLite
 * transactions already run one at a time.
 */
export async function lockAccount(db: Kysely<DB>, dialect: DialectName, accountId: string): Promise<void> {
  if (dialect === 'postgres') await db.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
}

export async function customFieldNames(db: Kysely<DB>, accountId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('custom_field_names').select('name').where('account_id', '=', accountId).execute();
  return new Set(rows.map((row) => row.name));
}

/** Moves each name's customer count by its delta, creating names at +1 and dropping them at 0. */
export async function adjustCustomFieldCounts(db: Kysely<DB>, accountId: string, deltas: Map<string, number>): Promise<void> {
  for (const [name, delta] of deltas) {
    if (delta === 0) continue;
    await db
      .insertInto('custom_field_names')
      .values({ account_id: accountId, name, customers_count: delta })
      .onConflict((oc) => oc.columns(['account_id', 'name']).doUpdateSet((eb) => ({ customers_count: eb('custom_field_names.customers_count', '+', delta) })))
      .execute();
  }
  await db.deleteFrom('custom_field_names').where('account_id', '=', accountId).where('customers_count', '<=', 0).execute();
}

/**
 * A message to or from the customer at `at`: moves last_interaction_at (and, for an inbound one,
 * last_inbound_at) forward, never back, and reopens a closed or solved conversation the customer
 * writes to. One statement, so concurrent messages cannot lose each other's times.
 */
export async function recordMessageTime(db: Kysely<DB>, customerId: string, direction: 'inbound' | 'outbound', at: string, now: string): Promise<void> {
  const latest = (column: 'last_interaction_at' | 'last_inbound_at') =>
    sql<string>`case when ${sql.ref(column)} is null or ${sql.ref(column)} < ${at} then ${at} else ${sql.ref(column)} end`;
  await db
    .updateTable('customers')
    .set({
      last_interaction_at: latest('last_interaction_at'),
      updated_at: now,
      ...(direction === 'inbound' && {
        last_inbound_at: latest('last_inbound_at'),
        conversation_status: sql<string>`case when conversation_status in ('closed', 'solved') then 'reopened' else conversation_status end`,
      }),
    })
    .where('id', '=', customerId)
    .execute();
}
