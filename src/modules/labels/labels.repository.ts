import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';

export function findLabelByName(db: Kysely<DB>, accountId: string, name: string) {
  return db.selectFrom('labels').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
}

/** True when created; false when the account already has a label of that name. */
export async function insertLabel(db: Kysely<DB>, label: { id: string; account_id: string; name: string; created_at: string }): Promise<boolean> {
  const result = await db
    .insertInto('labels')
    .values(label)
    .onConflict((oc) => oc.columns(['account_id', 'name']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function deleteLabel(db: Kysely<DB>, accountId: string, id: string): Promise<void> {
  await db.deleteFrom('labels').where('account_id', '=', accountId).where('id', '=', id).execute();
}

/** Labels with their number of customers, oldest first. */
export async function listLabelsWithCounts(db: Kysely<DB>, accountId: string) {
  const rows = await db
    .selectFrom('labels')
    .leftJoin('customer_labels', 'customer_labels.label_id', 'labels.id')
    .select(['labels.id', 'labels.name', (eb) => eb.fn.count('customer_labels.customer_id').as('customers_count')])
    .where('labels.account_id', '=', accountId)
    .groupBy(['labels.id', 'labels.name', 'labels.created_at'])
    .orderBy('labels.created_at')
    .orderBy('labels.id')
    .execute();
  return rows.map((row) => ({ id: row.id, name: row.name, customers_count: Number(row.customers_count) }));
}

/** True when the customer did not carry the label yet. */
export async function tagCustomer(db: Kysely<DB>, accountId: string, labelId: string, customerId: string, at: string): Promise<boolean> {
  const result = await db
    .insertInto('customer_labels')
    .values({ account_id: accountId, label_id: labelId, customer_id: customerId, created_at: at })
    .onConflict((oc) => oc.columns(['label_id', 'customer_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** True when the customer carried the label. */
export async function untagCustomer(db: Kysely<DB>, labelId: string, customerId: string): Promise<boolean> {
  const result = await db.deleteFrom('customer_labels').where('label_id', '=', labelId).where('customer_id', '=', customerId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
