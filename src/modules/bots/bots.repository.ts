import { sql, type Kysely } from 'kysely';
import type { BotOutboxRow, BotRow, BotSessionRow, CustomerRow, DB } from '../../db/tables.js';
import { isPostgres } from '../../jobs/queue.js';

export function findBot(db: Kysely<DB>, accountId: string, id: string): Promise<BotRow | undefined> {
  return db.selectFrom('bots').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export function findBotById(db: Kysely<DB>, id: string): Promise<BotRow | undefined> {
  return db.selectFrom('bots').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listBots(db: Kysely<DB>, accountId: string): Promise<BotRow[]> {
  return db.selectFrom('bots').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
}

export async function insertBot(db: Kysely<DB>, row: BotRow): Promise<void> {
  await db.insertInto('bots').values(row).execute();
}

export async function renameBot(db: Kysely<DB>, id: string, name: string): Promise<void> {
  await db.updateTable('bots').set({ name }).where('id', '=', id).execute();
}

/** A version of a bot's flow (JSON). */
export async function findFlowVersion(db: Kysely<DB>, botId: string, version: number): Promise<string | undefined> {
  const row = await db.selectFrom('bot_flow_versions').select('flow').where('bot_id', '=', botId).where('version', '=', version).executeTakeFirst();
  return row?.flow;
}

/** Saves a new version of the bot's flow and makes it current; returns its number. */
export async function addFlowVersion(db: Kysely<DB>, bot: BotRow, flow: string, createdAt: string): Promise<number> {
  const version = Number(bot.version) + 1;
  await db.insertInto('bot_flow_versions').values({ bot_id: bot.id, version, flow, created_at: createdAt }).execute();
  await db.updateTable('bots').set({ version }).where('id', '=', bot.id).execute();
  return version;
}

/** The current flows of the account's bots that have one, for keyword triggers. */
export function listCurrentFlows(db: Kysely<DB>, accountId: string): Promise<Array<{ bot_id: string; version: number; flow: string }>> {
  return db
    .selectFrom('bots')
    .innerJoin('bot_flow_versions', (join) => join.onRef('bot_flow_versions.bot_id', '=', 'bots.id').onRef('bot_flow_versions.version', '=', 'bots.version'))
    .select(['bots.id as bot_id', 'bots.version', 'bot_flow_versions.flow'])
    .where('bots.account_id', '=', accountId)
    .orderBy('bots.created_at')
    .orderBy('bots.id')
    .execute();
}

/**
 * Whether a bot could answer this customer's message, so a message costs no bot job when none can:
 * their own bot (a flow or the AI, not paused), or, for a conversation no person or bot has, any
 * flow of the account (a keyword trigger or the default flow).
 */
export async function botMayAnswer(db: Kysely<DB>, customer: CustomerRow): Promise<boolean> {
  if (customer.bot_paused_at !== null) return false;
  if (customer.bot !== null) return true;
  if (customer.agent_id !== null) return false;
  const row = await db.selectFrom('bots').select('id').where('account_id', '=', customer.account_id).where('version', '>', 0).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Whether this is the customer's first inbound message (a new customer, for the account's default flow). */
export async function isFirstInbound(db: Kysely<DB>, customerId: string, messageId: number): Promise<boolean> {
  const earlier = await db.selectFrom('messages').select('id').where('customer_id', '=', customerId).where('direction', '=', 'inbound').where('id', '<', messageId).limit(1).executeTakeFirst();
  return earlier === undefined;
}

/** The `waiting` of a session whose flow is over: kept so a step run again knows its event was taken. */
export const SESSION_ENDED = 'none';

export function findSession(db: Kysely<DB>, customerId: string): Promise<BotSessionRow | undefined> {
  return db.selectFrom('bot_sessions').selectAll().where('customer_id', '=', customerId).executeTakeFirst();
}

/**
 * Saves the session a turn made, only if it is still the one the turn started from (`generation`,
 * null when there was none): a step run twice at once, or a session a person ended meanwhile, makes
 * the later commit write nothing. False when nothing was written.
 */
export async function saveSession(db: Kysely<DB>, row: BotSessionRow, readGeneration: number | null): Promise<boolean> {
  const { customer_id, ...rest } = row;
  if (readGeneration === null) {
    const inserted = await db.insertInto('bot_sessions').values(row).onConflict((oc) => oc.column('customer_id').doNothing()).executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }
  const updated = await db.updateTable('bot_sessions').set(rest).where('customer_id', '=', customer_id).where('generation', '=', readGeneration).executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

export async function deleteSession(db: Kysely<DB>, customerId: string): Promise<void> {
  await db.deleteFrom('bot_sessions').where('customer_id', '=', customerId).execute();
}

export async function insertOutbox(db: Kysely<DB>, rows: BotOutboxRow[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('bot_outbox').values(rows).execute();
}

export function listOutbox(db: Kysely<DB>, customerId: string): Promise<BotOutboxRow[]> {
  return db.selectFrom('bot_outbox').selectAll().where('customer_id', '=', customerId).orderBy('generation').orderBy('position').execute();
}

/** Takes one outbox row; false when it was taken already. */
export async function takeOutboxRow(db: Kysely<DB>, id: string): Promise<boolean> {
  const result = await db.deleteFrom('bot_outbox').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function clearOutbox(db: Kysely<DB>, customerId: string): Promise<void> {
  await db.deleteFrom('bot_outbox').where('customer_id', '=', customerId).execute();
}

/**
 * The session's flow is over (a person took over, the bot changed): its timers and answers no longer
 * count. The generation moves on too, so a step computing meanwhile cannot save over the end.
 */
export async function endSession(db: Kysely<DB>, customerId: string, at: string): Promise<void> {
  await db
    .updateTable('bot_sessions')
    .set((eb) => ({ waiting: SESSION_ENDED, deadline_at: null, updated_at: at, generation: eb('generation', '+', 1) }))
    .where('customer_id', '=', customerId)
    .where('waiting', '!=', SESSION_ENDED)
    .execute();
}

/**
 * Holds the customer's row until the transaction ends (PostgreSQL; SQLite runs one writer at a time),
 * so a person taking over (which updates it) cannot slip between a step's check and its commit.
 */
export async function lockCustomer(db: Kysely<DB>, customerId: string): Promise<void> {
  if (isPostgres(db)) await sql`select id from customers where id = ${customerId} for no key update`.execute(db);
}
