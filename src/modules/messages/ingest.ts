import type { ChannelEvents, InboundMessage, StatusUpdate } from '../../channels/channel.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { recordMessageTime } from '../customers/customers.repository.js';
import { ensureCustomer } from '../customers/customers.service.js';
import { applyTemplateStatus } from '../templates/templates.service.js';
import type { OutboundStatus } from './message-status.js';
import * as repository from './messages.repository.js';
import { customerRecordIn, recordCustomerEvent } from '../customers/customer-events.js';
import { recordMessageEvent } from '../webhooks/domain-events.js';

/**
 * The one ingest path: whatever a channel hears from WhatsApp (the Cloud API's webhooks, the
 * sandbox's simulation) arrives here. Every function is safe to call twice with the same event,
 * since WhatsApp delivers at least once.
 */

/**
 * A customer wrote: the customer is created when unknown (with their WhatsApp profile name), the
 * message stored once, the 24-hour window opened and a closed or solved conversation reopened.
 */
export async function receiveMessage(deps: Deps, accountId: string, message: InboundMessage): Promise<void> {
  const customer = await ensureCustomer(deps, accountId, { customer_phone: message.from, name: message.profileName });
  const sentAt = toStoredTime(message.timestamp);
  const now = toStoredTime(deps.clock.now());
  await deps.database.db.transaction().execute(async (trx) => {
    const inserted = await repository.insertInboundMessage(trx, {
      account_id: accountId,
      customer_id: customer.id,
      message_wa_id: message.messageWaId,
      direction: 'inbound',
      type: message.type,
      text: message.text,
      media_url: null,
      media_key: message.media?.key ?? null,
      media_mime_type: message.media?.mimeType ?? null,
      media_filename: message.media?.filename ?? null,
      template_id: null,
      business_phone: message.to,
      status: 'received',
      error_code: null,
      error_title: null,
      created_at: sentAt,
      updated_at: now,
    });
    if (inserted) {
      const before = await customerRecordIn(trx, customer);
      await recordMessageTime(trx, customer.id, 'inbound', sentAt, now);
      // Webhook events (outbox), in this transaction: the message, and the conversation it reopened.
      await recordMessageEvent(deps, trx, accountId, message.messageWaId, 'message.received');
      if (before?.conversation_status === 'closed' || before?.conversation_status === 'solved') {
        await recordCustomerEvent(deps, trx, customer, 'conversation.status_changed', before);
      }
    }
  });
}

/**
 * A delivery status. It never moves a message backwards; one for a message we do not know yet (it
 * overtook the send's answer) is kept and applied when the message gets its WhatsApp id.
 */
export async function applyStatusUpdate(deps: Deps, accountId: string, update: StatusUpdate): Promise<void> {
  const { db } = deps.database;
  const now = toStoredTime(deps.clock.now());
  const change = {
    status: update.status,
    errorCode: update.error?.code ?? null,
    errorTitle: update.error?.title ?? null,
    occurredAt: toStoredTime(update.timestamp),
  };
  if (update.messageId !== undefined) await repository.recordMissingWaId(db, accountId, update.messageId, update.messageWaId, now);
  const advanced = await db.transaction().execute(async (trx) => {
    const moved = await repository.advanceStatus(trx, accountId, update.messageWaId, change, now);
    if (moved) await recordMessageEvent(deps, trx, accountId, update.messageWaId, 'message.status');
    return moved;
  });
  if (advanced) return;
  if (await repository.findMessageByWaId(db, accountId, update.messageWaId)) return;
  await repository.insertPendingStatus(db, accountId, update.messageWaId, change, now);
  // The message may have got its id between the lookup and the insert; then nobody else applies this.
  await applyPendingStatuses(deps, accountId, update.messageWaId);
}

/** Applies, in the order they happened, the statuses kept for a message that now has its WhatsApp id. */
export async function applyPendingStatuses(deps: Deps, accountId: string, messageWaId: string): Promise<void> {
  const now = toStoredTime(deps.clock.now());
  await deps.database.db.transaction().execute(async (trx) => {
    const pending = await repository.listPendingStatuses(trx, accountId, messageWaId);
    if (pending.length === 0 || !(await repository.findMessageByWaId(trx, accountId, messageWaId))) return;
    for (const row of pending) {
      const change = { status: row.status as OutboundStatus, errorCode: row.error_code, errorTitle: row.error_title, occurredAt: row.occurred_at };
      if (await repository.advanceStatus(trx, accountId, messageWaId, change, now)) {
        await recordMessageEvent(deps, trx, accountId, messageWaId, 'message.status');
      }
    }
    await repository.deletePendingStatuses(trx, pending.map((row) => row.id));
  });
}

/** The ingest path as channels see it. */
export function ingestEvents(deps: Deps): ChannelEvents {
  return {
    messageReceived: (accountId, message) => receiveMessage(deps, accountId, message),
    statusChanged: (accountId, update) => applyStatusUpdate(deps, accountId, update),
    templateStatusChanged: (accountId, update) => applyTemplateStatus(deps, accountId, update),
  };
}
