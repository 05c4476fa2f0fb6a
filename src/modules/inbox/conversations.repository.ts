import { sql, type ExpressionBuilder, type ExpressionWrapper, type Kysely, type OperandExpression, type SqlBool } from 'kysely';
import type { DialectName } from '../../db/database.js';
import type { CustomerRow, DB, MessageRow, NoteRow } from '../../db/tables.js';
import type { Viewer } from '../../http/viewer.js';
import { matchesSearch, type SearchQuery } from './inbox-search.js';
import { visibleCustomers } from './visibility.js';

/** The conversation list's tabs: assigned to me, to no agent, or everything I may see. */
export const CONVERSATION_TABS = ['mine', 'unassigned', 'all'] as const;
export type ConversationTab = (typeof CONVERSATION_TABS)[number];

export interface ConversationFilters {
  status?: string;
  /** A label's name. */
  label?: string;
  teamId?: string;
  agentId?: string;
  /** true: a bot is set and not paused; false: no bot, or a paused one. */
  botActive?: boolean;
  search?: SearchQuery;
}

/** A place in the list (newest activity first): the last row a page showed. */
export interface ActivityCursor {
  at: string;
  id: string;
}

/** A customer with the names of the agent and team assigned to them. */
export type ConversationRow = CustomerRow & { agent_name: string | null; team_name: string | null };

type Condition = (eb: ExpressionBuilder<DB, 'customers'>) => ExpressionWrapper<DB, 'customers', SqlBool>;

function tabCondition(viewer: Viewer, tab: ConversationTab): Condition {
  return (eb) => {
    if (tab === 'mine') return eb.and([eb('customers.agent_id', '=', viewer.agentId)]);
    if (tab === 'unassigned') return eb.and([eb('customers.agent_id', 'is', null)]);
    return eb.and([]);
  };
}

function filterConditions(dialect: DialectName, accountId: string, filters: ConversationFilters): Condition {
  return (eb) => {
    const all: Array<OperandExpression<SqlBool>> = [];
    if (filters.status !== undefined) all.push(eb('customers.conversation_status', '=', filters.status));
    if (filters.teamId !== undefined) all.push(eb('customers.team_id', '=', filters.teamId));
    if (filters.agentId !== undefined) all.push(eb('customers.agent_id', '=', filters.agentId));
    if (filters.botActive === true) all.push(eb.and([eb('customers.bot', 'is not', null), eb('customers.bot_paused_at', 'is', null)]));
    if (filters.botActive === false) all.push(eb.or([eb('customers.bot', 'is', null), eb('customers.bot_paused_at', 'is not', null)]));
    if (filters.label !== undefined) {
      const labelled = eb
        .selectFrom('customer_labels')
        .innerJoin('labels', 'labels.id', 'customer_labels.label_id')
        .select('customer_labels.customer_id')
        .whereRef('labels.account_id', '=', 'customers.account_id')
        .where('labels.name', '=', filters.label);
      all.push(eb('customers.id', 'in', labelled));
    }
    if (filters.search) all.push(matchesSearch(dialect, accountId, filters.search));
    return eb.and(all);
  };
}

/** The account's customers with messages that the viewer may see and the filters keep. */
function conversations(db: Kysely<DB>, dialect: DialectName, viewer: Viewer, filters: ConversationFilters) {
  return db
    .selectFrom('customers')
    .where('customers.account_id', '=', viewer.accountId)
    .where('customers.last_interaction_at', 'is not', null)
    .where(visibleCustomers(viewer))
    .where(filterConditions(dialect, viewer.accountId, filters));
}

