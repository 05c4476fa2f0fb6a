import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { preparedQuery } from '../db/prepared.js';
import type { DB, JobRow } from '../db/tables.js';
import { notifyJobsEnqueued } from './wakeup.js';

/** "As soon as possible": a run_at that every clock has passed. */
const ASAP = new Date(0).toISOString();

export interface NewJob {
  type: string;
  payload: unknown;
  /** Jobs with the same group key run one at a time, in the order they were enqueued. */
  groupKey?: string | null;
  /** Not before this time; absent means now. */
  runAt?: Date;
  /** Attempts before a job whose handler keeps throwing is given up (kept with failed_at). */
  maxAttempts?: number;
  /** For created_at only (bookkeeping). */
  now?: Date;
}

export interface ClaimedJob {
  id: number;
  type: string;
  payload: string;
  groupKey: string | null;
  attempts: number;
  maxAttempts: number;
  /** The claim's own token: only its holder can complete, retry or fail the job. */
  token: string;
}

/** True on PostgreSQL (also for a transaction): the dialects differ in their locking. */
export function isPostgres(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Adds a job. Pass the caller's transaction so the job exists exactly when the change that caused it
 * commits (an outbox): a rollback takes the job with it.
 */
export async function enqueueJob(db: Kysely<DB>, job: NewJob): Promise<number> {
  const [row] = await insertJob(
    db,
    job.type,
    JSON.stringify(job.payload ?? null),
    job.groupKey ?? null,
    job.runAt ? job.runAt.toISOString() : ASAP,
    job.maxAttempts ?? 25,
    (job.now ?? new Date()).toISOString(),
  );
  notifyJobsEnqueued();
  return Number(row.id);
}

/** Every outbox write and webhook delivery enqueues: compiled once. */
const insertJob = preparedQuery(
  (db, type: string, payload: string, groupKey: string | null, runAt: string, maxAttempts: number, createdAt: string) =>
    db.insertInto('jobs').values({ type, payload, group_key: groupKey, run_at: runAt, max_attempts: maxAttempts, created_at: createdAt }).returning('id'),
);

export interface ClaimOptions {
  /** Lease length per job type (ms): the time the claimer has before the job may be claimed again. */
  leases: Map<string, number>;
  limit: number;
  now: Date;
  token: string;
}

function toClaimed(row: JobRow, token: string): ClaimedJob {
  return {
    id: Number(row.id),
    type: row.type,
    payload: row.payload,
    groupKey: row.group_key,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    token,
  };
}

/**
 * Claims up to `limit` due jobs of the given types: not failed, run_at passed, not leased (or the lease
 * ran out), and first of their group. On PostgreSQL the candidates are locked with SKIP LOCKED so
 * concurrent workers each take different jobs; SQLite runs one writer at a time.
 */
export async function claimJobs(db: Kysely<DB>, options: ClaimOptions): Promise<ClaimedJob[]> {
  const types = [...options.leases.keys()];
  if (types.length === 0 || options.limit <= 0) return [];
  const now = options.now.toISOString();
  const leaseUntil = sql`case ${sql.join(
    types.map((type) => sql`when type = ${type} then ${new Date(options.now.getTime() + options.leases.get(type)!).toISOString()}`),
    sql` `,
  )} end`;
  const due = sql`j.failed_at is null and j.run_at <= ${now} and (j.locked_until is null or j.locked_until <= ${now})
    and j.type in (${sql.join(types)})
    and (j.group_key is null or not exists (
      select 1 from jobs p where p.group_key = j.group_key and p.id < j.id and p.failed_at is null))`;
  const result = isPostgres(db)
    ? await sql<JobRow>`with next as (
        select j.id from jobs j where ${due} order by j.run_at, j.id limit ${options.limit} for update of j skip locked)
      update jobs set attempts = attempts + 1, locked_by = ${options.token}, locked_until = ${leaseUntil}
      from next where jobs.id = next.id
      returning jobs.*`.execute(db)
    : await sql<JobRow>`update jobs set attempts = attempts + 1, locked_by = ${options.token}, locked_until = ${leaseUntil}
      where id in (select j.id from jobs j where ${due} order by j.run_at, j.id limit ${options.limit})
      returning *`.execute(db);
  return result.rows.map((row) => toClaimed(row, options.token)).sort((a, b) => a.id - b.id);
}

/**
 * The jobs are done: they leave the table (and free the next job of each group) in one statement.
 * Returns the ids deleted: a job missing from them had lost its lease to another claim.
 */
export async function completeJobs(db: Kysely<DB>, jobs: ClaimedJob[]): Promise<Set<number>> {
  const rows = await db
    .deleteFrom('jobs')
    .where((eb) => eb.or(jobs.map((job) => eb.and([eb('id', '=', job.id), eb('locked_by', '=', job.token)]))))
    .returning('id')
    .execute();
  return new Set(rows.map((row) => Number(row.id)));
}

/** Runs the job again at `runAt`; its group waits for it. */
export async function retryJob(db: Kysely<DB>, job: ClaimedJob, runAt: Date, error: string | null): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ run_at: runAt.toISOString(), last_error: error, locked_until: null, locked_by: null })
    .where('id', '=', job.id)
    .where('locked_by', '=', job.token)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Gives the job up: kept for inspection with failed_at, no longer run, no longer blocking its group. */
export async function failJob(db: Kysely<DB>, job: ClaimedJob, error: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ failed_at: now.toISOString(), last_error: error, locked_until: null, locked_by: null })
    .where('id', '=', job.id)
    .where('locked_by', '=', job.token)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Removes the jobs of every group whose key starts with `prefix`. A job running meanwhile finishes;
 * its completion is then a no-op.
 */
export async function cancelJobGroups(db: Kysely<DB>, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const result = await db.deleteFrom('jobs').where(sql<boolean>`group_key like ${pattern} escape '\\'`).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The jobs table's state for the metrics: due and waiting, claimed, failed, and the oldest wait. */
export async function jobStats(db: Kysely<DB>, now: Date): Promise<{ queued: number; running: number; failed: number; oldestDueSeconds: number }> {
  const at = now.toISOString();
  const { rows } = await sql<{ queued: number | string; running: number | string; failed: number | string; oldest_due: string | null }>`
    select
      sum(case when failed_at is null and run_at <= ${at} and (locked_until is null or locked_until <= ${at}) then 1 else 0 end) as queued,
      sum(case when failed_at is null and locked_until > ${at} then 1 else 0 end) as running,
      sum(case when failed_at is not null then 1 else 0 end) as failed,
      min(case when failed_at is null and run_at <= ${at} and (locked_until is null or locked_until <= ${at})
        then (case when run_at > created_at then run_at else created_at end) end) as oldest_due
    from jobs`.execute(db);
  const row = rows[0];
  const oldest = row?.oldest_due ? Date.parse(row.oldest_due) : undefined;
  return {
    queued: Number(row?.queued ?? 0),
    running: Number(row?.running ?? 0),
    failed: Number(row?.failed ?? 0),
    oldestDueSeconds: oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest) / 1000),
  };
}
