import type { Kysely } from 'kysely';
import type { DB, TemplateRow } from '../../db/tables.js';
import type { Deps } from '../../deps.js';
import { messageCreated, messageStatusChanged } from '../messages/message-live-events.js';
import { findMessageForEvent } from '../messages/messages.repository.js';
import { toMessageRecord } from '../messages/messages.service.js';
import { toTemplateRecord } from '../templates/templates.service.js';
import { recordEvent } from './events.js';

/**
 * The message and template events, recorded in the transaction of the change (see recordEvent).
 * Called from the ingest path (src/modules/messages/ingest.ts) and templates.service.
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

/** template.status_changed when the template's status moved: the template as get-templates shows it, plus `previous_status`. */
export async function recordTemplateStatusEvent(deps: Pick<Deps, 'clock'>, trx: Kysely<DB>, before: TemplateRow | undefined): Promise<void> {
  if (!before) return;
  const after = await trx.selectFrom('templates').selectAll().where('id', '=', before.id).executeTakeFirst();
  if (!after || after.status === before.status) return;
  // Not about a conversation: the inbox shows no template events.
  await recordEvent(trx, after.account_id, 'template.status_changed', { ...toTemplateRecord(after), previous_status: before.status }, `template:${after.id}`, deps.clock.now(), []);
}
