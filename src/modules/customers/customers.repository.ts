import { PostgresAdapter, sql, type Kysely } from 'kysely';
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

/** A customer's label names, A to Z, as one JSON array (SQLite: its text; PostgreSQL: parsed by the driver). */
function labelNamesJson(db: Kysely<DB>) {
  const names =
    db.getExecutor().adapter instanceof PostgresAdapter ? sql`coalesce(json_agg(labels.name order by labels.name), '[]'::json)` : sql`json_group_array(labels.name order by labels.name)`;
  return sql<string | string[]>`(select ${names} from customer_labels join labels on labels.id = customer_labels.label_id
    where customer_labels.account_id = customers.account_id and customer_labels.customer_id = customers.id)`;
}

const customerWithLabelsByPhone = preparedQuery((db, accountId: string, phone: string) =>
  db.selectFrom('customers').selectAll().select(labelNamesJson(db).as('label_names')).where('account_id', '=', accountId).where('phone', '=', phone),
);

/** get-customer: the customer and its label names in one statement, compiled once. */
export async function findCustomerWithLabels(db: Kysely<DB>, accountId: string, phone: string): Promise<{ customer: CustomerRow; labels: string[] } | undefined> {
  const [row] = await customerWithLabelsByPhone(db, accountId, phone);
  if (!row) return undefined;
  const { label_names: names, ...customer } = row;
  return { customer, labels: typeof names === 'string' ? (JSON.parse(names) as string[]) : names };
}

const customerById = preparedQuery((db, accountId: string, id: string) =>
  db.selectFrom('customers').selectAll().where('account_id', '=', accountId).where('id', '=', id),
);

export async function findCustomerById(db: Kysely<DB>, accountId: string, id: string): Promise<CustomerRow | undefined> {
  const [row] = await customerById(db, accountId, id);
  return row;
}

/** Every column of a customer, in the order the compiled insert takes their values. */
const CUSTOMER_COLUMNS = [
  'id', 'account_id', 'phone', 'name', 'email', 'source', 'country', 'conversation_status', 'last_interaction_at',
  'last_inbound_at', 'agent_id', 'team_id', 'bot', 'custom_fields', 'attribution', 'created_at', 'updated_at',
] as const satisfies ReadonlyArray<keyof CustomerRow>;

const insertCustomerRow = preparedQuery((db, ...values: Array<string | null>) =>
  db
    .insertInto('customers')
    .values(Object.fromEntries(CUSTOMER_COLUMNS.map((column, n) => [column, values[n]])) as NewCustomerRow)
    .onConflict((oc) => oc.columns(['account_id', 'phone']).doNothing())
    .returningAll(),
);

/**
 * Inserts unless the phone exists (a concurrent twin loses without an error): the row as stored when
 * inserted, else undefined. Compiled once (add-new-customer). A nullable column left out is null.
 */
export async function insertCustomer(db: Kysely<DB>, row: NewCustomerRow): Promise<CustomerRow | undefined> {
  const [inserted] = await insertCustomerRow(db, ...CUSTOMER_COLUMNS.map((column) => row[column] ?? null));
  return inserted;
}

/** The statements of updateCustomerReturning, one per set of columns it was asked to set (a few, from code). */
const customerUpdates = new Map<string, (db: Kysely<DB>, accountId: string, id: string, ...values: unknown[]) => Promise<CustomerRow[]>>();

/**
 * updateCustomer that returns the row as updated (undefined when there is none), compiled once per
 * set of columns set (edit-customer sets a handful of combinations).
 */
export async function updateCustomerReturning(db: Kysely<DB>, accountId: string, id: string, patch: CustomerUpdate): Promise<CustomerRow | undefined> {
  const columns = (Object.keys(patch) as Array<keyof CustomerUpdate>).filter((column) => patch[column] !== undefined);
  const shape = columns.join(' ');
  let update = customerUpdates.get(shape);
  if (!update) {
    update = preparedQuery((db, accountId: string, id: string, ...values: unknown[]) =>
      db
        .updateTable('customers')
        .set(Object.fromEntries(columns.map((column, n) => [column, values[n]])) as CustomerUpdate)
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .returningAll(),
    );
    customerUpdates.set(shape, update);
  }
  const [row] = await update(db, accountId, id, ...columns.map((column) => patch[column]));
  return row;
}

export async function updateCustomer(db: Kysely<DB>, accountId: string, id: string, patch: CustomerUpdate): Promise<void> {
  await db.updateTable('customers').set(patch).where('account_id', '=', accountId).where('id', '=', id).execute();
}

export async function deleteCustomer(db: Kysely<DB>, accountId: string, id: string): Promise<void> {
  await db.deleteFrom('customers').where('account_id', '=', accountId).where('id', '=', id).execute();
}

const customersCountOf = preparedQuery((db, accountId: string) => db.selectFrom('accounts').select('customers_count').where('id', '=', accountId));

/** The account's number of customers, as the write transactions keep it (no count over its rows). */
export async function customersCount(db: Kysely<DB>, accountId: string): Promise<number> {
  const [row] = await customersCountOf(db, accountId);
  return Number(row?.customers_count ?? 0);
}

