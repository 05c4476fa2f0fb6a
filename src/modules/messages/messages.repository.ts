import type { Kysely } from 'kysely';
import { preparedQuery } from '../../db/prepared.js';
import type { DB, MessageRow, NewMessageRow } from '../../db/tables.js';
import { newId } from '../../ids.js';
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
export async function insertInboundMessage(db: Kysely<DB>, row: NewMessageRow): Promise<boolean> {
  const inserted = await db
    .insertInto('messages')
    .values(row)
    .onConflict((oc) => oc.columns(['account_id', 'message_wa_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
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
