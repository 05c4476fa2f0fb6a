import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { MessageRow } from '../../db/tables.js';
import type { Deps } from '../../deps.js';
import { notFound } from '../../errors.js';
import { encodeCursor } from '../../http/cursor.js';
import type { Viewer } from '../../http/viewer.js';
import { botState } from '../customers/customer-events.js';
import { labelNamesByCustomer } from '../customers/customers.repository.js';
import { isConversationOpen, windowClosesAt } from '../messages/conversation-window.js';
import * as repository from './conversations.repository.js';
import type { ConversationFilters, ConversationRow, ConversationTab, TimelineCursor } from './conversations.repository.js';
import { toInboxMessage, toInboxNote, type TimelineItem } from './inbox-records.js';
import { parseSearch } from './inbox-search.js';
import { CONVERSATION_NOT_FOUND, MEDIA_NOT_FOUND, type ConversationFiltersQuery, type conversationDetail, type conversationSummary } from './inbox.schema.js';
import { canSee } from './visibility.js';

type ConversationSummary = z.output<typeof conversationSummary>;
type ConversationDetail = z.output<typeof conversationDetail>;
type LastMessage = NonNullable<ConversationSummary['last_message']>;

/**
 * What a signed-in person reads of conversations: the list, its counts, one conversation and its
 * timeline, and media files. Everything through the visibility rule: what it hides is not found.
 */

/** The account's customer with this id if the viewer may see them, else 404 `Conversation not found`. */
export async function requireVisibleConversation(deps: Deps, viewer: Viewer, customerId: string): Promise<ConversationRow> {
  const row = await repository.findConversation(deps.database.db, viewer.accountId, customerId);
  if (!row || !canSee(viewer, row)) throw notFound(CONVERSATION_NOT_FOUND);
  return row;
}

export function toConversationFilters(query: ConversationFiltersQuery): ConversationFilters {
  return { status: query.status, label: query.label, teamId: query.team_id, agentId: query.agent_id, botActive: query.bot_active, search: parseSearch(query.q) };
}

function lastMessageOf(message: MessageRow | undefined): LastMessage | null {
  if (!message) return null;
  const { id, type, text, created_at } = message;
  return { id: Number(id), type, text, direction: message.direction === 'inbound' ? 'inbound' : 'outbound', status: message.status as LastMessage['status'], created_at };
}

interface SummaryParts {
  labels: string[];
  lastMessage: MessageRow | undefined;
  unread: number;
}

function toSummary(row: ConversationRow, parts: SummaryParts): ConversationSummary {
  return {
    id: row.id,
    name: row.name,
    phone: row.phone,
    conversation_status: row.conversation_status as ConversationSummary['conversation_status'],
    last_activity_at: row.last_interaction_at,
    last_message: lastMessageOf(parts.lastMessage),
    unread: parts.unread,
    agent: row.agent_id === null ? null : { id: row.agent_id, name: row.agent_name },
    team: row.team_id === null ? null : { id: row.team_id, name: row.team_name },
    labels: parts.labels,
    bot: botState(row),
    window_closes_at: windowClosesAt(row),
  };
}

/** The summaries of these conversations for the viewer: four queries for any number of rows. */
async function summariesOf(deps: Deps, viewer: Viewer, rows: ConversationRow[]): Promise<ConversationSummary[]> {
  const { db } = deps.database;
  const ids = rows.map((row) => row.id);
  const [labels, latest, unread] = await Promise.all([
    labelNamesByCustomer(db, viewer.accountId, ids),
    repository.latestMessages(db, ids),
    repository.unreadCounts(db, viewer.agentId, ids),
  ]);
  return rows.map((row) => toSummary(row, { labels: labels.get(row.id) ?? [], lastMessage: latest.get(row.id), unread: unread.get(row.id) ?? 0 }));
}

export interface ConversationListRequest {
  tab: ConversationTab;
  filters: ConversationFilters;
  cursor?: repository.ActivityCursor;
  limit: number;
}

