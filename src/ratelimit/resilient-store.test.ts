import { describe, expect, it, vi } from 'vitest';
import { MESSAGING_RULES, type RateLimitResult, type RateLimitStore } from './limiter.js';
import { MemoryStore } from './memory-store.js';
import { ResilientStore } from './resilient-store.js';

const T0 = 1_700_000_000_000;

const failing: RateLimitStore = { check: () => Promise.reject(new Error('Command timed out')) };

describe('ResilientStore', () => {
  it('answers from the primary store while it works', async () => {
    const answer: RateLimitResult = { allowed: false, limit: 5, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1 };
    const onFallback = vi.fn();
    const store = new ResilientStore({
      primary: { check: async () => answer },
      fallback: { failMode: 'open' },
      onFallback,
    });
    expect(await store.check('k', MESSAGING_RULES, T0)).toBe(answer);
    expect(onFallback).not.toHaveBeenCalled();
  });

  it("fails open in 'open' mode and reports why", async () => {
    const onFallback = vi.fn();
    const store = new ResilientStore({ primary: failing, fallback: { failMode: 'open' }, onFallback });
    for (let i = 0; i < 10; i++) {
      expect(await store.check('k', MESSAGING_RULES, T0)).toEqual({
        allowed: true,
        limit: 5,
        remaining: 4,
        resetSeconds: 1,
        retryAfterSeconds: 0,
      });
    }
    expect(onFallback).toHaveBeenCalledTimes(10);
    expect(onFallback).toHaveBeenCalledWith(new Error('Command timed out'));
  });

  it("enforces the same rules in this process in 'local' mode", async () => {
    const onFallback = vi.fn();
    const store = new ResilientStore({
      primary: failing,
      fallback: { failMode: 'local', local: new MemoryStore() },
      onFallback,
    });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await store.check('k', MESSAGING_RULES, T0));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false]);
    expect(results[5]).toMatchObject({ limit: 5, retryAfterSeconds: 1 });
    expect(onFallback).toHaveBeenCalledTimes(6);
  });

  it('throws on invalid rules instead of treating them as an outage', async () => {
    const onFallback = vi.fn();
    const store = new ResilientStore({ primary: failing, fallback: { failMode: 'open' }, onFallback });
    await expect(store.check('k', [], T0)).rejects.toThrow(RangeError);
    expect(onFallback).not.toHaveBeenCalled();
  });
});
