import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachDatabase, createTestDatabase, until, type DatabaseKind, type TestDatabase } from '../../test/helpers.js';
import { ManualClock } from '../clock.js';
import type { Database } from '../db/database.js';
import { createLogger } from '../deps.js';
import { claimJobs, completeJobs, enqueueJob } from './queue.js';
import { JobWorker, type JobHandler } from './worker.js';

const logger = createLogger('silent');

function recorder(type = 'test.record', timeoutMs = 1000) {
  const seen: unknown[] = [];
  const handler: JobHandler<unknown> = { type, timeoutMs, run: async (payload) => void seen.push(payload) };
  return { seen, handler };
}

async function jobsLeft(database: Database) {
  return database.db.selectFrom('jobs').selectAll().orderBy('id').execute();
}

describeEachDatabase('jobs', (kind: DatabaseKind) => {
  let testDatabase: TestDatabase;
  let clock: ManualClock;
  const workers: JobWorker[] = [];
  const worker = (handlers: JobHandler<any>[], options = {}, database?: Database) => {
    const created = new JobWorker({ database: database ?? testDatabase.database, clock, logger }, handlers, options);
    workers.push(created);
    return created;
  };

  beforeEach(async () => {
    testDatabase = await createTestDatabase(kind);
    clock = new ManualClock('2026-06-01T12:00:00.000Z');
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await testDatabase.database.close();
    await testDatabase.drop();
  });

  it('enqueues inside the caller transaction: a rollback takes the job with it', async () => {
    const { db } = testDatabase.database;
    await db
      .transaction()
      .execute(async (trx) => {
        await enqueueJob(trx, { type: 'test.record', payload: { n: 1 } });
        throw new Error('rolled back');
      })
      .catch(() => {});
    await db.transaction().execute((trx) => enqueueJob(trx, { type: 'test.record', payload: { n: 2 } }));
    const { seen, handler } = recorder();
    expect(await worker([handler]).runDue()).toBe(1);
    expect(seen).toEqual([{ n: 2 }]);
    expect(await jobsLeft(testDatabase.database)).toEqual([]);
  });

  it('waits for run_at, measured on the injected clock', async () => {
    await enqueueJob(testDatabase.database.db, { type: 'test.record', payload: 'later', runAt: new Date(clock.now().getTime() + 60_000) });
    const { seen, handler } = recorder();
    const w = worker([handler]);
    expect(await w.runDue()).toBe(0);
    clock.advance(59_999);
    expect(await w.runDue()).toBe(0);
    clock.advance(1);
    expect(await w.runDue()).toBe(1);
    expect(seen).toEqual(['later']);
  });

  it('only claims the types it has handlers for', async () => {
    await enqueueJob(testDatabase.database.db, { type: 'someone.else', payload: 1 });
    const { handler } = recorder();
    expect(await worker([handler]).runDue()).toBe(0);
    expect(await jobsLeft(testDatabase.database)).toHaveLength(1);
  });

  it('retries a throwing handler with backoff, keeps the error, and gives up after max attempts', async () => {
    await enqueueJob(testDatabase.database.db, { type: 'test.flaky', payload: null, maxAttempts: 3 });
    let runs = 0;
    const w = worker([{ type: 'test.flaky', timeoutMs: 1000, run: async () => { runs += 1; throw new Error(`boom ${runs}`); } }]);
    expect(await w.runDue()).toBe(1);
    let [job] = await jobsLeft(testDatabase.database);
    expect(job).toMatchObject({ attempts: 1, last_error: 'boom 1', locked_by: null, failed_at: null });
    expect(Date.parse(job!.run_at)).toBeGreaterThan(clock.now().getTime());
    expect(await w.runDue()).toBe(0);
    clock.advance(3_000);
    expect(await w.runDue()).toBe(1);
    clock.advance(10_000);
    expect(await w.runDue()).toBe(1);
    [job] = await jobsLeft(testDatabase.database);
    expect(job).toMatchObject({ attempts: 3, last_error: 'boom 3' });
    expect(job!.failed_at).not.toBeNull();
    clock.advance(86_400_000);
    expect(await w.runDue()).toBe(0);
    expect(runs).toBe(3);
  });

  it('runs a group one job at a time in enqueue order; a later job waits for the retried one before it', async () => {
    const { db } = testDatabase.database;
    const order: string[] = [];
    let failFirst = true;
    const handler: JobHandler<string> = {
      type: 'test.ordered',
      timeoutMs: 1000,
      run: async (name) => {
        if (name === 'a1' && failFirst) {
          failFirst = false;
          return { retryAt: new Date(clock.now().getTime() + 10_000), error: 'not yet' };
        }
        order.push(name);
      },
    };
    for (const name of ['a1', 'a2', 'a3']) await enqueueJob(db, { type: 'test.ordered', payload: name, groupKey: 'a' });
    await enqueueJob(db, { type: 'test.ordered', payload: 'b1', groupKey: 'b' });
    await enqueueJob(db, { type: 'test.ordered', payload: 'free' });
    const w = worker([handler]);
    await w.runDue();
    expect(order.sort()).toEqual(['b1', 'free']);
    clock.advance(10_000);
    await w.runDue();
    expect(order.slice(2)).toEqual(['a1', 'a2', 'a3']);
  });

  it('a given-up job no longer blocks its group', async () => {
    const { db } = testDatabase.database;
    await enqueueJob(db, { type: 'test.group', payload: 'bad', groupKey: 'g', maxAttempts: 1 });
    await enqueueJob(db, { type: 'test.group', payload: 'good', groupKey: 'g' });
    const ran: string[] = [];
    const w = worker([{ type: 'test.group', timeoutMs: 1000, run: async (p: string) => { ran.push(p); if (p === 'bad') throw new Error('no'); } }]);
    await w.runDue();
    expect(ran).toEqual(['bad', 'good']);
  });

  it('a job claimed by a process that died is claimed again when its lease runs out; the late claimer cannot finish it', async () => {
    const { db } = testDatabase.database;
    await enqueueJob(db, { type: 'test.record', payload: 'x' });
    const leases = new Map([['test.record', 6_000]]);
    const [dead] = await claimJobs(db, { leases, limit: 10, now: clock.now(), token: 'dead-process' });
    expect(dead).toBeDefined();
    const { seen, handler } = recorder('test.record', 1000);
    const w = worker([handler]);
    expect(await w.runDue()).toBe(0);
    clock.advance(6_000);
    expect(await w.runDue()).toBe(1);
    expect(seen).toEqual(['x']);
    expect(await jobsLeft(testDatabase.database)).toEqual([]);
  });

  it('completes jobs together, only those whose lease the completer still holds', async () => {
    const { db } = testDatabase.database;
    await enqueueJob(db, { type: 'test.record', payload: 'kept' });
    await enqueueJob(db, { type: 'test.record', payload: 'lost' });
    const leases = new Map([['test.record', 6_000]]);
    const [kept, lost] = await claimJobs(db, { leases, limit: 10, now: clock.now(), token: 'first' });
    clock.advance(3_000);
    // The second job's lease is taken over (its first claimer looks dead to someone else).
    await db.updateTable('jobs').set({ locked_by: 'second' }).where('id', '=', lost.id).execute();
    expect(await completeJobs(db, [kept, lost])).toEqual(new Set([kept.id]));
    expect((await jobsLeft(testDatabase.database)).map((job) => job.payload)).toEqual(['"lost"']);
    await db.deleteFrom('jobs').execute();
  });

  it('a started worker runs a job soon after it is enqueued (in-process wake-up), and stop() drains', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const done: string[] = [];
    const w = worker(
      [{ type: 'test.slow', timeoutMs: 5000, run: async (p: string) => { if (p === 'slow') await gate; done.push(p); } }],
      { pollIntervalMs: 3_600_000 },
    );
    w.start();
    await testDatabase.database.db.transaction().execute((trx) => enqueueJob(trx, { type: 'test.slow', payload: 'quick' }));
    await until(() => done.includes('quick'), 'the woken worker');
    await enqueueJob(testDatabase.database.db, { type: 'test.slow', payload: 'slow' });
    await until(async () => (await jobsLeft(testDatabase.database)).some((job) => job.payload === '"slow"' && job.locked_by !== null), 'the slow job to start');
    const stopped = w.stop();
    release();
    await stopped;
    expect(done).toEqual(['quick', 'slow']);
    expect(await jobsLeft(testDatabase.database)).toEqual([]);
  });

  if (kind === 'postgres') {
    it('two workers on two connection pools share the jobs: each runs once, never twice at the same time, groups in order', async () => {
      const { db } = testDatabase.database;
      const second = testDatabase.reopen();
      try {
        const total = 120;
        for (let i = 0; i < total; i += 1) {
          await enqueueJob(db, { type: 'test.shared', payload: { i, group: i % 3 === 0 ? null : `g${i % 5}` }, groupKey: i % 3 === 0 ? null : `g${i % 5}` });
        }
        const running = new Set<number>();
        const runs = new Map<number, number>();
        const byWorker = new Map<string, number>();
        const groupOrder = new Map<string, number[]>();
        const violations: string[] = [];
        const handlerFor = (name: string): JobHandler<{ i: number; group: string | null }> => ({
          type: 'test.shared',
          timeoutMs: 10_000,
          run: async ({ i, group }) => {
            if (running.has(i)) violations.push(`job ${i} ran twice at once`);
            if (group && [...running].some((other) => other % 5 === i % 5 && other % 3 !== 0)) violations.push(`group ${group} ran two at once`);
            running.add(i);
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
            running.delete(i);
            runs.set(i, (runs.get(i) ?? 0) + 1);
            byWorker.set(name, (byWorker.get(name) ?? 0) + 1);
            if (group) groupOrder.set(group, [...(groupOrder.get(group) ?? []), i]);
          },
        });
        // Real time here: the workers poll; the clock only decides what is due.
        const realClock = { now: () => new Date() };
        const a = new JobWorker({ database: testDatabase.database, clock: realClock, logger }, [handlerFor('a')], { concurrency: 4, pollIntervalMs: 5 });
        const b = new JobWorker({ database: second, clock: realClock, logger }, [handlerFor('b')], { concurrency: 4, pollIntervalMs: 5 });
        workers.push(a, b);
        a.start();
        b.start();
        await until(() => [...runs.values()].reduce((sum, n) => sum + n, 0) >= total, 'every job to run', { limitMs: 60_000 });
        await a.stop();
        await b.stop();
        expect(violations).toEqual([]);
        expect(runs.size).toBe(total);
        expect([...runs.values()].every((n) => n === 1)).toBe(true);
        for (const [, order] of groupOrder) expect(order).toEqual([...order].sort((x, y) => x - y));
        expect(await jobsLeft(testDatabase.database)).toEqual([]);
      } finally {
        await second.close();
      }
    });
  }
});
