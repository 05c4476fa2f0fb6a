import type { Kysely } from 'kysely';
import { preparedQuery } from '../../db/prepared.js';
import type { DB, MessageRow, NewMessageRow } from '../../db/tables.js';
import { newId } from '../../ids.js';
import { isPostgres } from '../../jobs/queue.js';
import { statusesBefore, type OutboundStatus } from './message-status.js';

/** A message with its customer's phone (the other end of the conversation). */
export type MessageWithPhone = MessageRow & { customer_phone: string };

export interface StatusChange {
  status: OutboundStatus;
  errorCode: number | null;
  errorTitle: string | null;
  /** When WhatsApp says it happened. */
  occurredAt: string;
}

// PostgreSQL returns bigserial ids as strings.
const withNumericId = <Row extends { id: number | string }>(row: Row): Row => ({ ...row, id: Number(row.id) });

/** An outbound message, before the channel has given it a WhatsApp id. */
export async function insertOutboundMessage(db: Kysely<DB>, row: NewMessageRow): Promise<number> {
  const inserted = await db.insertInto('messages').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(inserted.id);
}

/** An inbound message; false when its message_wa_id is already the account's (WhatsApp delivers at least once). */
/** The new message's id; undefined when the message was there already (WhatsApp delivered it again). */
export async function insertInboundMessage(db: Kysely<DB>, row: NewMessageRow): Promise<number | undefined> {
  const inserted = await db
    .insertInto('messages')
    .values(row)
    .onConflict((oc) => oc.columns(['account_id', 'message_wa_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted === undefined ? undefined : Number(inserted.id);
}

/** A customer's reactions (inbound `reaction` messages) to the message `targetWaId`. */
export async function listReactionsTo(db: Kysely<DB>, customerId: string, targetWaId: string): Promise<Array<{ id: number; message_wa_id: string | null; created_at: string }>> {
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'message_wa_id', 'created_at', 'content'])
    .where('customer_id', '=', customerId)
    .where('direction', '=', 'inbound')
    .where('type', '=', 'reaction')
    .execute();
  return rows
    .filter((row) => reactionTargetOf(row.content) === targetWaId)
    .map(({ id, message_wa_id, created_at }) => ({ id: Number(id), message_wa_id, created_at }));
}

function reactionTargetOf(content: string | null): string | undefined {
  if (!content) return undefined;
  try {
    return (JSON.parse(content) as { reaction?: { message_wa_id?: string } }).reaction?.message_wa_id;
  } catch {
    return undefined;
  }
}

export async function deleteMessages(db: Kysely<DB>, ids: number[]): Promise<void> {
  if (ids.length > 0) await db.deleteFrom('messages').where('id', 'in', ids).execute();
}

export async function recordWaId(db: Kysely<DB>, id: number, messageWaId: string, at: string): Promise<void> {
  await db.updateTable('messages').set({ message_wa_id: messageWaId, updated_at: at }).where('id', '=', id).execute();
}

/** Ties a WhatsApp id to our message when the send's answer never told us (a status echoed our id). */
export async function recordMissingWaId(db: Kysely<DB>, accountId: string, id: number, messageWaId: string, at: string): Promise<void> {
  await db
    .updateTable('messages')
    .set({ message_wa_id: messageWaId, updated_at: at })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .where('message_wa_id', 'is', null)
    .execute();
}

/** Moves an outbound message to `change.status` unless that would move it backwards; true when it moved. */
export async function advanceStatus(db: Kysely<DB>, accountId: string, messageWaId: string, change: StatusChange, now: string): Promise<boolean> {
  const failed = change.status === 'failed';
  const result = await db
    .updateTable('messages')
    .set({
      status: change.status,
      error_code: failed ? change.errorCode : null,
      error_title: failed ? change.errorTitle : null,
      updated_at: now,
    })
    .where('account_id', '=', accountId)
    .where('message_wa_id', '=', messageWaId)
    .where('direction', '=', 'outbound')
    .where('status', 'in', statusesBefore(change.status))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A send the channel refused: failed, whatever it was. */
/** Keeps why a message is still `pending` (the channel holds it back, or its outcome is not known yet). */
export async function notePendingError(db: Kysely<DB>, id: number, errorCode: number | null, errorTitle: string, at: string): Promise<void> {
  await db.updateTable('messages').set({ error_code: errorCode, error_title: errorTitle, updated_at: at }).where('id', '=', id).where('status', '=', 'pending').execute();
}

export async function markFailed(db: Kysely<DB>, id: number, errorCode: number | null, errorTitle: string, at: string): Promise<void> {
  await db.updateTable('messages').set({ status: 'failed', error_code: errorCode, error_title: errorTitle, updated_at: at }).where('id', '=', id).execute();
}

function selectWithPhone(db: Kysely<DB>) {
  return db.selectFrom('messages').innerJoin('customers', 'customers.id', 'messages.customer_id').selectAll('messages').select('customers.phone as customer_phone');
}

export async function findMessageByWaId(db: Kysely<DB>, accountId: string, messageWaId: string): Promise<MessageWithPhone | undefined> {
  const row = await selectWithPhone(db).where('messages.account_id', '=', accountId).where('messages.message_wa_id', '=', messageWaId).executeTakeFirst();
  return row && withNumericId(row);
}

/** A message as its events tell it: with its customer's phone and assignment, and who sent it (a person's name). */
export type MessageForEvent = MessageWithPhone & { customer_agent_id: string | null; customer_team_id: string | null; sender_name: string | null };

/** The message with this WhatsApp id, or (a number) this id, as its events tell it. */
export async function findMessageForEvent(db: Kysely<DB>, accountId: string, message: string | number): Promise<MessageForEvent | undefined> {
  const row = await selectWithPhone(db)
    .leftJoin('agents', 'agents.id', 'messages.sender_agent_id')
    .select(['customers.agent_id as customer_agent_id', 'customers.team_id as customer_team_id', 'agents.name as sender_name'])
    .where('messages.account_id', '=', accountId)
    .where(typeof message === 'number' ? 'messages.id' : 'messages.message_wa_id', '=', message)
    .executeTakeFirst();
  return row && withNumericId(row);
}

/**
 * An outbound message as inserted, with its conversation's assignment (read in the same transaction;
 * on PostgreSQL the customer row is share-locked, so an assignment under way is waited for, not missed)
 * and the name of the person who sent it.
 */
export async function insertOutboundMessageForEvent(db: Kysely<DB>, row: NewMessageRow): Promise<MessageForEvent> {
  let conversation = db
    .selectFrom('customers')
    .select(['customers.phone', 'customers.agent_id', 'customers.team_id'])
    .select((eb) =>
      eb
        .selectFrom('agents')
        .select('agents.name')
        .where('agents.id', '=', row.sender_agent_id ?? null)
        .as('sender_name'),
    )
    .where('customers.id', '=', row.customer_id);
  if (isPostgres(db)) conversation = conversation.forShare('customers');
  const customer = await conversation.executeTakeFirstOrThrow();
  const inserted = await db.insertInto('messages').values(row).returningAll().executeTakeFirstOrThrow();
  return { ...withNumericId(inserted), customer_phone: customer.phone, customer_agent_id: customer.agent_id, customer_team_id: customer.team_id, sender_name: customer.sender_name };
}

// get-conversation's two queries: compiled once.
const conversationCount = preparedQuery((db, customerId: string) =>
  db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('customer_id', '=', customerId),
);

const conversationPage = preparedQuery((db, customerId: string, limit: number, offset: number) =>
  selectWithPhone(db)
    .where('messages.customer_id', '=', customerId)
    .orderBy('messages.created_at', 'desc')
    .orderBy('messages.id', 'desc')
    .limit(limit)
    .offset(offset),
);

export async function countConversation(db: Kysely<DB>, customerId: string): Promise<number> {
  const [row] = await conversationCount(db, customerId);
  return Number(row.count);
}

/** One page of a customer's messages, newest first. */
export async function listConversationPage(db: Kysely<DB>, customerId: string, limit: number, offset: number): Promise<MessageWithPhone[]> {
  const rows = await conversationPage(db, customerId, limit, offset);
  return rows.map(withNumericId);
}

export async function insertPendingStatus(db: Kysely<DB>, accountId: string, messageWaId: string, change: StatusChange, now: string): Promise<void> {
  await db
    .insertInto('pending_statuses')
    .values({
      id: newId(),
      account_id: accountId,
      message_wa_id: messageWaId,
      status: change.status,
      error_code: change.errorCode,
      error_title: change.errorTitle,
      occurred_at: change.occurredAt,
      created_at: now,
    })
    .execute();
}

export async function listPendingStatuses(db: Kysely<DB>, accountId: string, messageWaId: string) {
  return db
    .selectFrom('pending_statuses')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('message_wa_id', '=', messageWaId)
    .orderBy('occurred_at')
    .orderBy('created_at')
    .execute();
}

export async function deletePendingStatuses(db: Kysely<DB>, ids: string[]): Promise<void> {
  if (ids.length > 0) await db.deleteFrom('pending_statuses').where('id', 'in', ids).execute();
}

/** The stored files of an account's or a customer's messages (to remove once those rows are gone). */
export async function mediaKeysOf(db: Kysely<DB>, owner: 'account_id' | 'customer_id', id: string): Promise<string[]> {
  const rows = await db.selectFrom('messages').select('media_key').where(owner, '=', id).where('media_key', 'is not', null).execute();
  return rows.map((row) => row.media_key!);
}

/** A message of the account by its id. */
export function findMessageById(db: Kysely<DB>, accountId: string, id: number): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

/** The content of the customer's last interactive message (reply buttons or a list we sent). */
export async function lastInteractiveContent(db: Kysely<DB>, customerId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('messages')
    .select('content')
    .where('customer_id', '=', customerId)
    .where('direction', '=', 'outbound')
    .where('type', '=', 'interactive')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.content ?? undefined;
}

/** The customer's inbound messages after `afterId`, oldest first (what the AI bot has not answered yet). */
export function listInboundAfter(db: Kysely<DB>, customerId: string, afterId: number): Promise<Array<{ id: number; text: string | null }>> {
  return db
    .selectFrom('messages')
    .select(['id', 'text'])
    .where('customer_id', '=', customerId)
    .where('direction', '=', 'inbound')
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(50)
    .execute()
    .then((rows) => rows.map((row) => ({ id: Number(row.id), text: row.text })));
}
