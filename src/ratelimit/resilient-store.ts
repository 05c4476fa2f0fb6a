import { assertValidRules, SlidingLog, type RateLimitResult, type RateLimitStore, type Rule } from './limiter.js';

/**
 * What a check does when the primary (shared) store fails or times out:
 * - `open`: admit. For the per-IP and per-key limits, an outage of Redis must not take the API down.
 * - `local`: enforce the same rules in this process through `local`, for the messaging bucket, so
 *   WhatsApp is never flooded. The bound then holds per process, not across instances, and the
 *   switch from one store to the other forgets the admissions the other one recorded.
 */
export type FallbackOptions =
  | { readonly failMode: 'open' }
  | { readonly failMode: 'local'; readonly local: RateLimitStore };

export interface ResilientStoreOptions {
  readonly primary: RateLimitStore;
  readonly fallback: FallbackOptions;
  /** Called on every check that fell back; the caller logs a warning and counts a metric. */
  readonly onFallback: (reason: unknown) => void;
}

export class ResilientStore implements RateLimitStore {
  constructor(private readonly options: ResilientStoreOptions) {}

  async check(key: string, rules: readonly Rule[], nowMs: number): Promise<RateLimitResult> {
    // A configuration error must surface, not be mistaken for an outage.
    assertValidRules(rules);
    const { primary, fallback, onFallback } = this.options;
    try {
      return await primary.check(key, rules, nowMs);
    } catch (reason) {
      onFallback(reason);
      if (fallback.failMode === 'local') return fallback.local.check(key, rules, nowMs);
      // Nothing is known about the key: answer as for its first request, so the headers stay sane.
      return new SlidingLog().check(rules, nowMs);
    }
  }
}
