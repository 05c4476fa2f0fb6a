import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertValidRules, MESSAGING_RULES, SlidingLog, type Rule } from './limiter.js';

const T0 = 1_700_000_000_000; // on a whole second

/** Arrival times: a non-decreasing sequence of integer milliseconds built from random gaps. */
function arrivals(gap: fc.Arbitrary<number>, length: fc.ArrayConstraints): fc.Arbitrary<number[]> {
  return fc.array(gap, { size: 'max', ...length }).map((gaps) => {
    let time = T0;
    return gaps.map((g) => (time += g));
  });
}

/** True when no half-open interval [a, a + windowMs) holds more than `limit` of the sorted times. */
function neverMoreThanLimitInAnyWindow(admitted: readonly number[], { limit, windowMs }: Rule): boolean {
  // The densest interval starts at an admission; with limit + 1 of them inside it, the first and
  // the (limit + 1)-th would be less than windowMs apart.
  return admitted.every((start, i) => i + limit >= admitted.length || admitted[i + limit] - start >= windowMs);
}

/**
 * The specification, written independently of SlidingLog: a request is admitted iff every rule
 * has fewer than `limit` earlier admissions in (t − windowMs, t]. Arrival times must not decrease.
 */
class ReferenceModel {
  readonly admitted: number[] = [];
  // Per rule, the index of the first admission still inside its window (it only moves forward).
  private readonly windowStarts: number[];

  constructor(private readonly rules: readonly Rule[]) {
    this.windowStarts = rules.map(() => 0);
  }

  wouldAdmit(t: number): boolean {
    return this.rules.every((rule, r) => {
      while (this.admitted[this.windowStarts[r]] <= t - rule.windowMs) this.windowStarts[r]++;
      return this.admitted.length - this.windowStarts[r] < rule.limit;
    });
  }

  record(t: number): void {
    this.admitted.push(t);
  }

  /** Earliest instant ≥ t at which a request would be admitted, if nothing else is admitted first. */
  earliestAdmission(t: number): number {
    const countAfter = (start: number) => this.admitted.filter((a) => a > start).length;
    const admitsAt = (instant: number) =>
      this.rules.every((rule) => countAfter(instant - rule.windowMs) < rule.limit);
    if (admitsAt(t)) return t;
    // Counts only change when an admission leaves a window, i.e. at some a + windowMs.
    const candidates = this.rules
      .flatMap((rule) => this.admitted.map((a) => a + rule.windowMs))
      .filter((instant) => instant > t)
      .sort((x, y) => x - y);
    return candidates.find(admitsAt)!;
  }
}

describe('SlidingLog properties', () => {
  it('never admits more than N in any window for the messaging rules, and admits exactly what the spec admits', () => {
    // Sustained traffic faster than 100/min for over 20 minutes reaches the hourly rule too; short
    // gaps make bursts that hit the per-second rule.
    const gap = fc.oneof(
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 30 }) },
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 700 }) },
    );
    const refusingLimits = new Set<number>();
    fc.assert(
      fc.property(arrivals(gap, { minLength: 5_000, maxLength: 6_000 }), (times) => {
        const log = new SlidingLog();
        const model = new ReferenceModel(MESSAGING_RULES);
        for (const t of times) {
          const expected = model.wouldAdmit(t);
          const result = log.check(MESSAGING_RULES, t);
          if (result.allowed !== expected) return false;
          if (expected) model.record(t);
          else refusingLimits.add(result.limit);
        }
        return MESSAGING_RULES.every((rule) => neverMoreThanLimitInAnyWindow(model.admitted, rule));
      }),
      { numRuns: 25 },
    );
    // Guards against a generator too gentle to exercise every rule.
    expect([...refusingLimits].sort((a, b) => a - b)).toEqual([5, 100, 2_000]);
  });

  it('refuses a request only until the window frees, and Retry-After says exactly when', () => {
    const rules: Rule[] = [
      { limit: 3, windowMs: 1_000 },
      { limit: 5, windowMs: 4_000 },
      { limit: 8, windowMs: 10_000 },
    ];
    const gap = fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3_000 }));
    fc.assert(
      fc.property(arrivals(gap, { minLength: 1, maxLength: 150 }), (times) => {
        const log = new SlidingLog();
        const model = new ReferenceModel(rules);
        for (const t of times) {
          const result = log.check(rules, t);
          const admittedAt = model.earliestAdmission(t);
          if (result.allowed !== (admittedAt === t)) return false;
          if (result.retryAfterSeconds !== Math.ceil((admittedAt - t) / 1000)) return false;
          if (result.allowed) model.record(t);
        }
        return rules.every((rule) => neverMoreThanLimitInAnyWindow(model.admitted, rule));
      }),
      { numRuns: 300 },
    );
  });
});

describe('SlidingLog with times that step back (a clock adjusted, another instance running behind)', () => {
  /**
   * The documented behaviour, written out naively: entries at or below t − longest window are
   * dropped at each check; a request is admitted iff each rule counts fewer than `limit` kept
   * admissions after t − windowMs (later ones included).
   */
  function naive(rules: readonly Rule[]) {
    let kept: number[] = [];
    const longest = Math.max(...rules.map((rule) => rule.windowMs));
    return (t: number) => {
      kept = kept.filter((a) => a > t - longest);
      const allowed = rules.every((rule) => kept.filter((a) => a > t - rule.windowMs).length < rule.limit);
      if (allowed) kept.push(t);
      return { allowed, remaining: Math.min(...rules.map((rule) => Math.max(0, rule.limit - kept.filter((a) => a > t - rule.windowMs).length))) };
    };
  }

  it('admits exactly what the naive model admits, through many compactions', () => {
    const rules: Rule[] = [
      { limit: 40, windowMs: 200 },
      { limit: 300, windowMs: 2_000 },
    ];
    // Mostly forward, sometimes back by up to 150 ms.
    const step = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: -150, max: 0 }) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1_000, maxLength: 2_000 }), (steps) => {
        const log = new SlidingLog();
        const model = naive(rules);
        let t = T0;
        for (const s of steps) {
          t += s;
          const expected = model(t);
          const actual = log.check(rules, t);
          if (actual.allowed !== expected.allowed || actual.remaining !== expected.remaining) return false;
        }
        return true;
      }),
      { numRuns: 30 },
    );
  });
});

describe('assertValidRules', () => {
  it.each([
    [[]],
    [[{ limit: 0, windowMs: 1_000 }]],
    [[{ limit: 5, windowMs: 0 }]],
    [[{ limit: 1.5, windowMs: 1_000 }]],
    [[{ limit: 5, windowMs: Number.NaN }]],
  ])('rejects %j', (rules) => {
    expect(() => assertValidRules(rules)).toThrow(RangeError);
  });

  it('accepts the messaging rules', () => {
    expect(() => assertValidRules(MESSAGING_RULES)).not.toThrow();
  });
});
