import { assertValidRules, SlidingLog, type RateLimitResult, type RateLimitStore, type Rule } from './limiter.js';

export interface MemoryStoreOptions {
  /**
   * Most keys tracked at once. Beyond it the least recently checked key is forgotten, so a flood
   * of distinct IPs costs bounded memory; the price is that a forgotten key starts afresh.
   */
  readonly maxKeys?: number;
  /** How often, on the callers' clock, keys whose admissions have all expired are swept out. */
  readonly sweepIntervalMs?: number;
}

/** Limits for one process (the embedded default, and the fallback when Redis is down). */
export class MemoryStore implements RateLimitStore {
  // A Map iterates in insertion order; re-inserting a key on every check keeps the least recently
  // checked key first, ready for eviction.
  private readonly logs = new Map<string, SlidingLog>();
  private readonly maxKeys: number;
  private readonly sweepIntervalMs: number;
  private nextSweepAtMs = -Infinity;

  constructor({ maxKeys = 100_000, sweepIntervalMs = 60_000 }: MemoryStoreOptions = {}) {
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1 || !(sweepIntervalMs >= 0)) throw new RangeError('Invalid memory store options');
    this.maxKeys = maxKeys;
    this.sweepIntervalMs = sweepIntervalMs;
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.logs.size;
  }

  async check(key: string, rules: readonly Rule[], nowMs: number): Promise<RateLimitResult> {
    assertValidRules(rules);
    this.sweepIfDue(nowMs);
    const log = this.logs.get(key) ?? new SlidingLog();
    this.logs.delete(key);
    this.logs.set(key, log);
    if (this.logs.size > this.maxKeys) this.logs.delete(this.logs.keys().next().value!);
    return log.check(rules, nowMs);
  }

  private sweepIfDue(nowMs: number): void {
    if (nowMs < this.nextSweepAtMs) return;
    this.nextSweepAtMs = nowMs + this.sweepIntervalMs;
    for (const [key, log] of this.logs) {
      if (log.expiresAtMs <= nowMs) this.logs.delete(key);
    }
  }
}
