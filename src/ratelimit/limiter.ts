/**
 * Sliding-log rate limiting, shared by the memory and Redis stores.
 *
 * A rule "`limit` per `windowMs`" admits a request at time t only if fewer than `limit` requests
 * were admitted after t − windowMs. Every admitted time is kept until it has left the longest
 * window, so no half-open interval [a, a + windowMs) ever holds more than `limit` admissions: of
 * any `limit` + 1 admissions less than windowMs apart, the one checked last would have counted the
 * other `limit` inside its window and been refused. Admissions stamped later than t (a clock
 * running ahead on another instance) are counted too, so the argument does not depend on the order
 * in which timestamps arrive; only pruning does: a check stamped δ earlier than one that already
 * pruned can miss admissions within δ of the edge of the longest window. A refused request is not
 * recorded, so it consumes nothing.
 *
 * Entries older than the longest window of the current check are discarded, so a key should keep
 * its windows from one check to the next (its limits may change: an over-full window is honoured).
 */

/** At most `limit` requests in any interval of `windowMs` milliseconds. */
export interface Rule {
  readonly limit: number;
  readonly windowMs: number;
}

export interface RateLimitResult {
  readonly allowed: boolean;
  /** `limit`, `remaining` and `resetSeconds` describe the most restrictive rule (RateLimit-* headers). */
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until that rule's remaining quota next grows. */
  readonly resetSeconds: number;
  /** Seconds after which this request would be admitted (≥ 1 when refused, 0 when allowed). */
  readonly retryAfterSeconds: number;
}

export interface RateLimitStore {
  /** Admits and records the request only if every rule admits it; `nowMs` is epoch milliseconds. */
  check(key: string, rules: readonly Rule[], nowMs: number): Promise<RateLimitResult>;
}

/** The contract's messaging bucket, per API key: 5/s, 100/min and 2000/h. */
export const MESSAGING_RULES: readonly Rule[] = [
  { limit: 5, windowMs: 1_000 },
  { limit: 100, windowMs: 60_000 },
  { limit: 2_000, windowMs: 3_600_000 },
];

export function assertValidRules(rules: readonly Rule[]): void {
  if (rules.length === 0) throw new RangeError('At least one rate limit rule is required');
  for (const { limit, windowMs } of rules) {
    if (!isPositiveInteger(limit) || !isPositiveInteger(windowMs)) {
      throw new RangeError(`Invalid rate limit rule: ${limit} per ${windowMs} ms`);
    }
  }
}

export function longestWindowMs(rules: readonly Rule[]): number {
  return Math.max(...rules.map((rule) => rule.windowMs));
}

/** Where one rule stands after a decision; both stores report this and share `summarize`. */
export interface RuleState {
  readonly rule: Rule;
  /** Admissions counted in the rule's window (t − windowMs, ∞), the current one included. */
  readonly count: number;
  /**
   * The admission whose departure from the window frees this rule's next slot: the oldest counted
   * one, or the one at index count − limit (0 = oldest) when the window is over-full, as after a
   * limit was lowered. Null when count is 0.
   */
  readonly freeingEntryMs: number | null;
}

export function summarize(allowed: boolean, states: readonly RuleState[], nowMs: number): RateLimitResult {
  const views = states.map(({ rule, count, freeingEntryMs }) => ({
    limit: rule.limit,
    remaining: Math.max(0, rule.limit - count),
    freesAtMs: freeingEntryMs === null ? nowMs : freeingEntryMs + rule.windowMs,
  }));
  // Fewest remaining wins; on a tie the rule that frees up last, so that when refused the reset
  // matches Retry-After.
  const tightest = views.reduce((a, b) =>
    b.remaining < a.remaining || (b.remaining === a.remaining && b.freesAtMs > a.freesAtMs) ? b : a,
  );
  // Counts only fall as time passes, so once every full rule has freed a slot all rules admit.
  const admittedAtMs = allowed
    ? nowMs
    : Math.max(...views.filter((view) => view.remaining === 0).map((view) => view.freesAtMs));
  return {
    allowed,
    limit: tightest.limit,
    remaining: tightest.remaining,
    resetSeconds: secondsUntil(tightest.freesAtMs, nowMs),
    retryAfterSeconds: secondsUntil(admittedAtMs, nowMs),
  };
}

/**
 * The admitted request times of one key, kept in ascending order. Expired times are dropped by moving
 * `head` past them and compacting the array only once they are the larger part of it, so a check
 * costs O(log n) amortized even with hundreds of thousands of admissions in the window (shifting
 * the array on every check cost ~55 µs at 240,000).
 */
export class SlidingLog {
  private admitted: number[] = [];
  /** admitted[head..] are the live entries. */
  private head = 0;
  /** After this instant no admission counts against any rule any more. */
  private expiresAt = -Infinity;

  get expiresAtMs(): number {
    return this.expiresAt;
  }

  check(rules: readonly Rule[], nowMs: number): RateLimitResult {
    const longest = longestWindowMs(rules);
    this.dropAtOrBelow(nowMs - longest);
    const allowed = rules.every((rule) => this.countAfter(nowMs - rule.windowMs) < rule.limit);
    if (allowed) {
      this.insert(nowMs);
      this.expiresAt = Math.max(this.expiresAt, nowMs + longest);
    }
    return summarize(allowed, rules.map((rule) => this.stateOf(rule, nowMs)), nowMs);
  }

  private dropAtOrBelow(thresholdMs: number): void {
    this.head = this.indexAfter(thresholdMs);
    if (this.head > COMPACT_AFTER && this.head * 2 > this.admitted.length) {
      this.admitted = this.admitted.slice(this.head);
      this.head = 0;
    }
  }

  /** Appends, or (a clock that stepped back) inserts in order. */
  private insert(timeMs: number): void {
    const last = this.admitted.length - 1;
    if (last < this.head || this.admitted[last] <= timeMs) this.admitted.push(timeMs);
    else this.admitted.splice(this.indexAfter(timeMs), 0, timeMs);
  }

  private countAfter(thresholdMs: number): number {
    return this.admitted.length - this.indexAfter(thresholdMs);
  }

  private stateOf(rule: Rule, nowMs: number): RuleState {
    const count = this.countAfter(nowMs - rule.windowMs);
    const firstCounted = this.admitted.length - count;
    const freeingEntryMs = count === 0 ? null : this.admitted[firstCounted + Math.max(0, count - rule.limit)];
    return { rule, count, freeingEntryMs };
  }

  /** Index of the first live entry greater than `value` (binary search). */
  private indexAfter(value: number): number {
    const sorted = this.admitted;
    let low = this.head;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (sorted[middle] <= value) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** Dropped entries kept before the array is compacted (small logs never copy). */
const COMPACT_AFTER = 64;

/** Rounded up, so that waiting this many seconds is always enough. */
function secondsUntil(instantMs: number, nowMs: number): number {
  return Math.ceil((instantMs - nowMs) / 1000);
}

function isPositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}
