import { sql, type Kysely } from 'kysely';
import type { CampaignRecipientRow, CampaignRow, CustomerRow, DB, MessageRow, NewMessageRow } from '../../db/tables.js';
import { isPostgres } from '../../jobs/queue.js';
import type { Audience, RecipientRecord } from './campaigns.schema.js';

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

/** A custom field's value as text, as JavaScript's String() writes it (true, false, null, numbers, strings unquoted). */
function fieldAsText(db: Kysely<DB>, name: string) {
  // The field's name is a bound value, never part of a JSON path: any name matches only itself.
  return isPostgres(db)
    ? sql<string | null>`(select case jsonb_typeof(f.value) when 'null' then 'null' else f.value #>> '{}' end
        from jsonb_each(customers.custom_fields::jsonb) f where f.key = ${name})`
    : sql<string | null>`(select case f.type when 'true' then 'true' when 'false' then 'false' when 'null' then 'null' else cast(f.value as text) end
        from json_each(customers.custom_fields) f where f.key = ${name})`;
}

/** The account's customers the audience selects, in the order they were created; every selector in SQL. */
function audienceQuery(db: Kysely<DB>, accountId: string, audience: Audience, labelIds: Map<string, string>) {
  let query = db.selectFrom('customers').where('customers.account_id', '=', accountId);
  const hasLabel = (labelId: string) => sql<boolean>`exists (select 1 from customer_labels cl where cl.customer_id = customers.id and cl.label_id = ${labelId})`;
  if (audience.labels_any?.length) query = query.where((eb) => eb.or(audience.labels_any!.map((name) => hasLabel(labelIds.get(name.toLowerCase())!))));
  for (const name of audience.labels_all ?? []) query = query.where(hasLabel(labelIds.get(name.toLowerCase())!));
  for (const name of audience.exclude_labels ?? []) query = query.where(sql<boolean>`not ${hasLabel(labelIds.get(name.toLowerCase())!)}`);
  if (audience.phones?.length) query = query.where('customers.phone', 'in', audience.phones);
  if (audience.custom_field) query = query.where(sql<boolean>`${fieldAsText(db, audience.custom_field.name)} = ${String(audience.custom_field.equals)}`);
  return query;
}

