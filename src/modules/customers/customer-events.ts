import type { Kysely } from 'kysely';
import type { CustomerRow, DB } from '../../db/tables.js';
import type { Deps } from '../../deps.js';
import { recordEvent } from '../webhooks/events.js';
import * as repository from './customers.repository.js';
import type { CustomerRecord } from './customers.schema.js';
import { toCustomerRecord } from './customers.service.js';

/** The customer's API record as it stands in `trx`. */
export async function customerRecordIn(trx: Kysely<DB>, customer: Pick<CustomerRow, 'account_id' | 'id'>): Promise<CustomerRecord | undefined> {
  const row = await trx.selectFrom('customers').selectAll().where('account_id', '=', customer.account_id).where('id', '=', customer.id).executeTakeFirst();
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
  const after = await customerRecordIn(trx, customer);
  if (!after) return;
  if (before && JSON.stringify(before) === JSON.stringify(after)) return;
  const data = type === 'conversation.status_changed' ? { ...after, previous_conversation_status: before?.conversation_status ?? null } : after;
  await recordEvent(trx, customer.account_id, type, data, customer.id, deps.clock.now());
}
