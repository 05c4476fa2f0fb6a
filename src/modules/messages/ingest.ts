import type { ChannelEvents, InboundMessage, StatusUpdate } from '../../channels/channel.js';
import type { CustomerRow, DB } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { recordMessageTime } from '../customers/customers.repository.js';
import { changeUserId, customerOfSender, findSender, moveToNewNumber } from '../customers/whatsapp-identity.js';
import { recordLiveEvent } from '../live/live-events.js';
import { applyTemplateStatus } from '../templates/templates.service.js';
import type { OutboundStatus } from './message-status.js';
import * as repository from './messages.repository.js';
import { customerRecordIn, recordCustomerEvent } from '../customers/customer-events.js';
import { recordMessageEvent } from '../webhooks/domain-events.js';
import { enqueueBotStep } from '../bots/bot-jobs.js';
import { botMayAnswer } from '../bots/bots.repository.js';
import { STOP_WORD_MAX, isStopWord, optOut } from '../campaigns/opt-out.js';
import { findAccount } from '../accounts/accounts.repository.js';
import type { Kysely } from 'kysely';

/** Stop words are short: a longer message costs no look-up of the account's words. */
async function isStopWordOf(db: Kysely<DB>, accountId: string, text: string | null): Promise<boolean> {
  if (text === null || text.trim().length > STOP_WORD_MAX) return false;
  const account = await findAccount(db, accountId);
  return account !== undefined && isStopWord(account, text);
}

/** Messages a bot answers: what a customer says, not a reaction or a notice. */
const ANSWERABLE_TYPES = new Set(['text', 'interactive', 'button', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts']);

/**
 * The one ingest path: whatever a channel hears from WhatsApp (the Cloud API's webhooks, the
 * sandbox's simulation) arrives here. Every function is safe to call twice with the same event,
 * since WhatsApp delivers at least once.
 */

/**
 * A customer wrote: the customer is created when unknown (with their WhatsApp profile name), the
 * message stored once, the 24-hour window opened and a closed or solved conversation reopened.
 * A reaction replaces the customer's earlier reaction to the same message (one each, as WhatsApp
 * shows them), and an empty one only takes the earlier one back. `user_changed_number` moves the
 * customer to their new number (see moveToNewNumber).
 */
export async function receiveMessage(deps: Deps, accountId: string, message: InboundMessage): Promise<boolean> {
  const customer = await customerOfMessage(deps, accountId, message);
  if (!customer) {
    deps.logger.warn({ accountId, messageWaId: message.messageWaId }, 'inbound message from a sender with neither a phone number nor a WhatsApp user id; skipped');
    return false;
  }
  const content = message.content ?? null;
  const reaction = content && 'reaction' in content ? content.reaction : null;
  const sentAt = toStoredTime(message.timestamp);
  const now = toStoredTime(deps.clock.now());
  return deps.database.db.transaction().execute(async (trx) => {
    if (reaction) {
      const earlier = await repository.listReactionsTo(trx, customer.id, reaction.message_wa_id);
      // Delivered again, or overtaken by a newer reaction of the customer (WhatsApp delivers at least once, in any order).
      if (earlier.some((row) => row.message_wa_id === message.messageWaId || row.created_at > sentAt)) return false;
      await repository.deleteMessages(trx, earlier.map((row) => row.id));
      for (const row of earlier) {
        await recordLiveEvent(trx, {
          accountId,
          type: 'message.deleted',
          customer,
          data: { customer_id: customer.id, message_id: row.id, message_wa_id: row.message_wa_id },
          occurredAt: deps.clock.now(),
        });
      }
      if (reaction.emoji === '') return false;
    }
    const messageId = await repository.insertInboundMessage(trx, {
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
      content: content && JSON.stringify(content),
      business_phone: message.to,
      status: 'received',
      error_code: null,
      error_title: null,
      created_at: sentAt,
      updated_at: now,
    });
    if (messageId === undefined) return false;
    const before = await customerRecordIn(trx, customer);
    await recordMessageTime(trx, customer.id, 'inbound', sentAt, now);
    // Webhook events (outbox), in this transaction: the message, and the conversation it reopened.
    await recordMessageEvent(deps, trx, accountId, message.messageWaId, 'message.received');
    if (before?.conversation_status === 'closed' || before?.conversation_status === 'solved') {
      await recordCustomerEvent(deps, trx, customer, 'conversation.status_changed', before);
    }
    // A stop word opts the customer out of campaigns, and nothing answers it.
    if (await isStopWordOf(trx, accountId, message.text)) {
      await optOut(trx, customer, now);
      return true;
    }
    // The bot engine hears of the message exactly once: the step is enqueued with the message's first insert.
    if (ANSWERABLE_TYPES.has(message.type) && (await botMayAnswer(trx, customer))) {
      await enqueueBotStep(trx, { accountId, customerId: customer.id, event: { type: 'message', messageId } }, deps.clock.now());
    }
    return true;
  });
}

/**
 * The customer a message is from. A notice that the customer changed their number (or WhatsApp user
 * id) first moves the customer it is about; one about nobody we know goes to the new number.
 */
async function customerOfMessage(deps: Deps, accountId: string, message: InboundMessage): Promise<CustomerRow | undefined> {
  const sender = { phone: message.from, userId: message.fromUserId ?? null, name: message.profileName ?? message.username ?? null };
  const system = message.content && 'system' in message.content ? message.content.system : null;
  if (system?.type === 'user_changed_number' || system?.type === 'customer_changed_number') {
    const known = await findSender(deps, accountId, { phone: sender.phone, userId: system.previous_user_id ?? sender.userId });
    if (known && system.new_phone) return (await moveToNewNumber(deps, known, system.new_phone, system.new_user_id ?? null)).customer;
    if (!known && system.new_phone) return customerOfSender(deps, accountId, { ...sender, phone: system.new_phone, userId: system.new_user_id ?? null });
    return known ?? customerOfSender(deps, accountId, sender);
  }
  if (system?.type === 'user_changed_user_id' && system.new_user_id) {
    const known = await findSender(deps, accountId, { phone: sender.phone, userId: system.previous_user_id ?? sender.userId });
    return known ? changeUserId(deps, known, system.new_user_id) : customerOfSender(deps, accountId, { ...sender, userId: system.new_user_id });
  }
  return customerOfSender(deps, accountId, sender);
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
export function ingestEvents(deps: Deps, channel: 'sandbox' | 'cloud_api'): ChannelEvents {
  return {
    messageReceived: async (accountId, message) => {
      if (await receiveMessage(deps, accountId, message)) deps.metrics.messagesReceived.inc({ channel, type: message.type });
    },
    statusChanged: (accountId, update) => applyStatusUpdate(deps, accountId, update),
    templateStatusChanged: (accountId, update) => applyTemplateStatus(deps, accountId, update),
  };
}