/** How many customers the audience selects now. */
export async function countAudience(db: Kysely<DB>, accountId: string, audience: Audience, labelIds: Map<string, string>): Promise<number> {
  const row = await audienceQuery(db, accountId, audience, labelIds)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

/** The first customer the audience selects (a campaign's sample recipient). */
export function firstOfAudience(db: Kysely<DB>, accountId: string, audience: Audience, labelIds: Map<string, string>): Promise<CustomerRow | undefined> {
  return audienceQuery(db, accountId, audience, labelIds).selectAll('customers').orderBy('customers.created_at').orderBy('customers.id').limit(1).executeTakeFirst();
}

export type AudienceMember = Pick<CustomerRow, 'id' | 'phone' | 'name' | 'email' | 'custom_fields'> & { opted_out: boolean };

/** The customers the audience selects now, with what their values are rendered from and whether they opted out. */
export async function selectAudience(db: Kysely<DB>, accountId: string, audience: Audience, labelIds: Map<string, string>, optedOutLabel: string): Promise<AudienceMember[]> {
  const rows = await audienceQuery(db, accountId, audience, labelIds)
    .select(['customers.id', 'customers.phone', 'customers.name', 'customers.email', 'customers.custom_fields'])
    .select(
      sql<number | boolean>`exists (select 1 from customer_labels cl join labels l on l.id = cl.label_id
        where cl.customer_id = customers.id and lower(l.name) = ${optedOutLabel})`.as('opted_out'),
    )
    .orderBy('customers.created_at')
    .orderBy('customers.id')
    .execute();
  return rows.map((row) => ({ ...row, opted_out: Boolean(row.opted_out) }));
}

export async function insertRecipients(db: Kysely<DB>, rows: CampaignRecipientRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('campaign_recipients').values(rows.slice(i, i + 500)).execute();
}

export type QueuedRecipient = Pick<CampaignRecipientRow, 'id' | 'customer_id' | 'phone' | 'variables'>;

/** The next recipients waiting to be sent, in order. */
export function nextQueued(db: Kysely<DB>, campaignId: string, limit: number): Promise<QueuedRecipient[]> {
  return db
    .selectFrom('campaign_recipients')
    .select(['id', 'customer_id', 'phone', 'variables'])
    .where('campaign_id', '=', campaignId)
    .where('state', '=', 'queued')
    .orderBy('position')
    .limit(limit)
    .execute();
}

/**
 * Takes recipients for sending, in the transaction that records their messages: only those still
 * queued while their campaign runs (a pause or cancel committed first wins), and whose customer the
 * number has not written to since `pairSince` (Meta's pair rate). Returns the ids taken.
 */
export async function claimRecipients(db: Kysely<DB>, campaignId: string, ids: string[], at: string, pairSince: string): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('campaign_recipients')
    .set({ state: 'sent', updated_at: at })
    .where('id', 'in', ids)
    .where('campaign_id', '=', campaignId)
    .where('state', '=', 'queued')
    .where(sql<boolean>`exists (select 1 from campaigns c where c.id = campaign_recipients.campaign_id and c.status = 'running')`)
    .where(
      sql<boolean>`not exists (select 1 from messages m where m.customer_id = campaign_recipients.customer_id
        and m.direction = 'outbound' and m.created_at > ${pairSince})`,
    )
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

/** The customers' conversations as the messages' events tell them (on PostgreSQL share-locked, as a single send does). */
export async function conversationsOf(db: Kysely<DB>, customerIds: string[]): Promise<Map<string, Pick<CustomerRow, 'id' | 'phone' | 'agent_id' | 'team_id'>>> {
  let query = db.selectFrom('customers').select(['id', 'phone', 'agent_id', 'team_id']).where('id', 'in', customerIds);
  if (isPostgres(db)) query = query.forShare();
  return new Map((await query.execute()).map((row) => [row.id, row]));
}

/** Outbound messages, in one statement; the rows as inserted. */
export async function insertMessages(db: Kysely<DB>, rows: NewMessageRow[]): Promise<MessageRow[]> {
  const inserted = await db.insertInto('messages').values(rows).returningAll().execute();
  return inserted.map((row) => ({ ...row, id: Number(row.id) }));
}

/** Ties each recipient to its message (recipient id → message id), in one statement. */
/** Ties each recipient to its message (recipient id → message id), in one statement. */
export async function linkMessages(db: Kysely<DB>, links: Array<{ recipientId: string; messageId: number }>): Promise<void> {
  if (links.length === 0) return;
  const cases = sql.join(links.map((link) => sql`when ${link.recipientId} then cast(${link.messageId} as integer)`), sql` `);
  await db
    .updateTable('campaign_recipients')
    .set({ message_id: sql<number>`case id ${cases} end` })
    .where('id', 'in', links.map((link) => link.recipientId))
    .execute();
}

/** The WhatsApp ids the channel gave the messages, and their customers' last interaction: two statements. */
export async function recordSends(db: Kysely<DB>, sends: Array<{ messageId: number; customerId: string; messageWaId: string; createdAt: string }>, at: string): Promise<void> {
  if (sends.length === 0) return;
  const waIds = sql.join(sends.map((send) => sql`when ${send.messageId} then ${send.messageWaId}`), sql` `);
  await db
    .updateTable('messages')
    .set({ message_wa_id: sql<string>`case id ${waIds} end`, updated_at: at })
    .where('id', 'in', sends.map((send) => send.messageId))
    // A status that echoed our id may have recorded it already.
    .where('message_wa_id', 'is', null)
    .execute();
  const times = sql.join(sends.map((send) => sql`when ${send.customerId} then ${send.createdAt}`), sql` `);
  const sentAt = sql<string>`(case id ${times} end)`;
  await db
    .updateTable('customers')
    .set({ last_interaction_at: sql<string>`case when last_interaction_at is null or last_interaction_at < ${sentAt} then ${sentAt} else last_interaction_at end`, updated_at: at })
    .where('id', 'in', sends.map((send) => send.customerId))
    .execute();
}

/** Of these WhatsApp ids, those with statuses that arrived before the id was recorded. */
export async function withPendingStatuses(db: Kysely<DB>, accountId: string, messageWaIds: string[]): Promise<string[]> {
  if (messageWaIds.length === 0) return [];
  const rows = await db.selectFrom('pending_statuses').select('message_wa_id').distinct().where('account_id', '=', accountId).where('message_wa_id', 'in', messageWaIds).execute();
  return rows.map((row) => row.message_wa_id);
}

/** Recipients refused before any message (the number invalid, messaging off, the template gone): failed with the reason. */
export async function failRecipients(db: Kysely<DB>, ids: string[], reason: string, at: string): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('campaign_recipients').set({ state: 'failed', reason, updated_at: at }).where('id', 'in', ids).where('state', '=', 'queued').execute();
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

/** The recipients of one status (all when none), as the database tells it from their state and their message's status. */
function withStatus(db: Kysely<DB>, campaignId: string, status: RecipientRecord['status'] | undefined) {
  const query = db.selectFrom('campaign_recipients as r').where('r.campaign_id', '=', campaignId);
  const messageIs = (condition: ReturnType<typeof sql<boolean>>) => sql<boolean>`exists (select 1 from messages m where m.id = r.message_id and ${condition})`;
  switch (status) {
    case undefined:
      return query;
    case 'queued':
    case 'skipped':
      return query.where('r.state', '=', status);
    case 'failed':
      return query.where((eb) => eb.or([eb('r.state', '=', 'failed'), eb.and([eb('r.state', '=', 'sent'), messageIs(sql`m.status = 'failed'`)])]));
    case 'sending':
      return query.where('r.state', '=', 'sent').where(sql<boolean>`not ${messageIs(sql`m.status <> 'pending'`)}`);
    default:
      return query.where('r.state', '=', 'sent').where(messageIs(sql`m.status = ${status}`));
  }
}

/** How many of the campaign's recipients have this status (all when none). */
export async function countRecipients(db: Kysely<DB>, campaignId: string, status: RecipientRecord['status'] | undefined): Promise<number> {
  const row = await withStatus(db, campaignId, status).select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirst();
  return Number(row?.count ?? 0);
}

/**
 * A page of the campaign's recipients of this status (all when none), in order, with their
 * message's status: the page's recipients are chosen first, then only they are joined to their messages.
 */
export function recipientsPage(db: Kysely<DB>, campaignId: string, status: RecipientRecord['status'] | undefined, limit: number, offset: number): Promise<RecipientView[]> {
  const page = withStatus(db, campaignId, status).select(['r.id', 'r.position']).orderBy('r.position').limit(limit).offset(offset);
  return db
    .selectFrom(page.as('p'))
    .innerJoin('campaign_recipients as r', 'r.id', 'p.id')
    .leftJoin('messages as m', 'm.id', 'r.message_id')
    .select(['r.phone', 'r.state', 'r.reason', 'm.status as message_status', 'm.message_wa_id', 'm.error_code', 'm.error_title'])
    .orderBy('p.position')
    .execute();
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

/**
 * How many of the campaign's recipients wrote back within `hours` hours of their campaign message
 * (counted by the database: stored times are ISO-8601 UTC text, so the window's end is written the same way).
 */
export async function countReplied(db: Kysely<DB>, campaignId: string, hours: number): Promise<number> {
  const windowEnd = isPostgres(db)
    ? sql`to_char((m.created_at::timestamptz + make_interval(hours => ${hours})) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
    : sql`strftime('%Y-%m-%dT%H:%M:%fZ', m.created_at, ${`+${hours} hours`})`;
  const { rows } = await sql<{ replied: number | string }>`
    select count(*) as replied
    from campaign_recipients r join messages m on m.id = r.message_id
    where r.campaign_id = ${campaignId}
      and exists (select 1 from messages i where i.customer_id = r.customer_id and i.direction = 'inbound'
        and i.created_at > m.created_at and i.created_at <= ${windowEnd})`.execute(db);
  return Number(rows[0]?.replied ?? 0);
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