/**
 * A page of the conversations the viewer may see, newest activity first. Keyset pagination: the
 * cursor is the last row's (activity, id), so rows inserted or moved meanwhile never repeat a row
 * or push one off the next page; a conversation that moved to the top since is on the first page.
 */
export async function listConversations(deps: Deps, viewer: Viewer, request: ConversationListRequest) {
  const { database } = deps;
  const rows = await repository.listConversations(database.db, database.dialect, viewer, request.tab, request.filters, request.cursor, request.limit + 1);
  const page = rows.slice(0, request.limit);
  const last = page.at(-1);
  return {
    conversations: await summariesOf(deps, viewer, page),
    next_cursor: rows.length > request.limit && last ? encodeCursor({ at: last.last_interaction_at, id: last.id }) : null,
  };
}

export async function countConversations(deps: Deps, viewer: Viewer, filters: ConversationFilters) {
  return repository.countConversations(deps.database.db, deps.database.dialect, viewer, filters);
}

/** The conversation as the viewer's inbox shows it (the caller has applied the visibility rule). */
export async function conversationDetailOf(deps: Deps, viewer: Viewer, row: ConversationRow): Promise<ConversationDetail> {
  const [summary] = await summariesOf(deps, viewer, [row]);
  return {
    ...summary!,
    email: row.email,
    country: row.country,
    source: row.source,
    custom_fields: JSON.parse(row.custom_fields),
    attribution: JSON.parse(row.attribution),
    window_open: isConversationOpen(row, deps.clock.now()),
    created_at: row.created_at,
  };
}

export async function getConversation(deps: Deps, viewer: Viewer, customerId: string): Promise<ConversationDetail> {
  return conversationDetailOf(deps, viewer, await requireVisibleConversation(deps, viewer, customerId));
}

const positionOf = (item: TimelineItem): TimelineCursor => ({ at: item.created_at, kind: item.kind, id: String(item.id) });

/** Newest first: by time; at the same time a note before a message; then by id (repository.timelineMessages). */
function isBefore(a: TimelineItem, b: TimelineItem): boolean {
  if (a.created_at !== b.created_at) return a.created_at > b.created_at;
  if (a.kind !== b.kind) return a.kind === 'note';
  return a.kind === 'message' ? Number(a.id) > Number(b.id) : String(a.id) > String(b.id);
}

/** A page of the conversation's messages and private notes, newest first, after `cursor`. */
export async function getTimeline(deps: Deps, viewer: Viewer, customerId: string, cursor: TimelineCursor | undefined, limit: number) {
  const customer = await requireVisibleConversation(deps, viewer, customerId);
  const { db } = deps.database;
  const [messages, notes] = await Promise.all([
    repository.timelineMessages(db, customer.id, cursor, limit + 1),
    repository.timelineNotes(db, customer.id, cursor, limit + 1),
  ]);
  const merged: TimelineItem[] = [...messages.map(toInboxMessage), ...notes.map(toInboxNote)].sort((a, b) => (isBefore(a, b) ? -1 : 1));
  const items = merged.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: merged.length > limit && last ? encodeCursor({ ...positionOf(last) }) : null };
}

export interface MediaFile {
  content: Readable;
  mimeType: string | null;
  filename: string | null;
}

/** A stored file of a message (inbound, downloaded; or uploaded with a reply) of a conversation the viewer may see. */
export async function openMedia(deps: Deps, viewer: Viewer, messageId: number): Promise<MediaFile> {
  const message = await repository.findMessage(deps.database.db, viewer.accountId, messageId);
  const customer = message && (await repository.findConversation(deps.database.db, viewer.accountId, message.customer_id));
  if (!message?.media_key || !customer || !canSee(viewer, customer)) throw notFound(MEDIA_NOT_FOUND);
  try {
    return { content: await deps.media.open(message.media_key), mimeType: message.media_mime_type, filename: message.media_filename };
  } catch (error) {
    // Removed by retention (MEDIA_RETENTION) or by hand: the message stays, its file is gone.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(MEDIA_NOT_FOUND);
    throw error;
  }
}