/** A page of the list, newest activity first (ties by id), after `cursor`. */
export async function listConversations(
  db: Kysely<DB>,
  dialect: DialectName,
  viewer: Viewer,
  tab: ConversationTab,
  filters: ConversationFilters,
  cursor: ActivityCursor | undefined,
  limit: number,
): Promise<ConversationRow[]> {
  let query = conversations(db, dialect, viewer, filters).where(tabCondition(viewer, tab));
  if (cursor) query = query.where((eb) => eb(eb.refTuple('customers.last_interaction_at', 'customers.id'), '<', eb.tuple(cursor.at, cursor.id)));
  return query
    .leftJoin('agents', 'agents.id', 'customers.agent_id')
    .leftJoin('teams', 'teams.id', 'customers.team_id')
    .selectAll('customers')
    .select(['agents.name as agent_name', 'teams.name as team_name'])
    .orderBy('customers.last_interaction_at', 'desc')
    .orderBy('customers.id', 'desc')
    .limit(limit)
    .execute();
}

/** How many conversations each tab holds under the same filters, in one pass. */
export async function countConversations(db: Kysely<DB>, dialect: DialectName, viewer: Viewer, filters: ConversationFilters): Promise<Record<ConversationTab, number>> {
  const row = await conversations(db, dialect, viewer, filters)
    .select((eb) => [
      eb.fn.countAll().as('all'),
      eb.fn.sum<number | string | null>(eb.case().when('customers.agent_id', '=', viewer.agentId).then(1).else(0).end()).as('mine'),
      eb.fn.sum<number | string | null>(eb.case().when('customers.agent_id', 'is', null).then(1).else(0).end()).as('unassigned'),
    ])
    .executeTakeFirstOrThrow();
  return { mine: Number(row.mine ?? 0), unassigned: Number(row.unassigned ?? 0), all: Number(row.all) };
}

/** The account's customer with this id, with the names of the agent and team assigned. */
export async function findConversation(db: Kysely<DB>, accountId: string, customerId: string): Promise<ConversationRow | undefined> {
  return db
    .selectFrom('customers')
    .leftJoin('agents', 'agents.id', 'customers.agent_id')
    .leftJoin('teams', 'teams.id', 'customers.team_id')
    .selectAll('customers')
    .select(['agents.name as agent_name', 'teams.name as team_name'])
    .where('customers.account_id', '=', accountId)
    .where('customers.id', '=', customerId)
    .executeTakeFirst();
}

// PostgreSQL returns bigserial ids as strings.
const withNumericId = <Row extends { id: number | string }>(row: Row): Row => ({ ...row, id: Number(row.id) });

/**
 * Each customer's latest message (by time, then id): one lookup per customer, down the end of its
 * `messages_conversation` index, however long the conversation (a subquery per message row read every
 * message of the listed conversations).
 */
