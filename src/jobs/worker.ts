import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.js';
import { claimJobs, completeJobs, failJob, retryJob, type ClaimedJob } from './queue.js';
import { onJobsEnqueued } from './wakeup.js';

/** Time a claimer keeps a job beyond its handler's timeout before another worker may take it. */
const LEASE_GRACE_MS = 5_000;
/** Re-polls after an in-process wake-up, in case the enqueuing transaction had not committed yet. */
const WAKE_REPOLLS_MS = [5, 50, 250, 1000, 2500];

export interface JobContext {
  job: ClaimedJob;
  /** Aborted when the handler's time is up. */
  signal: AbortSignal;
}

/** What a handler asks for: nothing (done) or another run later. Throwing retries with backoff. */
export type JobOutcome = void | { retryAt: Date; error?: string };

export interface JobHandler<Payload = unknown> {
  type: string;
  /** The longest a run may take; the lease is this plus a grace period. */
  timeoutMs: number;
  run(payload: Payload, context: JobContext): Promise<JobOutcome>;
}

export interface JobWorkerDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
}

export interface JobWorkerOptions {
  /** Jobs run at once by this worker. */
  concurrency?: number;
  pollIntervalMs?: number;
  /** Shown in logs. */
  name?: string;
}

/** Backoff for a handler that threw: 2^attempts seconds (max 1 hour), with up to 20% jitter. */
export function defaultRetryDelayMs(attempts: number, random: () => number = Math.random): number {
  return Math.min(2 ** attempts * 1000, 3_600_000) * (1 + random() * 0.2);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Jobs finished in one turn of the event loop are deleted together: one statement and one commit
 * (on SQLite, a share of one fsync) for all of them, instead of one each. Each caller learns whether
 * its job was still its own (the lease not lost).
 */
class Completions {
  private pending: Array<{ job: ClaimedJob; settle: (kept: boolean | Error) => void }> = [];

  constructor(private readonly db: () => Kysely<DB>) {}

  complete(job: ClaimedJob): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ job, settle: (kept) => (kept instanceof Error ? reject(kept) : resolve(kept)) });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    try {
      const deleted = await completeJobs(this.db(), batch.map((entry) => entry.job));
      for (const { job, settle } of batch) settle(deleted.has(job.id));
    } catch (error) {
      for (const { settle } of batch) settle(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/**
 * Runs jobs from the jobs table with registered handlers. Polls every `pollIntervalMs`, and sooner
 * when a job is enqueued in this process. Any number of workers (in one process or many) can share
 * one PostgreSQL database: claims use SKIP LOCKED and leases, so a job runs once at a time, and a
 * job whose claimer died is claimed again when its lease runs out.
 */
export class JobWorker {
  private readonly handlers = new Map<string, JobHandler<any>>();
  private readonly leases = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly completions = new Completions(() => this.deps.database.db);
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  /** The pending re-poll of each delay of WAKE_REPOLLS_MS. */
  private readonly wakeTimers = new Map<number, NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;
  private started = false;
  private stopping = false;
  private claiming = false;
  private claimAgain = false;
  /** Settles when the claim under way (if any) has launched what it claimed. */
  private claimed: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: JobWorkerDeps,
    handlers: Array<JobHandler<any>>,
    options: JobWorkerOptions = {},
  ) {
    for (const handler of handlers) {
      if (this.handlers.has(handler.type)) throw new Error(`two handlers for job type ${handler.type}`);
      this.handlers.set(handler.type, handler);
      this.leases.set(handler.type, handler.timeoutMs + LEASE_GRACE_MS);
    }
    this.concurrency = options.concurrency ?? 4;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.log = deps.logger.child({ worker: options.name ?? 'jobs' });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = onJobsEnqueued(() => this.wake());
    void this.poll();
  }

  /**
   * Looks for due jobs shortly, and again a little later (the enqueuing transaction may still be
   * committing). A re-poll already pending covers every job enqueued before it fires, so under a
   * stream of enqueues each delay polls at most once per its own length, not once per job.
   */
  wake(): void {
    if (!this.started || this.stopping) return;
    for (const delay of WAKE_REPOLLS_MS) {
      if (this.wakeTimers.has(delay)) continue;
      const timer = setTimeout(() => {
        this.wakeTimers.delete(delay);
        void this.poll();
      }, delay);
      timer.unref();
      this.wakeTimers.set(delay, timer);
    }
  }

  /**
   * Runs every job due now, until none is left, and returns how many ran. For tests and tools (a
   * manual clock decides what is due); a started worker does this by itself.
   */
  async runDue(): Promise<number> {
    let count = 0;
    for (let round = 0; round < 10_000; round += 1) {
      const jobs = await this.claim(this.concurrency);
      if (jobs.length === 0) break;
      await Promise.all(jobs.map((job) => this.execute(job)));
      count += jobs.length;
    }
    return count;
  }

  /** Stops claiming, then waits for the jobs in progress to finish (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    for (const timer of this.wakeTimers.values()) clearTimeout(timer);
    this.wakeTimers.clear();
    // A claim already sent launches its jobs when it returns: they are in progress too.
    await this.claimed;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Claims due jobs; they run only once the writes that made them (and the claim) are durable, as jobs act on the outside world. */
  private async claim(limit: number): Promise<ClaimedJob[]> {
    const jobs = await claimJobs(this.deps.database.db, { leases: this.leases, limit, now: this.deps.clock.now(), token: randomUUID() });
    if (jobs.length > 0) await this.deps.database.durable();
    return jobs;
  }

  private async poll(): Promise<void> {
    if (!this.started || this.stopping) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = true;
    let launched!: () => void;
    this.claimed = new Promise((resolve) => (launched = resolve));
    clearTimeout(this.timer);
    try {
      do {
        this.claimAgain = false;
        const free = this.concurrency - this.running.size;
        if (free <= 0) break;
        const jobs = await this.claim(free);
        for (const job of jobs) this.launch(job);
        // A full batch suggests more are due.
        if (jobs.length === free) this.claimAgain = true;
      } while (this.claimAgain && !this.stopping);
    } catch (error) {
      this.log.warn({ err: error }, 'could not claim jobs; trying again later');
    } finally {
      this.claiming = false;
      launched();
      if (!this.stopping) {
        this.timer = setTimeout(() => void this.poll(), this.pollIntervalMs);
        this.timer.unref();
      }
    }
  }

  private launch(job: ClaimedJob): void {
    const run = this.execute(job).finally(() => {
      this.running.delete(run);
      // A free slot, and perhaps the next job of this one's group.
      void this.poll();
    });
    this.running.add(run);
  }

  private async execute(job: ClaimedJob): Promise<void> {
    const handler = this.handlers.get(job.type)!;
    const { db } = this.deps.database;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`job timed out after ${handler.timeoutMs} ms`)), handler.timeoutMs);
    try {
      const outcome = await handler.run(JSON.parse(job.payload), { job, signal: controller.signal });
      const kept = outcome ? await retryJob(db, job, outcome.retryAt, outcome.error ?? null) : await this.completions.complete(job);
      if (!kept) this.log.warn({ jobId: job.id, type: job.type }, 'job lease was lost before it finished; another claim owns it');
    } catch (error) {
      const message = describeError(error);
      try {
        if (job.attempts >= job.maxAttempts) {
          this.log.error({ err: error, jobId: job.id, type: job.type, attempts: job.attempts }, 'job failed for the last time; giving up');
          await failJob(db, job, message, this.deps.clock.now());
        } else {
          this.log.warn({ err: error, jobId: job.id, type: job.type, attempts: job.attempts }, 'job failed; will retry');
          await retryJob(db, job, new Date(this.deps.clock.now().getTime() + defaultRetryDelayMs(job.attempts)), message);
        }
      } catch (bookkeeping) {
        // The lease runs out and the job is claimed again: at least once.
        this.log.error({ err: bookkeeping, jobId: job.id }, 'could not record a job failure');
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
