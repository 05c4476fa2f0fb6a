import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGING_RULES, type RateLimitStore, type Rule } from './limiter.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';

// The same behaviour, checked on every store. Time is always passed in; nothing sleeps.

const T0 = 1_700_000_000_000; // on a whole second
const FIVE_PER_SECOND: Rule[] = [{ limit: 5, windowMs: 1_000 }];

function behaviourSuite(getStore: () => RateLimitStore, { propertyRuns }: { propertyRuns: number }): void {
  let keyCounter = 0;
  // Every test gets its own key, so tests need no shared reset.
  const freshKey = () => `key-${keyCounter++}`;
  const check = (key: string, rules: readonly Rule[], nowMs: number) => getStore().check(key, rules, nowMs);

  async function allowedCount(key: string, rules: readonly Rule[], times: number[]): Promise<number> {
    let admitted = 0;
    for (const t of times) if ((await check(key, rules, t)).allowed) admitted++;
    return admitted;
  }

  it('admits exactly N at one instant, counting down, and refuses the next', async () => {
    const key = freshKey();
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await check(key, FIVE_PER_SECOND, T0));
    expect(results.map((r) => [r.allowed, r.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(results[0]).toEqual({ allowed: true, limit: 5, remaining: 4, resetSeconds: 1, retryAfterSeconds: 0 });
    expect(results[5]).toEqual({ allowed: false, limit: 5, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1 });
  });

  it('admits again exactly when the oldest admission leaves the window', async () => {
    const key = freshKey();
    for (let i = 0; i < 5; i++) expect((await check(key, FIVE_PER_SECOND, T0 + 100 * i)).allowed).toBe(true);
    expect((await check(key, FIVE_PER_SECOND, T0 + 999)).allowed).toBe(false);
    expect((await check(key, FIVE_PER_SECOND, T0 + 1_000)).allowed).toBe(true); // T0 has left
    expect((await check(key, FIVE_PER_SECOND, T0 + 1_000)).allowed).toBe(false); // T0 + 100 has not
    expect((await check(key, FIVE_PER_SECOND, T0 + 1_099)).allowed).toBe(false);
    expect((await check(key, FIVE_PER_SECOND, T0 + 1_100)).allowed).toBe(true);
  });

  it('lets refused requests consume nothing', async () => {
    const key = freshKey();
    expect(await allowedCount(key, FIVE_PER_SECOND, Array(5).fill(T0))).toBe(5);
    const hammering = Array.from({ length: 200 }, (_, i) => T0 + 1 + (i % 999));
    expect(await allowedCount(key, FIVE_PER_SECOND, hammering.sort((a, b) => a - b))).toBe(0);
    expect(await allowedCount(key, FIVE_PER_SECOND, Array(6).fill(T0 + 1_000))).toBe(5);
  });

  it('refuses the burst across a second boundary that a fixed window would admit', async () => {
    const key = freshKey();
    expect(await allowedCount(key, FIVE_PER_SECOND, [T0 + 995, T0 + 996, T0 + 997, T0 + 998, T0 + 999])).toBe(5);
    expect(await allowedCount(key, FIVE_PER_SECOND, [T0 + 1_000, T0 + 1_001, T0 + 1_002, T0 + 1_003, T0 + 1_004])).toBe(0);
    expect((await check(key, FIVE_PER_SECOND, T0 + 1_995)).allowed).toBe(true);
  });

  it('keeps keys independent', async () => {
    const [a, b] = [freshKey(), freshKey()];
    expect(await allowedCount(a, FIVE_PER_SECOND, Array(6).fill(T0))).toBe(5);
    expect(await allowedCount(b, FIVE_PER_SECOND, Array(6).fill(T0))).toBe(5);
  });

  it('admits exactly N of many concurrent requests in the same millisecond', async () => {
    const key = freshKey();
    const results = await Promise.all(Array.from({ length: 40 }, () => check(key, FIVE_PER_SECOND, T0)));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
  });

  it('rounds Retry-After up to when the request would be admitted', async () => {
    const key = freshKey();
    expect(await allowedCount(key, FIVE_PER_SECOND, Array(5).fill(T0 + 300))).toBe(5);
    const refused = await check(key, FIVE_PER_SECOND, T0 + 500); // frees at T0 + 1300: 800 ms away
    expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 1, resetSeconds: 1 });
    expect((await check(key, FIVE_PER_SECOND, T0 + 500 + refused.retryAfterSeconds * 1_000)).allowed).toBe(true);
  });

  describe('with several rules', () => {
    it('admits only when every rule admits, recording in all of them', async () => {
      // 5 per second for 20 seconds fills the minute rule; refusals by the second rule in between
      // must not count against the minute rule.
      const key = freshKey();
      let admitted = 0;
      for (let second = 0; second < 20; second++) {
        admitted += await allowedCount(key, MESSAGING_RULES, Array(8).fill(T0 + second * 1_000));
      }
      expect(admitted).toBe(100);
      const refused = await check(key, MESSAGING_RULES, T0 + 20_000);
      expect(refused).toEqual({ allowed: false, limit: 100, remaining: 0, resetSeconds: 40, retryAfterSeconds: 40 });
      expect((await check(key, MESSAGING_RULES, T0 + 59_999)).allowed).toBe(false);
      expect(await allowedCount(key, MESSAGING_RULES, Array(6).fill(T0 + 60_000))).toBe(5);
    });

    it('reports the rule with the fewest remaining requests', async () => {
      const key = freshKey();
      expect(await check(key, MESSAGING_RULES, T0)).toMatchObject({ limit: 5, remaining: 4, resetSeconds: 1 });
      await allowedCount(key, MESSAGING_RULES, Array(4).fill(T0));
      expect(await check(key, MESSAGING_RULES, T0)).toMatchObject({ allowed: false, limit: 5, retryAfterSeconds: 1 });
    });

    it('makes Retry-After wait for the last full rule to free up', async () => {
      const rules: Rule[] = [
        { limit: 1, windowMs: 1_000 },
        { limit: 2, windowMs: 10_000 },
      ];
      const key = freshKey();
      expect(await allowedCount(key, rules, [T0, T0 + 1_000])).toBe(2);
      // Both are full: the first frees at T0 + 2000, the second only at T0 + 10000.
      expect(await check(key, rules, T0 + 1_500)).toEqual({
        allowed: false,
        limit: 2,
        remaining: 0,
        resetSeconds: 9,
        retryAfterSeconds: 9,
      });
      expect((await check(key, rules, T0 + 9_999)).allowed).toBe(false);
      expect((await check(key, rules, T0 + 10_000)).allowed).toBe(true);
    });

    it('holds 2000 per hour', async () => {
      const key = freshKey();
      // 100 a minute, 5 a second for the first 20 seconds of each minute.
      const times = Array.from({ length: 20 }, (_, minute) =>
        Array.from({ length: 100 }, (_, i) => T0 + minute * 60_000 + Math.floor(i / 5) * 1_000),
      ).flat();
      expect(await allowedCount(key, MESSAGING_RULES, times)).toBe(2_000);
      const refused = await check(key, MESSAGING_RULES, T0 + 20 * 60_000);
      expect(refused).toMatchObject({ allowed: false, limit: 2_000, remaining: 0, retryAfterSeconds: 40 * 60 });
      expect((await check(key, MESSAGING_RULES, T0 + 3_600_000)).allowed).toBe(true);
    });
  });

  it('after a limit is lowered, waits until enough admissions have left the window', async () => {
    const key = freshKey();
    const times = [T0, T0 + 1_000, T0 + 2_000, T0 + 3_000, T0 + 4_000];
    expect(await allowedCount(key, [{ limit: 5, windowMs: 10_000 }], times)).toBe(5);
    const lowered: Rule[] = [{ limit: 2, windowMs: 10_000 }];
    // Five counted, room for one more once only one is left: after T0 + 3000 has gone.
    expect(await check(key, lowered, T0 + 5_000)).toMatchObject({ allowed: false, retryAfterSeconds: 8 });
    expect((await check(key, lowered, T0 + 12_999)).allowed).toBe(false);
    expect((await check(key, lowered, T0 + 13_000)).allowed).toBe(true);
  });

  it('rejects invalid rules', async () => {
    await expect(check(freshKey(), [], T0)).rejects.toThrow(RangeError);
    await expect(check(freshKey(), [{ limit: 0, windowMs: 1_000 }], T0)).rejects.toThrow(RangeError);
  });

  it('never admits more than N in any sliding window, for random arrivals', async () => {
    const rules: Rule[] = [
      { limit: 3, windowMs: 1_000 },
      { limit: 5, windowMs: 4_000 },
    ];
    const gaps = fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2_500 })), {
      minLength: 1,
      maxLength: 60,
      size: 'max',
    });
    await fc.assert(
      fc.asyncProperty(gaps, async (gapList) => {
        const key = freshKey();
        const admitted: number[] = [];
        let t = T0;
        for (const gap of gapList) if ((await check(key, rules, (t += gap))).allowed) admitted.push(t);
        return rules.every(({ limit, windowMs }) =>
          admitted.every((start, i) => i + limit >= admitted.length || admitted[i + limit] - start >= windowMs),
        );
      }),
      { numRuns: propertyRuns },
    );
  });
}

describe('MemoryStore', () => {
  const store = new MemoryStore();
  behaviourSuite(() => store, { propertyRuns: 200 });
});

describe.skipIf(!process.env.TEST_REDIS_URL)('RedisStore', () => {
  const keyPrefix = `test:openmumble:ratelimit:${randomUUID()}:`;
  let store: RedisStore;

  beforeAll(async () => {
    store = new RedisStore({ url: process.env.TEST_REDIS_URL!, keyPrefix });
    await store.connect();
  });

  afterAll(async () => {
    store.close();
    const admin = new Redis(process.env.TEST_REDIS_URL!);
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  behaviourSuite(() => store, { propertyRuns: 50 });
});
