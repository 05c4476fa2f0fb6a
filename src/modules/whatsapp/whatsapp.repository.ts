import type { Kysely, Selectable } from 'kysely';
import { preparedQuery } from '../../db/prepared.js';
import type { DB, WhatsAppChannelsTable, WhatsAppWebhookInboxTable } from '../../db/tables.js';

export type WhatsAppChannelRow = Selectable<WhatsAppChannelsTable>;
export type WebhookInboxRow = Selectable<WhatsAppWebhookInboxTable>;

export function findChannelByAccount(db: Kysely<DB>, accountId: string): Promise<WhatsAppChannelRow | undefined> {
  return db.selectFrom('whatsapp_channels').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

export function findChannelByPhoneNumberId(db: Kysely<DB>, phoneNumberId: string): Promise<WhatsAppChannelRow | undefined> {
  return db.selectFrom('whatsapp_channels').selectAll().where('phone_number_id', '=', phoneNumberId).executeTakeFirst();
}

export function findChannelsByWaba(db: Kysely<DB>, wabaId: string): Promise<WhatsAppChannelRow[]> {
  return db.selectFrom('whatsapp_channels').selectAll().where('waba_id', '=', wabaId).orderBy('created_at').execute();
}

export async function countChannels(db: Kysely<DB>): Promise<number> {
  const row = await db.selectFrom('whatsapp_channels').select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function upsertChannel(db: Kysely<DB>, row: WhatsAppChannelRow): Promise<void> {
  await db
    .insertInto('whatsapp_channels')
    .values(row)
    .onConflict((oc) =>
      oc.column('account_id').doUpdateSet({
        phone_number_id: row.phone_number_id,
        waba_id: row.waba_id,
        display_phone_number: row.display_phone_number,
        access_token: row.access_token,
        status: row.status,
        status_reason: row.status_reason,
        status_changed_at: row.status_changed_at,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

export async function deleteChannel(db: Kysely<DB>, accountId: string): Promise<boolean> {
  const result = await db.deleteFrom('whatsapp_channels').where('account_id', '=', accountId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Marks the channel disconnected unless it already is (the first reason is kept). */
export async function markDisconnected(db: Kysely<DB>, accountId: string, reason: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('whatsapp_channels')
    .set({ status: 'disconnected', status_reason: reason, status_changed_at: at, updated_at: at })
    .where('account_id', '=', accountId)
    .where('status', '=', 'connected')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function setAccountChannelType(db: Kysely<DB>, accountId: string, type: 'sandbox' | 'cloud_api'): Promise<void> {
  await db.updateTable('accounts').set({ channel_type: type }).where('id', '=', accountId).execute();
}

/** Stores a delivery once per body; returns its id when it is new, undefined for a redelivery. */
export async function insertInboxEvent(db: Kysely<DB>, row: Pick<WebhookInboxRow, 'id' | 'body_sha256' | 'body' | 'received_at'>): Promise<string | undefined> {
  const [inserted] = await insertInboxRow(db, row.id, row.body_sha256, row.body, row.received_at);
  return inserted?.id;
}

/** Every WhatsApp webhook delivery: compiled once. */
const insertInboxRow = preparedQuery((db, id: string, bodySha256: string, body: string, receivedAt: string) =>
  db
    .insertInto('whatsapp_webhook_inbox')
    .values({ id, body_sha256: bodySha256, body, received_at: receivedAt, processed_at: null, outcome: null, unrouted_phone_number_ids: null, last_error: null, processed_by: null })
    .onConflict((oc) => oc.column('body_sha256').doNothing())
    .returning('id'),
);

export function findInboxEvent(db: Kysely<DB>, id: string): Promise<WebhookInboxRow | undefined> {
  return db.selectFrom('whatsapp_webhook_inbox').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function markInboxProcessed(
  db: Kysely<DB>,
  id: string,
  result: { outcome: string; unroutedPhoneNumberIds: string[]; at: string; by: string },
): Promise<void> {
  await db
    .updateTable('whatsapp_webhook_inbox')
    .set((eb) => ({
      processed_at: result.at,
      outcome: result.outcome,
      unrouted_phone_number_ids: result.unroutedPhoneNumberIds.length > 0 ? result.unroutedPhoneNumberIds.join(',') : null,
      last_error: null,
      processed_by: result.by,
      process_count: eb('process_count', '+', 1),
    }))
    .where('id', '=', id)
    .execute();
}

export async function recordInboxError(db: Kysely<DB>, id: string, error: string): Promise<void> {
  await db.updateTable('whatsapp_webhook_inbox').set({ last_error: error.slice(0, 2000) }).where('id', '=', id).execute();
}

/** Merges fields into a customer's attribution; sets `source` to `whatsapp_ad` when it has none. */
export async function mergeAttribution(db: Kysely<DB>, customer: { id: string; attribution: string; source: string | null }, fields: Record<string, string>, at: string): Promise<void> {
  const attribution = { ...(JSON.parse(customer.attribution) as Record<string, string>), ...fields };
  await db
    .updateTable('customers')
    .set({ attribution: JSON.stringify(attribution), source: customer.source ?? 'whatsapp_ad', updated_at: at })
    .where('id', '=', customer.id)
    .execute();
}

export function findOutboundMessage(db: Kysely<DB>, accountId: string, id: number) {
  return db
    .selectFrom('messages')
    .select(['id', 'customer_id', 'status', 'message_wa_id', 'created_at'])
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .where('direction', '=', 'outbound')
    .executeTakeFirst();
}

