import type { Kysely } from 'kysely';
import { preparedQuery } from '../../db/prepared.js';
import type { CustomerRow, DB } from '../../db/tables.js';
import type { Deps } from '../../deps.js';
import { recordEventIfWanted } from '../webhooks/events.js';
import * as repository from './customers.repository.js';
import type { CustomerRecord } from './customers.schema.js';
import { toCustomerRecord } from './customers.service.js';

const customerById = preparedQuery((db, accountId: string, id: string) =>
  db.selectFrom('customers').selectAll().where('account_id', '=', accountId).where('id', '=', id),
);

/** The customer's API record as it stands in `trx`. */
export async function customerRecordIn(trx: Kysely<DB>, customer: Pick<CustomerRow, 'account_id' | 'id'>): Promise<CustomerRecord | undefined> {
  const [row] = await customerById(trx, customer.account_id, customer.id);
  if (!row) return undefined;
  const labels = await repository.labelNamesByCustomer(trx, row.account_id, [row.id]);
  return toCustomerRecord(row, labels.get(row.id) ?? []);
}

type CustomerEventType = 'customer.created' | 'customer.updated' | 'conversation.status_changed';

/**
 * Records a customer event in `trx` (the transaction of the change), ordered per customer. With
 * `before`, nothing is recorded when the record did not change; conversation.status_changed also
 * carries `previous_conversation_status`. `data` is the customer record as get-customer shows it.
 */
export async function recordCustomerEvent(
  deps: Pick<Deps, 'clock'>,
  trx: Kysely<DB>,
  customer: Pick<CustomerRow, 'account_id' | 'id'>,
  type: CustomerEventType,
  before?: CustomerRecord,
): Promise<void> {
  await recordCustomerChange(deps, trx, customer, type, async () => ({ after: await customerRecordIn(trx, customer), before }));
}

/** A customer's record after a change (undefined: no customer, no event), and with `before` the record it had. */
export interface CustomerChange {
  after: CustomerRecord | undefined;
  before?: CustomerRecord;
}

/**
 * recordCustomerEvent with the records from `change`, which runs only when a subscription of the
 * account wants the event (most accounts have none). A caller that has the rows in hand (returned by
 * its insert or update) builds them without reading the customer back.
 */
export async function recordCustomerChange(
  deps: Pick<Deps, 'clock'>,
  trx: Kysely<DB>,
  customer: Pick<CustomerRow, 'account_id' | 'id'>,
  type: CustomerEventType,
  change: () => CustomerChange | Promise<CustomerChange>,
): Promise<void> {
  const data = async () => {
    const { after, before } = await change();
    if (!after) return undefined;
    if (before && JSON.stringify(before) === JSON.stringify(after)) return undefined;
    return type === 'conversation.status_changed' ? { ...after, previous_conversation_status: before?.conversation_status ?? null } : after;
  };
  await recordEventIfWanted(trx, customer.account_id, type, data, customer.id, deps.clock.now());
}
