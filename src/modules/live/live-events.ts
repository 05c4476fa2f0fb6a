import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { isPostgres } from '../../jobs/queue.js';

/**
 * The inbox's live events: one row per change of a conversation, written in the transaction of the
 * change (so an event exists exactly when its change commits), streamed to signed-in people over SSE
 * by the live hub (src/modules/live/hub.ts), each connection filtered by the visibility rule.
 */
export const LIVE_EVENT_TYPES = [
  /** A message was stored: inbound, or outbound (a person, a bot, the API, a campaign). */
  'message.created',
  /** An outbound message's delivery status moved (sent, delivered, read, failed). */
  'message.status',
  /** A message was removed (a reaction taken back). */
  'message.deleted',
  /** The customer's record changed (name, email, custom fields, …). */
  'customer.updated',
  /** The agent or team assigned to the conversation changed. */
  'conversation.assigned',
  /** The conversation's status changed. */
  'conversation.status',
  /** A label was added to or removed from the customer. */
  'conversation.labels',
  /** A person took the conversation over from its bot, or handed it back. */
  'conversation.bot',
  /** A private note was added. */
  'note.created',
  /** The signed-in person's unread count of a conversation changed (sent to that person only). */
  'conversation.read',
  /** The customer was deleted. */
  'customer.deleted',
] as const;

export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

/** PostgreSQL's channel: every instance listens; the payload is `<schema>:<event id>`. */
export const LIVE_CHANNEL = 'openmumble_live';

export interface NewLiveEvent {
  accountId: string;
  type: LiveEventType;
  /** The customer the event is about, with their assignment after the change. */
  customer?: { id: string; agent_id: string | null; team_id: string | null };
  /** The assignment before the change, when it moved: people who saw it then hear that it went. */
  previous?: { agent_id: string | null; team_id: string | null };
  /** Only this person receives the event. */
  recipientAgentId?: string;
  data: Record<string, unknown>;
  occurredAt: Date;
}

/** A live event as the outbox takes it from a change (src/modules/webhooks/events.ts): its account and time are the change's. */
export type LiveEventDraft = Omit<NewLiveEvent, 'accountId' | 'occurredAt'>;

type Listener = () => void;
const listeners = new Set<Listener>();

/** In-process nudge: the hub of this process looks for new events (after the recording transaction, which it waits for). */
export function onLiveEventsRecorded(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function toRow(event: NewLiveEvent) {
  return {
    account_id: event.accountId,
    type: event.type,
    customer_id: event.customer?.id ?? null,
    agent_id: event.customer?.agent_id ?? null,
    team_id: event.customer?.team_id ?? null,
    // Without a move, the assignment before is the assignment now: one rule (this one or that one) for every event.
    previous_agent_id: (event.previous ?? event.customer)?.agent_id ?? null,
    previous_team_id: (event.previous ?? event.customer)?.team_id ?? null,
    recipient_agent_id: event.recipientAgentId ?? null,
    payload: JSON.stringify(event.data),
    created_at: event.occurredAt.toISOString(),
  };
}

/** Records a live event in `trx`, the transaction of the change. */
export async function recordLiveEvent(trx: Kysely<DB>, event: NewLiveEvent): Promise<void> {
  const row = await trx.insertInto('live_events').values(toRow(event)).returning('id').executeTakeFirstOrThrow();
  // Delivered to every listening instance when (and only if) this transaction commits, in commit order.
  // LISTEN is per database, not per schema: the payload names the schema, and listeners of another ignore it.
  if (isPostgres(trx)) await sql`select pg_notify(${LIVE_CHANNEL}, current_schema() || ':' || ${String(row.id)})`.execute(trx);
  for (const listener of listeners) listener();
}

/** Records many live events in `trx` (a campaign's batch of messages): one insert and, on PostgreSQL, one notify statement. */
export async function recordLiveEvents(trx: Kysely<DB>, events: NewLiveEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = await trx.insertInto('live_events').values(events.map(toRow)).returning('id').execute();
  const ids = rows.map((row) => Number(row.id)).sort((a, b) => a - b);
  if (isPostgres(trx)) {
    await sql`select pg_notify(${LIVE_CHANNEL}, current_schema() || ':' || id::text) from unnest(${ids}::bigint[]) with ordinality as t(id, n) order by n`.execute(trx);
  }
  for (const listener of listeners) listener();
}
