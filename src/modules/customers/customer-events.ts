import type { Kysely } from 'kysely';
import type { CustomerRow, DB } from '../../db/tables.js';
import type { Deps } from '../../deps.js';
import { recordLiveEvent, type LiveEventDraft } from '../live/live-events.js';
import { recordEventIfWanted } from '../webhooks/events.js';
import * as repository from './customers.repository.js';
import type { CustomerRecord } from './customers.schema.js';
import { toCustomerRecord } from './customer-record.js';

/** The customer's API record as it stands in `trx`. */
export async function customerRecordIn(trx: Kysely<DB>, customer: Pick<CustomerRow, 'account_id' | 'id'>): Promise<CustomerRecord | undefined> {
  const row = await repository.findCustomerById(trx, customer.account_id, customer.id);
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
 * recordCustomerEvent with the records from `change`. customer.updated and conversation.status_changed
 * are streamed to the inbox too (customer.updated, conversation.status), so their records are built
 * whatever the subscriptions; customer.created's only when a subscription wants it (most accounts
 * have none), as the inbox learns of a customer with their first message. A caller that has the rows
 * in hand (returned by its insert or update) builds them without reading the customer back.
 */
export async function recordCustomerChange(
  deps: Pick<Deps, 'clock'>,
  trx: Kysely<DB>,
  customer: Pick<CustomerRow, 'account_id' | 'id'>,
  type: CustomerEventType,
  change: () => CustomerChange | Promise<CustomerChange>,
): Promise<void> {
  const build = async () => {
    const { after, before } = await change();
    if (!after) return undefined;
    if (before && JSON.stringify(before) === JSON.stringify(after)) return undefined;
    return type === 'conversation.status_changed' ? { ...after, previous_conversation_status: before?.conversation_status ?? null } : after;
  };
  if (type === 'customer.created') {
    await recordEventIfWanted(trx, customer.account_id, type, build, customer.id, deps.clock.now(), []);
    return;
  }
  const data = await build();
  await recordEventIfWanted(trx, customer.account_id, type, () => data, customer.id, deps.clock.now(), data ? [liveEventOf(type, data)] : []);
}

/** customer.updated, or conversation.status with the status before. */
function liveEventOf(type: 'customer.updated' | 'conversation.status_changed', record: CustomerRecord & { previous_conversation_status?: string | null }): LiveEventDraft {
  const customer = { id: record.id, agent_id: record.agent_id, team_id: record.team_id };
  if (type === 'customer.updated') return { type: 'customer.updated', customer, data: { customer_id: record.id } };
  return {
    type: 'conversation.status',
    customer,
    data: { customer_id: record.id, status: record.conversation_status, previous_status: record.previous_conversation_status ?? null },
  };
}

type Assignment = Pick<CustomerRow, 'id' | 'account_id' | 'agent_id' | 'team_id'>;
type ConversationState = Assignment & Pick<CustomerRow, 'conversation_status' | 'bot' | 'bot_paused_at' | 'bot_paused_by'>;

/**
 * The inbox's live events for a change of a conversation's assignment or bot, in the transaction of
 * the change (its status is told with its webhook event, by recordCustomerEvent). An assignment
 * event also names the assignment it had, so people who could see the conversation before hear
 * that it went.
 */
export async function recordConversationLiveEvents(deps: Pick<Deps, 'clock'>, trx: Kysely<DB>, before: ConversationState, after: ConversationState): Promise<void> {
  const base = { accountId: after.account_id, customer: after, occurredAt: deps.clock.now() };
  if (after.agent_id !== before.agent_id || after.team_id !== before.team_id) {
    await recordLiveEvent(trx, {
      ...base,
      type: 'conversation.assigned',
      previous: before,
      data: { customer_id: after.id, agent_id: after.agent_id, team_id: after.team_id, previous_agent_id: before.agent_id, previous_team_id: before.team_id },
    });
  }
  if (after.bot !== before.bot || after.bot_paused_at !== before.bot_paused_at) {
    await recordLiveEvent(trx, { ...base, type: 'conversation.bot', data: { customer_id: after.id, ...botState(after) } });
  }
}

/** A conversation's bot as the inbox shows it: which bot, and whether it may answer. */
export function botState(customer: Pick<CustomerRow, 'bot' | 'bot_paused_at' | 'bot_paused_by'>) {
  return { bot: customer.bot, active: customer.bot !== null && customer.bot_paused_at === null, paused_at: customer.bot_paused_at, paused_by: customer.bot_paused_by };
}
