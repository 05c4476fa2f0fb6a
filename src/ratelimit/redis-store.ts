import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  assertValidRules,
  longestWindowMs,
  summarize,
  type RateLimitResult,
  type RateLimitStore,
  type Rule,
  type RuleState,
} from './limiter.js';

/**
 * The sliding log of limiter.ts as one atomic script: a sorted set per key, scored by admission
 * time, with a unique member per admission so that admissions in the same millisecond all count.
 * The caller computes every score bound, so no timestamp goes through Lua's number formatting
 * (%.14g) and the server clock is never read (time is injected).
 *
 * KEYS[1]  the key's sorted set
 * ARGV[1]  now (ms)                ARGV[2]  unique member for this request
 * ARGV[3]  prune bound: now − longest window (inclusive)
 * ARGV[4]  longest window (ms), the key's TTL after an admission
 * ARGV[5…] per rule: limit, window start (exclusive) = now − window
 * Returns  { allowed (1|0), per rule: count, score of the entry that frees the next slot | false }
 */
const CHECK_SCRIPT = `
local key = KEYS[1]
local ruleCount = (#ARGV - 4) / 2
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
local allowed = 1
for i = 0, ruleCount - 1 do
  if redis.call('ZCOUNT', key, '(' .. ARGV[6 + 2 * i], '+inf') >= tonumber(ARGV[5 + 2 * i]) then
    allowed = 0
    break
  end
end
if allowed == 1 then
  redis.call('ZADD', key, ARGV[1], ARGV[2])
  redis.call('PEXPIRE', key, ARGV[4])
end
local reply = { allowed }
for i = 0, ruleCount - 1 do
  local limit = tonumber(ARGV[5 + 2 * i])
  local windowStart = '(' .. ARGV[6 + 2 * i]
  local count = redis.call('ZCOUNT', key, windowStart, '+inf')
  local freeing = false
  if count > 0 then
    freeing = redis.call('ZRANGEBYSCORE', key, windowStart, '+inf', 'WITHSCORES', 'LIMIT', math.max(0, count - limit), 1)[2]
  end
  reply[#reply + 1] = count
  reply[#reply + 1] = freeing
end
return reply
`;

export interface RedisStoreOptions {
  readonly url: string;
  /** Prepended to every key; lets several deployments (or test runs) share one Redis. */
  readonly keyPrefix?: string;
  /** A check that gets no reply within this time fails, so a hung Redis cannot hang requests. */
  readonly commandTimeoutMs?: number;
}

type CheckReply = [allowed: number, ...perRule: (number | string | null)[]];

interface RedisWithCheck extends Redis {
  rateLimitCheck(key: string, ...args: (string | number)[]): Promise<CheckReply>;
}

/** Limits shared by every instance through Redis: one EVALSHA round trip per check. */
export class RedisStore implements RateLimitStore {
  private readonly redis: RedisWithCheck;
  private readonly keyPrefix: string;
  // Members only need to be unique; an instance id plus a counter is, across instances too.
  private readonly instanceId = randomBytes(9).toString('base64url');
  private sequence = 0;

  constructor({ url, keyPrefix = 'openmumble:ratelimit:', commandTimeoutMs = 200 }: RedisStoreOptions) {
    this.keyPrefix = keyPrefix;
    this.redis = new Redis(url, {
      lazyConnect: true,
      commandTimeout: commandTimeoutMs,
      // Fail at once while disconnected instead of queueing, and never resend a check whose reply
      // was lost: it may already have been recorded.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
    }) as RedisWithCheck;
    // Connection errors also fail the checks in flight, which is where callers hear of them;
    // without a listener ioredis would print every reconnection failure.
    this.redis.on('error', () => {});
    this.redis.defineCommand('rateLimitCheck', { numberOfKeys: 1, lua: CHECK_SCRIPT });
  }

  /**
   * Connects; resolves once Redis answers. Optional: the first check connects too, but fails
   * while the connection is being made. If this rejects, the client keeps retrying on its own.
   */
  async connect(): Promise<void> {
    await this.redis.connect();
  }

  close(): void {
    this.redis.disconnect();
  }

  async check(key: string, rules: readonly Rule[], nowMs: number): Promise<RateLimitResult> {
    assertValidRules(rules);
    const longest = longestWindowMs(rules);
    const member = `${this.instanceId}:${this.sequence++}`;
    const ruleArgs = rules.flatMap((rule) => [rule.limit, nowMs - rule.windowMs]);
    const [allowed, ...perRule] = await this.redis.rateLimitCheck(
      this.keyPrefix + key,
      nowMs,
      member,
      nowMs - longest,
      longest,
      ...ruleArgs,
    );
    const states = rules.map((rule, index): RuleState => {
      const freeing = perRule[2 * index + 1];
      return { rule, count: Number(perRule[2 * index]), freeingEntryMs: freeing == null ? null : Number(freeing) };
    });
    return summarize(allowed === 1, states, nowMs);
  }
}