const moveCustomersCount = preparedQuery((db, accountId: string, delta: number) =>
  db
    .updateTable('accounts')
    .set((eb) => ({ customers_count: eb('customers_count', '+', delta) }))
    .where('id', '=', accountId),
);

/**
 * Moves the account's customer count by `delta`, in the transaction that inserted or deleted the
 * rows. One relative update, so concurrent transactions cannot lose each other's changes. Compiled
 * once (add-new-customer).
 */
export async function adjustCustomersCount(db: Kysely<DB>, accountId: string, delta: number): Promise<void> {
  await moveCustomersCount(db, accountId, delta);
}

/**
 * One page in creation order (oldest first, ties by id), of an account with `total` customers (read
 * in the same snapshot). The (account_id, created_at, id) index alone is walked to the page's edge
 * (an index-only scan on PostgreSQL), and the page is read as the range of that index from there.
 * The walk starts from whichever end is nearer: a page in the back half is found by walking back
 * from the last customer, so no page walks more than half the index. With the offset in the query
 * that reads full rows, PostgreSQL fetched every skipped row from the table (975,000 for the last
 * pages of 1,000,000 customers); reading the page's rows back by id instead of as a range costs a
 * primary-key lookup a row, which made the first pages 3 to 5 times slower on SQLite.
 */
export async function listCustomersPage(db: Kysely<DB>, accountId: string, limit: number, offset: number, total: number): Promise<CustomerRow[]> {
  const rowsOnPage = Math.min(limit, total - offset);
  if (rowsOnPage <= 0) return [];
  const after = total - offset - rowsOnPage;
  if (offset <= after) return pageWalkedFrom(db, accountId, 'asc', offset, rowsOnPage);
  return (await pageWalkedFrom(db, accountId, 'desc', after, rowsOnPage)).reverse();
}

/** `count` rows in `direction` order, starting `skip` index entries from that end. */
function pageWalkedFrom(db: Kysely<DB>, accountId: string, direction: 'asc' | 'desc', skip: number, count: number): Promise<CustomerRow[]> {
  const edge = db
    .selectFrom('customers')
    .select(['created_at', 'id'])
    .where('account_id', '=', accountId)
    .orderBy('created_at', direction)
    .orderBy('id', direction)
    .limit(1)
    .offset(skip)
    .$asTuple('created_at', 'id');
  return db
    .selectFrom('customers')
    .selectAll()
    .where('account_id', '=', accountId)
    .where((eb) => eb(eb.refTuple('created_at', 'id'), direction === 'asc' ? '>=' : '<=', edge))
    .orderBy('created_at', direction)
    .orderBy('id', direction)
    .limit(count)
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
  if (dialect === 'postgres') await accountForUpdate(db, accountId);
}

/*
 * The queries of add-new-customer's and edit-customer's transactions that take the same shape every
 * time: compiled once.
 */
// NO KEY UPDATE: it serializes the bookkeeping without blocking the key-share locks of foreign keys (a message inserted meanwhile).
const accountForUpdate = preparedQuery((db, accountId: string) => db.selectFrom('accounts').select('id').where('id', '=', accountId).forNoKeyUpdate());

const customFieldNamesOf = preparedQuery((db, accountId: string) => db.selectFrom('custom_field_names').select('name').where('account_id', '=', accountId));

const moveCustomFieldCount = preparedQuery((db, accountId: string, name: string, delta: number) =>
  db
    .insertInto('custom_field_names')
    .values({ account_id: accountId, name, customers_count: delta })
    .onConflict((oc) => oc.columns(['account_id', 'name']).doUpdateSet((eb) => ({ customers_count: eb('custom_field_names.customers_count', '+', delta) }))),
);

const dropUnusedCustomFieldNames = preparedQuery((db, accountId: string) =>
  db.deleteFrom('custom_field_names').where('account_id', '=', accountId).where('customers_count', '<=', 0),
);

export async function customFieldNames(db: Kysely<DB>, accountId: string): Promise<Set<string>> {
  const rows = await customFieldNamesOf(db, accountId);
  return new Set(rows.map((row) => row.name));
}

/**
 * Moves each name's customer count by its delta, creating names at +1 and dropping them at 0. Only a
 * negative delta brings a count to 0 (a count is never left at 0 or below), so without one nothing
 * is dropped and the delete is not run.
 */
export async function adjustCustomFieldCounts(db: Kysely<DB>, accountId: string, deltas: Map<string, number>): Promise<void> {
  let decreased = false;
  for (const [name, delta] of deltas) {
    if (delta === 0) continue;
    if (delta < 0) decreased = true;
    await moveCustomFieldCount(db, accountId, name, delta);
  }
  if (decreased) await dropUnusedCustomFieldNames(db, accountId);
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

/** The account's customer WhatsApp knows by this business-scoped user id (BSUID). */
export async function findCustomerByWhatsAppUserId(db: Kysely<DB>, accountId: string, userId: string): Promise<CustomerRow | undefined> {
  return db.selectFrom('customers').selectAll().where('account_id', '=', accountId).where('whatsapp_user_id', '=', userId).executeTakeFirst();
}
