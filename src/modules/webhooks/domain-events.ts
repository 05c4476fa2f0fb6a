import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import type { Deps } from '../../deps.js';
import { messageCreated, messageStatusChanged } from '../messages/message-live-events.js';
import { findMessageForEvent } from '../messages/messages.repository.js';
import { toMessageRecord } from '../messages/message-record.js';
import { recordEvent } from './events.js';

/**
 * The message events, recorded in the transaction of the change (see recordEvent). Called from the
 * ingest path (src/modules/messages/ingest.ts).
 */

/**
 * message.received or message.status: the message as get-conversation shows it, plus `customer_phone`;
 * ordered per customer. The inbox hears of it as `message.created` (the message as the inbox shows
 * it) or `message.status`.
 */
export async function recordMessageEvent(
  deps: Pick<Deps, 'clock'>,
  trx: Kysely<DB>,
  accountId: string,
  messageWaId: string,
  type: 'message.received' | 'message.status',
): Promise<void> {
  const row = await findMessageForEvent(trx, accountId, messageWaId);
  if (!row) return;
  const customer = { id: row.customer_id, agent_id: row.customer_agent_id, team_id: row.customer_team_id };
  const live = type === 'message.received' ? messageCreated(customer, row) : messageStatusChanged(customer, row);
  await recordEvent(trx, accountId, type, { ...toMessageRecord(row), customer_phone: row.customer_phone }, row.customer_id, deps.clock.now(), [live]);
}
