import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { ApiError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { MESSAGING_RULES, MemoryStore, RedisStore, ResilientStore, type RateLimitResult, type RateLimitStore, type Rule } from '../ratelimit/index.js';

/**
 * The contract's three layers, checked in this order: per client IP, per API key, messaging; and the
 * inbox's sign-in attempts, per email and per client address.
 */
export type Bucket = 'ip' | 'key' | 'messaging' | 'sign_in_email' | 'sign_in_ip';

export interface RateLimiter {
  check(bucket: Bucket, id: string): Promise<RateLimitResult>;
  /** Resolves once the shared store answers, or has been found unreachable (then checks fall back). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const MINUTE = 60_000;

interface LimiterOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

/**
 * In-process limits for one instance; with REDIS_URL, limits shared by every instance. When Redis
 * fails, per-IP and per-key checks admit (an outage must not take the API down) and the messaging
 * bucket falls back to a per-process limiter, so WhatsApp is never flooded.
 */
export function createRateLimiter({ config, clock, logger, metrics }: LimiterOptions): RateLimiter {
  const rules: Record<Bucket, readonly Rule[]> = {
    ip: [{ limit: config.RATE_LIMIT_PER_IP, windowMs: MINUTE }],
    key: [{ limit: config.RATE_LIMIT_PER_KEY, windowMs: MINUTE }],
    messaging: MESSAGING_RULES,
    sign_in_email: [{ limit: config.SIGN_IN_LIMIT_PER_EMAIL, windowMs: 15 * MINUTE }],
    sign_in_ip: [{ limit: config.SIGN_IN_LIMIT_PER_IP, windowMs: 15 * MINUTE }],
  };
  const local = new MemoryStore();
  let stores: Record<Bucket, RateLimitStore> = { ip: local, key: local, messaging: local, sign_in_email: local, sign_in_ip: local };
  let redis: RedisStore | undefined;
  let connected = Promise.resolve();

  if (config.REDIS_URL) {
    redis = new RedisStore({ url: config.REDIS_URL });
    connected = redis.connect().catch((error: unknown) => {
      logger.warn({ err: error }, 'Redis is not reachable yet; rate limits fall back until it is');
    });
    const fallingBack = (bucket: Bucket) => (reason: unknown) => {
      metrics.rateLimitFallbacks.inc({ bucket });
      logger.warn({ bucket, reason: (reason as Error)?.message }, 'rate limit check fell back: Redis did not answer');
    };
    const open = (bucket: Bucket) => new ResilientStore({ primary: redis!, fallback: { failMode: 'open' }, onFallback: fallingBack(bucket) });
    stores = {
      ip: open('ip'),
      key: open('key'),
      messaging: new ResilientStore({ primary: redis, fallback: { failMode: 'local', local }, onFallback: fallingBack('messaging') }),
      // Guessing passwords must not get easier when Redis is down: fall back to this process's limits.
      sign_in_email: new ResilientStore({ primary: redis, fallback: { failMode: 'local', local }, onFallback: fallingBack('sign_in_email') }),
      sign_in_ip: new ResilientStore({ primary: redis, fallback: { failMode: 'local', local }, onFallback: fallingBack('sign_in_ip') }),
    };
  }

  return {
    check: (bucket, id) => stores[bucket].check(`${bucket}:${id}`, rules[bucket], clock.now().getTime()),
    ready: () => connected,
    close: async () => redis?.close(),
  };
}

/** IETF RateLimit headers of the result that is closest to refusing. */
export function setRateLimitHeaders(reply: FastifyReply, result: RateLimitResult): void {
  reply.header('RateLimit-Limit', result.limit);
  reply.header('RateLimit-Remaining', result.remaining);
  reply.header('RateLimit-Reset', result.resetSeconds);
}

/** Throws the contract's 429 when refused; otherwise returns the result for the headers. */
export async function enforce(limiter: RateLimiter, metrics: Metrics, reply: FastifyReply, bucket: Bucket, id: string): Promise<RateLimitResult> {
  const result = await limiter.check(bucket, id);
  if (!result.allowed) {
    metrics.rateLimited.inc({ bucket });
    setRateLimitHeaders(reply, result);
    reply.header('Retry-After', result.retryAfterSeconds);
    throw new ApiError(429, 'Too many requests');
  }
  return result;
}

/** Of several admitting results, the one with the fewest requests left (ties: the later reset). */
export function tightest(results: RateLimitResult[]): RateLimitResult {
  return results.reduce((a, b) => (b.remaining < a.remaining || (b.remaining === a.remaining && b.resetSeconds > a.resetSeconds) ? b : a));
}
