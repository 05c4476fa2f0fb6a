import type { Kysely } from 'kysely';
import type { DB, LiveEventRow } from '../../db/tables.js';

/** The stored live events, read by the hub (fan-out) and by a stream that resumes (replay). */

// PostgreSQL returns bigserial ids as strings.
const withNumericId = (row: LiveEventRow): LiveEventRow => ({ ...row, id: Number(row.id) });

/** Events with an id above `afterId`, in id order (every account's: the hub's catch-up). */
export async function eventsAfter(db: Kysely<DB>, afterId: number, limit: number): Promise<LiveEventRow[]> {
  const rows = await db.selectFrom('live_events').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();
  return rows.map(withNumericId);
}

/** One account's events with an id above `afterId`, in id order (a stream's replay). */
export async function accountEventsAfter(db: Kysely<DB>, accountId: string, afterId: number, limit: number): Promise<LiveEventRow[]> {
  const rows = await db
    .selectFrom('live_events')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(withNumericId);
}

/**
 * Events at or below `upToId` recorded since `since` (of one account, or of all): on PostgreSQL an
 * id is taken at insert and transactions commit in any order, so one of these may have committed
 * after an event with a higher id was delivered.
 */
export async function eventsRecordedSince(db: Kysely<DB>, since: string, upToId: number, accountId?: string): Promise<LiveEventRow[]> {
  let query = db.selectFrom('live_events').selectAll().where('created_at', '>=', since).where('id', '<=', upToId);
  if (accountId !== undefined) query = query.where('account_id', '=', accountId);
  const rows = await query.orderBy('id').execute();
  return rows.map(withNumericId);
}

export async function eventsByIds(db: Kysely<DB>, ids: number[]): Promise<LiveEventRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('live_events').selectAll().where('id', 'in', ids).execute();
  return rows.map(withNumericId);
}

/** When the event was recorded, if it is still kept. */
export async function recordedAt(db: Kysely<DB>, id: number): Promise<string | undefined> {
  const row = await db.selectFrom('live_events').select('created_at').where('id', '=', id).executeTakeFirst();
  return row?.created_at;
}

/** The highest event id so far (0 when there is none). */
export async function lastEventId(db: Kysely<DB>): Promise<number> {
  const row = await db
    .selectFrom('live_events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}
