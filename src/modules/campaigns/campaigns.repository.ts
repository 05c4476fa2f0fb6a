import { sql, type Kysely } from 'kysely';
import type { CampaignRecipientRow, CampaignRow, CustomerRow, DB } from '../../db/tables.js';
import type { Audience } from './campaigns.schema.js';

export async function insertCampaign(db: Kysely<DB>, row: CampaignRow): Promise<void> {
  await db.insertInto('campaigns').values(row).execute();
}

export function findCampaign(db: Kysely<DB>, accountId: string, id: string): Promise<CampaignRow | undefined> {
  return db.selectFrom('campaigns').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export function findCampaignById(db: Kysely<DB>, id: string): Promise<CampaignRow | undefined> {
  return db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listCampaigns(db: Kysely<DB>, accountId: string): Promise<CampaignRow[]> {
  return db.selectFrom('campaigns').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'desc').orderBy('id').execute();
}

/** Moves the campaign from one of `from` to `to`; false when it was in none of them. */
export async function moveCampaign(db: Kysely<DB>, id: string, from: string[], to: Partial<Pick<CampaignRow, 'status' | 'started_at' | 'completed_at' | 'recipients_count'>>, at: string): Promise<boolean> {
  const result = await db.updateTable('campaigns').set({ ...to, updated_at: at }).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The account's customers the audience selects (the custom field is compared by the caller). */
export function selectAudience(db: Kysely<DB>, accountId: string, audience: Audience, labelIds: Map<string, string>): Promise<CustomerRow[]> {
  let query = db.selectFrom('customers').selectAll().where('account_id', '=', accountId);
  const hasLabel = (labelId: string) => sql<boolean>`exists (select 1 from customer_labels cl where cl.customer_id = customers.id and cl.label_id = ${labelId})`;
  if (audience.labels_any?.length) query = query.where((eb) => eb.or(audience.labels_any!.map((name) => hasLabel(labelIds.get(name.toLowerCase())!))));
  for (const name of audience.labels_all ?? []) query = query.where(hasLabel(labelIds.get(name.toLowerCase())!));
  for (const name of audience.exclude_labels ?? []) query = query.where(sql<boolean>`not ${hasLabel(labelIds.get(name.toLowerCase())!)}`);
  if (audience.phones?.length) query = query.where('phone', 'in', audience.phones);
  return query.orderBy('created_at').orderBy('id').execute();
}

export async function insertRecipients(db: Kysely<DB>, rows: CampaignRecipientRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('campaign_recipients').values(rows.slice(i, i + 500)).execute();
}

/** The next recipients waiting to be sent, in order. */
export function nextQueued(db: Kysely<DB>, campaignId: string, limit: number): Promise<CampaignRecipientRow[]> {
  return db.selectFrom('campaign_recipients').selectAll().where('campaign_id', '=', campaignId).where('state', '=', 'queued').orderBy('position').limit(limit).execute();
}

/**
 * Takes a recipient for sending, in the transaction that records its message: only while it is
 * queued and its campaign runs (a pause or cancel committed first wins).
 */
export async function claimRecipient(db: Kysely<DB>, recipientId: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('campaign_recipients')
    .set({ state: 'sent', updated_at: at })
    .where('id', '=', recipientId)
    .where('state', '=', 'queued')
    .where(sql<boolean>`exists (select 1 from campaigns c where c.id = campaign_recipients.campaign_id and c.status = 'running')`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function linkMessage(db: Kysely<DB>, recipientId: string, messageId: number): Promise<void> {
  await db.updateTable('campaign_recipients').set({ message_id: messageId }).where('id', '=', recipientId).execute();
}

export async function markRecipient(db: Kysely<DB>, recipientId: string, state: 'skipped' | 'failed', reason: string, at: string): Promise<void> {
  await db.updateTable('campaign_recipients').set({ state, reason, updated_at: at }).where('id', '=', recipientId).where('state', '=', 'queued').execute();
}

export async function skipQueued(db: Kysely<DB>, campaignId: string, reason: string, at: string): Promise<void> {
  await db.updateTable('campaign_recipients').set({ state: 'skipped', reason, updated_at: at }).where('campaign_id', '=', campaignId).where('state', '=', 'queued').execute();
}

/** Recipients whose message failed with one of `codes` go back to the queue (their failed message stays in the history). */
export async function requeueFailed(db: Kysely<DB>, campaignId: string, codes: number[], at: string): Promise<number> {
  const result = await db
    .updateTable('campaign_recipients')
    .set({ state: 'queued', message_id: null, updated_at: at })
    .where('campaign_id', '=', campaignId)
    .where('state', '=', 'sent')
    .where(sql<boolean>`exists (select 1 from messages m where m.id = campaign_recipients.message_id and m.status = 'failed' and m.error_code in (${sql.join(codes)}))`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface RecipientView {
  phone: string;
  state: string;
  reason: string | null;
  message_status: string | null;
  message_wa_id: string | null;
  error_code: number | null;
  error_title: string | null;
}

/** A campaign's recipients with their message's status, in order. */
export function recipientsWithStatus(db: Kysely<DB>, campaignId: string) {
  return db
    .selectFrom('campaign_recipients as r')
    .leftJoin('messages as m', 'm.id', 'r.message_id')
    .select(['r.phone', 'r.state', 'r.reason', 'm.status as message_status', 'm.message_wa_id', 'm.error_code', 'm.error_title'])
    .where('r.campaign_id', '=', campaignId);
}

/** How many of the campaign's recipients are in each state and message status (counted by the database). */
export async function countByStatus(db: Kysely<DB>, campaignId: string): Promise<Array<{ state: string; message_status: string | null; recipients: number }>> {
  const rows = await db
    .selectFrom('campaign_recipients as r')
    .leftJoin('messages as m', 'm.id', 'r.message_id')
    .select(['r.state', 'm.status as message_status', (eb) => eb.fn.countAll<number | string>().as('recipients')])
    .where('r.campaign_id', '=', campaignId)
    .groupBy(['r.state', 'm.status'])
    .execute();
  return rows.map((row) => ({ state: row.state, message_status: row.message_status, recipients: Number(row.recipients) }));
}

/** Each sent recipient's message time and their first inbound message after it (replies are counted by the caller). */
export async function firstReplies(db: Kysely<DB>, campaignId: string): Promise<Array<{ sent_at: string; first_reply: string | null }>> {
  const { rows } = await sql<{ sent_at: string; first_reply: string | null }>`
    select m.created_at as sent_at, (select min(i.created_at) from messages i
      where i.customer_id = r.customer_id and i.direction = 'inbound' and i.created_at > m.created_at) as first_reply
    from campaign_recipients r join messages m on m.id = r.message_id
    where r.campaign_id = ${campaignId}`.execute(db);
  return rows;
}

/** The unique customers campaigns of the account messaged since `since`, and the earliest such message. */
export async function campaignReach(db: Kysely<DB>, accountId: string, since: string): Promise<{ customers: number; earliest: string | null }> {
  const row = await db
    .selectFrom('messages')
    .select((eb) => [eb.fn.count<number | string>(eb.fn('distinct', ['customer_id'] as never)).as('customers'), eb.fn.min('created_at').as('earliest')])
    .where('account_id', '=', accountId)
    .where('sender_type', '=', 'campaign')
    .where('created_at', '>', since)
    .executeTakeFirst();
  return { customers: Number(row?.customers ?? 0), earliest: (row?.earliest as string | null | undefined) ?? null };
}

/** When the business last wrote to the customer (Meta's pair rate: one message per 6 seconds). */
export async function lastOutboundAt(db: Kysely<DB>, customerId: string): Promise<string | null> {
  const row = await db.selectFrom('messages').select((eb) => eb.fn.max('created_at').as('at')).where('customer_id', '=', customerId).where('direction', '=', 'outbound').executeTakeFirst();
  return (row?.at as string | null | undefined) ?? null;
}
