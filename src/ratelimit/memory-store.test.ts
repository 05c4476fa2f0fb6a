import { describe, expect, it } from 'vitest';
import type { Rule } from './limiter.js';
import { MemoryStore } from './memory-store.js';

const T0 = 1_700_000_000_000;
const ONE_PER_SECOND: Rule[] = [{ limit: 1, windowMs: 1_000 }];

describe('MemoryStore memory bound', () => {
  it('tracks no more than maxKeys under a flood of distinct keys', async () => {
    const store = new MemoryStore({ maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) await store.check(`ip-${i}`, ONE_PER_SECOND, T0);
    expect(store.size).toBe(100);
  });

  it('forgets the least recently checked key first', async () => {
    const store = new MemoryStore({ maxKeys: 2 });
    await store.check('a', ONE_PER_SECOND, T0);
    await store.check('b', ONE_PER_SECOND, T0);
    await store.check('a', ONE_PER_SECOND, T0); // refused, but makes 'a' recent
    await store.check('c', ONE_PER_SECOND, T0); // evicts 'b'
    expect((await store.check('a', ONE_PER_SECOND, T0)).allowed).toBe(false);
    expect((await store.check('b', ONE_PER_SECOND, T0)).allowed).toBe(true); // starts afresh
  });

  it('sweeps out keys whose admissions have all left the window', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 60_000 });
    for (let i = 0; i < 1_000; i++) await store.check(`ip-${i}`, ONE_PER_SECOND, T0);
    await store.check('late', ONE_PER_SECOND, T0 + 59_999); // sweep not due yet
    expect(store.size).toBe(1_001);
    await store.check('later', ONE_PER_SECOND, T0 + 60_000);
    expect(store.size).toBe(2); // 'late' (still inside its window) and 'later'
  });

  it('keeps a key until its longest window has passed', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 0 });
    const rules: Rule[] = [
      { limit: 1, windowMs: 1_000 },
      { limit: 1, windowMs: 10_000 },
    ];
    await store.check('a', rules, T0);
    await store.check('b', rules, T0 + 9_999);
    expect(store.size).toBe(2);
    expect((await store.check('a', rules, T0 + 9_999)).allowed).toBe(false);
    await store.check('b', rules, T0 + 10_000);
    expect(store.size).toBe(1);
  });

  it('rejects invalid options', () => {
    expect(() => new MemoryStore({ maxKeys: 0 })).toThrow(RangeError);
    expect(() => new MemoryStore({ sweepIntervalMs: -1 })).toThrow(RangeError);
  });
});
