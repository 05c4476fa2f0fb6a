import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from './clock.js';
import { createLogger } from './deps.js';
import { ManualScheduler, TimerScheduler } from './scheduler.js';

describe('ManualScheduler', () => {
  it('runs due tasks in time order, at their time, with the tasks they schedule', async () => {
    const clock = new ManualClock('2026-01-01T00:00:00.000Z');
    const scheduler = new ManualScheduler(clock);
    const runs: string[] = [];
    const record = (name: string) => async () => {
      runs.push(`${name}@${clock.now().toISOString().slice(17, 23)}`);
    };
    scheduler.after(2000, record('b'));
    scheduler.after(1000, async () => {
      await record('a')();
      scheduler.after(500, record('a+500'));
    });
    scheduler.after(5000, record('late'));
    await scheduler.advance(2000);
    expect(runs).toEqual(['a@01.000', 'a+500@01.500', 'b@02.000']);
    expect(clock.now().toISOString()).toBe('2026-01-01T00:00:02.000Z');
    expect(scheduler.pending).toBe(1);
    await scheduler.close();
    await scheduler.advance(10_000);
    expect(runs).toHaveLength(3);
  });
});

describe('TimerScheduler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a task after its delay and drops what has not started when closed', async () => {
    vi.useFakeTimers();
    const scheduler = new TimerScheduler(createLogger('silent'));
    const runs: number[] = [];
    scheduler.after(100, async () => {
      runs.push(100);
    });
    scheduler.after(200, async () => {
      runs.push(200);
    });
    await vi.advanceTimersByTimeAsync(150);
    expect(runs).toEqual([100]);
    await scheduler.close();
    scheduler.after(10, async () => {
      runs.push(10);
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toEqual([100]);
  });

  it('waits on close for a task that is running, and logs a task that fails', async () => {
    vi.useFakeTimers();
    const logger = createLogger('silent');
    const logged = vi.spyOn(logger, 'error');
    const scheduler = new TimerScheduler(logger);
    let finish!: () => void;
    let finished = false;
    scheduler.after(0, () => new Promise<void>((resolve) => (finish = resolve)).then(() => void (finished = true)));
    scheduler.after(0, async () => {
      throw new Error('boom');
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(logged).toHaveBeenCalledOnce();
    const closing = scheduler.close();
    finish();
    await closing;
    expect(finished).toBe(true);
  });
});
