import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import type { Deps } from '../../deps.js';
import { purgeExpiredIdempotencyKeys } from '../../http/idempotency.js';
import { enqueueJob } from '../../jobs/queue.js';
import { removeUnreferencedFiles } from '../../media/media-store.js';
import type { JobHandler, JobOutcome } from '../../jobs/worker.js';

/**
 * Retention (docs/operations.md): one durable job, `retention.run`, that deletes what has served its
 * purpose and schedules itself again (RETENTION_INTERVAL). Each task deletes in batches, each batch
 * its own short transaction, so a large backlog never holds a long lock; every task is idempotent,
 * so a run cut short by a crash is simply run again. Several instances may each ensure the job
 * exists: the jobs' group runs them one at a time, and a surplus one retires itself.
 */
export const RETENTION_JOB = 'retention.run';
const GROUP = 'retention';
const BATCH = 2_000;

type Table = keyof DB;

/** Deletes rows of `table` whose `id` the condition selects, a batch at a time; returns how many. */
async function deleteInBatches(db: Kysely<DB>, table: Table, condition: ReturnType<typeof sql>): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await sql`delete from ${sql.table(table)} where id in (select id from ${sql.table(table)} where ${condition} limit ${BATCH})`.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0);
    total += deleted;
    if (deleted < BATCH) return total;
  }
}

const before = (deps: Pick<Deps, 'clock'>, ms: number) => new Date(deps.clock.now().getTime() - ms).toISOString();

/** The tasks, by the name the log and the docs use. */
function tasks(deps: Deps): Record<string, () => Promise<number>> {
  const { db } = deps.database;
  const { config } = deps;
  const now = deps.clock.now().toISOString();
  return {
    // Meta's webhook deliveries, once processed (kept a while for investigations).
    whatsapp_webhook_inbox: () => deleteInBatches(db, 'whatsapp_webhook_inbox', sql`processed_at is not null and processed_at < ${before(deps, config.RETENTION_WEBHOOK_INBOX)}`),
    // Statuses parked for a message that never got its WhatsApp id.
    pending_statuses: () => deleteInBatches(db, 'pending_statuses', sql`created_at < ${before(deps, config.RETENTION_PENDING_STATUSES)}`),
    idempotency_keys: () => purgeExpiredIdempotencyKeys(db, deps.clock.now()),
    webhook_deliveries: () => purgeWebhookDeliveries(deps),
    sessions: () => deleteInBatches(db, 'sessions', sql`expires_at < ${now} or last_seen_at < ${before(deps, config.SESSION_IDLE_TIMEOUT)}`),
    invitations: () => deleteInBatches(db, 'invitations', sql`expires_at < ${now}`),
    live_events: () => deleteInBatches(db, 'live_events', sql`created_at < ${before(deps, config.LIVE_EVENTS_RETENTION)}`),
    failed_jobs: () => deleteInBatches(db, 'jobs', sql`failed_at is not null and failed_at < ${before(deps, config.RETENTION_FAILED_JOBS)}`),
    media: () => expireMedia(deps),
  };
}

/** Finished webhook deliveries (succeeded or given up) with their attempts, then events no delivery names. */
async function purgeWebhookDeliveries(deps: Deps): Promise<number> {
  const { db } = deps.database;
  const cutoff = before(deps, deps.config.RETENTION_WEBHOOK_DELIVERIES);
  let total = 0;
  for (;;) {
    const batch = await db.selectFrom('webhook_deliveries').select('id').where('status', '<>', 'pending').where('completed_at', '<', cutoff).limit(BATCH).execute();
    if (batch.length === 0) break;
    const ids = batch.map((row) => row.id);
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('webhook_attempts').where('delivery_id', 'in', ids).execute();
      await trx.deleteFrom('webhook_deliveries').where('id', 'in', ids).execute();
    });
    total += ids.length;
    if (batch.length < BATCH) break;
  }
  await deleteInBatches(db, 'webhook_events', sql`created_at < ${cutoff} and not exists (select 1 from webhook_deliveries d where d.event_id = webhook_events.id)`);
  return total;
}

/**
 * With MEDIA_RETENTION set, media files older than it are removed; their messages stay, marked as
 * having had media (`media_key` null, type and file name kept). Off by default: nothing expires.
 */
async function expireMedia(deps: Deps): Promise<number> {
  if (deps.config.MEDIA_RETENTION === undefined) return 0;
  const { db } = deps.database;
  const cutoff = before(deps, deps.config.MEDIA_RETENTION);
  let total = 0;
  for (;;) {
    const batch = await db.selectFrom('messages').select(['id', 'media_key']).where('media_key', 'is not', null).where('created_at', '<', cutoff).limit(BATCH).execute();
    if (batch.length === 0) return total;
    await db.updateTable('messages').set({ media_key: null }).where('id', 'in', batch.map((row) => row.id)).execute();
    await removeUnreferencedFiles(deps.database, deps.media, batch.map((row) => row.media_key!));
    total += batch.length;
  }
}

/** Runs every task; one that fails is logged and the others still run. Returns what each deleted. */
export async function runRetention(deps: Deps): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const [name, task] of Object.entries(tasks(deps))) {
    try {
      deleted[name] = await task();
    } catch (error) {
      deps.logger.error({ err: error, task: name }, 'retention task failed; it runs again next time');
    }
  }
  return deleted;
}

/** The recurring job: runs the tasks, then asks to run again after RETENTION_INTERVAL. */
export function retentionJobHandler(deps: Deps): JobHandler<null> {
  return {
    type: RETENTION_JOB,
    timeoutMs: 30 * 60_000,
    async run(_payload, { job }): Promise<JobOutcome> {
      // Two instances may each have scheduled one: the later one retires.
      const earlier = await deps.database.db.selectFrom('jobs').select('id').where('type', '=', RETENTION_JOB).where('failed_at', 'is', null).where('id', '<', job.id).executeTakeFirst();
      if (earlier) return undefined;
      const deleted = await runRetention(deps);
      deps.logger.info({ deleted }, 'retention run');
      return { retryAt: new Date(deps.clock.now().getTime() + deps.config.RETENTION_INTERVAL) };
    },
  };
}

/** Makes sure the retention job exists (at every start). */
export async function ensureRetentionJob(deps: Deps): Promise<void> {
  const existing = await deps.database.db.selectFrom('jobs').select('id').where('type', '=', RETENTION_JOB).where('failed_at', 'is', null).executeTakeFirst();
  if (existing) return;
  await enqueueJob(deps.database.db, { type: RETENTION_JOB, payload: null, groupKey: GROUP, now: deps.clock.now(), runAt: new Date(deps.clock.now().getTime() + 60_000) });
}
