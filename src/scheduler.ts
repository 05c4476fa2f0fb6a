import type { Logger } from 'pino';
import type { ManualClock } from './clock.js';

/**
 * Work deferred inside this process (the sandbox channel's simulated delays). Like the clock, it is
 * a dependency: tests drive it by hand and never sleep.
 */
export interface Scheduler {
  /** Runs `task` once, `delayMs` from now. */
  after(delayMs: number, task: () => Promise<void>): void;
  /** Drops what has not started and waits for what has; later calls to `after` do nothing. */
  close(): Promise<void>;
}

/** Node timers. A failed task is logged: nobody is waiting for it. */
export class TimerScheduler implements Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly logger: Logger) {}

  after(delayMs: number, task: () => Promise<void>): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = task()
        .catch((error: unknown) => this.logger.error({ err: error }, 'scheduled task failed'))
        .finally(() => this.running.delete(run));
      this.running.add(run);
    }, delayMs);
    this.timers.add(timer);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.running);
  }
}

interface ManualTask {
  dueMs: number;
  order: number;
  task: () => Promise<void>;
}

/** Runs tasks only when told to, on a ManualClock; a failing task fails the test that ran it. */
export class ManualScheduler implements Scheduler {
  private tasks: ManualTask[] = [];
  private scheduled = 0;
  private closed = false;

  constructor(private readonly clock: ManualClock) {}

  after(delayMs: number, task: () => Promise<void>): void {
    if (this.closed) return;
    this.tasks.push({ dueMs: this.clock.now().getTime() + delayMs, order: this.scheduled++, task });
  }

  /** Moves the clock on by `ms`, running each task at its time, in time order (tasks they schedule included). */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now().getTime() + ms;
    for (let next = this.nextDue(end); next; next = this.nextDue(end)) {
      this.tasks = this.tasks.filter((task) => task !== next);
      if (next.dueMs > this.clock.now().getTime()) this.clock.set(new Date(next.dueMs));
      await next.task();
    }
    this.clock.set(new Date(end));
  }

  /** Tasks waiting for their time. */
  get pending(): number {
    return this.tasks.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.tasks = [];
  }

  private nextDue(endMs: number): ManualTask | undefined {
    return this.tasks
      .filter((task) => task.dueMs <= endMs)
      .sort((a, b) => a.dueMs - b.dueMs || a.order - b.order)[0];
  }
}