export async function latestMessages(db: Kysely<DB>, customerIds: string[]): Promise<Map<string, MessageRow>> {
  if (customerIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('messages')
    .selectAll()
    .where('messages.id', 'in', (eb) =>
      eb
        .selectFrom('customers as conversation')
        .select((inner) =>
          inner
            .selectFrom('messages as latest')
            .select('latest.id')
            .whereRef('latest.customer_id', '=', 'conversation.id')
            .orderBy('latest.created_at', 'desc')
            .orderBy('latest.id', 'desc')
            .limit(1)
            .as('id'),
        )
        .where('conversation.id', 'in', customerIds),
    )
    .execute();
  return new Map(rows.map((row) => [row.customer_id, withNumericId(row)]));
}

/**
 * Each conversation's inbound messages after the person's read mark (all of them without one): per
 * conversation, a count over a range of the `messages_inbound` index (customer, id) — the index alone,
 * not the messages' rows.
 */
export async function unreadCounts(db: Kysely<DB>, agentId: string, customerIds: string[]): Promise<Map<string, number>> {
  const counts = new Map(customerIds.map((id) => [id, 0]));
  if (customerIds.length === 0) return counts;
  const rows = await db
    .selectFrom('customers as conversation')
    .select((eb) => [
      'conversation.id as customer_id',
      eb
        .selectFrom('messages')
        .select((count) => count.fn.countAll().as('unread'))
        .whereRef('messages.customer_id', '=', 'conversation.id')
        .where('messages.direction', '=', 'inbound')
        .where(
          'messages.id',
          '>',
          sql<number>`coalesce((${db
            .selectFrom('conversation_reads')
            .select('conversation_reads.last_read_message_id')
            .where('conversation_reads.agent_id', '=', agentId)
            .whereRef('conversation_reads.customer_id', '=', sql.ref('conversation.id'))}), 0)`,
        )
        .as('unread'),
    ])
    .where('conversation.id', 'in', customerIds)
    .execute();
  for (const row of rows) counts.set(row.customer_id, Number(row.unread ?? 0));
  return counts;
}

/** A place in a conversation's timeline (newest first): the last item a page showed. */
export interface TimelineCursor {
  at: string;
  kind: 'message' | 'note';
  id: string;
}

export type MessageWithSenderName = MessageRow & { sender_name: string | null };
export type NoteWithAuthorName = NoteRow & { author_name: string | null };

function messagesWithSender(db: Kysely<DB>) {
  return db.selectFrom('messages').leftJoin('agents', 'agents.id', 'messages.sender_agent_id').selectAll('messages').select('agents.name as sender_name');
}

/**
 * The timeline's order, newest first: by time; at the same time a note before a message (a person
 * writes a note about what they read); then by id. These read the messages and the notes after
 * `cursor` in that order.
 */
export async function timelineMessages(db: Kysely<DB>, customerId: string, cursor: TimelineCursor | undefined, limit: number): Promise<MessageWithSenderName[]> {
  let query = messagesWithSender(db).where('messages.customer_id', '=', customerId);
  if (cursor?.kind === 'message') query = query.where((eb) => eb(eb.refTuple('messages.created_at', 'messages.id'), '<', eb.tuple(cursor.at, Number(cursor.id))));
  if (cursor?.kind === 'note') query = query.where('messages.created_at', '<=', cursor.at);
  const rows = await query.orderBy('messages.created_at', 'desc').orderBy('messages.id', 'desc').limit(limit).execute();
  return rows.map(withNumericId);
}

export async function timelineNotes(db: Kysely<DB>, customerId: string, cursor: TimelineCursor | undefined, limit: number): Promise<NoteWithAuthorName[]> {
  let query = db.selectFrom('notes').leftJoin('agents', 'agents.id', 'notes.agent_id').selectAll('notes').select('agents.name as author_name').where('notes.customer_id', '=', customerId);
  if (cursor?.kind === 'note') query = query.where((eb) => eb(eb.refTuple('notes.created_at', 'notes.id'), '<', eb.tuple(cursor.at, cursor.id)));
  if (cursor?.kind === 'message') query = query.where('notes.created_at', '<', cursor.at);
  return query.orderBy('notes.created_at', 'desc').orderBy('notes.id', 'desc').limit(limit).execute();
}

/** One message of the account, with the name of the person who sent it. */
export async function findMessage(db: Kysely<DB>, accountId: string, messageId: number): Promise<MessageWithSenderName | undefined> {
  const row = await messagesWithSender(db).where('messages.account_id', '=', accountId).where('messages.id', '=', messageId).executeTakeFirst();
  return row && withNumericId(row);
}

export async function insertNote(db: Kysely<DB>, note: NoteRow): Promise<void> {
  await db.insertInto('notes').values(note).execute();
}

/** The id of the conversation's latest message (the highest: ids grow), if it has any. */
export async function latestMessageId(db: Kysely<DB>, customerId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.max('messages.id').as('id'))
    .where('messages.customer_id', '=', customerId)
    .executeTakeFirst();
  return row?.id === null || row?.id === undefined ? undefined : Number(row.id);
}

/** Moves the person's read mark of a conversation forward to `messageId` (never back). */
export async function markRead(db: Kysely<DB>, agentId: string, customerId: string, messageId: number, at: string): Promise<void> {
  await db
    .insertInto('conversation_reads')
    .values({ agent_id: agentId, customer_id: customerId, last_read_message_id: messageId, read_at: at })
    .onConflict((oc) =>
      oc.columns(['agent_id', 'customer_id']).doUpdateSet({
        last_read_message_id: sql`case when conversation_reads.last_read_message_id < excluded.last_read_message_id then excluded.last_read_message_id else conversation_reads.last_read_message_id end`,
        read_at: at,
      }),
    )
    .execute();
}
