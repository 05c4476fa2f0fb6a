import { afterEach, describe, expect, it } from 'vitest';
import { createSecondInstance, createTestContext, redisUrl, type TestContext } from './helpers.js';

/** A route that is not in the messaging bucket, and one that is (its validation answers 400: admitted). */
const PLAIN = '/mumbleapi/get-labels';
const MESSAGING = '/mumbleapi/send-text-message';

let context: TestContext | undefined;
afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function statuses(count: number, send: () => Promise<{ statusCode: number }>): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < count; i++) codes.push((await send()).statusCode);
  return codes;
}

describe('rate limits over HTTP (in-process store)', () => {
  it('throttles per client IP before authentication, so floods of bad keys are refused too', async () => {
    context = await createTestContext('sqlite', { RATE_LIMIT_PER_IP: '3', RATE_LIMIT_PER_KEY: '100' });
    const app = context.app;
    const codes = await statuses(4, () => app.inject({ method: 'GET', url: PLAIN, headers: { 'mumble-api-key': 'om_wrong' } }));
    expect(codes).toEqual([401, 401, 401, 429]);
    const refused = await app.inject({ method: 'GET', url: PLAIN, headers: { 'mumble-api-key': context.apiKey } });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ error: true, message: 'Too many requests' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['ratelimit-limit']).toBe('3');
    expect(refused.headers['ratelimit-remaining']).toBe('0');
  });

  it('limits each API key separately and admits again once the minute has passed', async () => {
    context = await createTestContext('sqlite', { RATE_LIMIT_PER_IP: '1000', RATE_LIMIT_PER_KEY: '2' });
    const other = await context.otherAccount();
    const ctx = context;
    expect(await statuses(3, () => ctx.call('GET', PLAIN))).toEqual([200, 200, 429]);
    const otherReply = await ctx.app.inject({ method: 'GET', url: PLAIN, headers: { 'mumble-api-key': other.apiKey } });
    expect(otherReply.statusCode).toBe(200);
    ctx.clock.advance(59_999);
    expect((await ctx.call('GET', PLAIN)).statusCode).toBe(429);
    ctx.clock.advance(1);
    expect((await ctx.call('GET', PLAIN)).statusCode).toBe(200);
  });

  it('sends RateLimit headers on admitted requests, describing the tightest limit', async () => {
    context = await createTestContext('sqlite', { RATE_LIMIT_PER_IP: '50', RATE_LIMIT_PER_KEY: '10' });
    const reply = await context.call('GET', PLAIN);
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['ratelimit-limit']).toBe('10');
    expect(reply.headers['ratelimit-remaining']).toBe('9');
    expect(Number(reply.headers['ratelimit-reset'])).toBeGreaterThan(0);
  });

  it('holds the messaging bucket at 5 per second, refusing without consuming', async () => {
    context = await createTestContext('sqlite');
    const ctx = context;
    const codes = await statuses(7, () => ctx.call('POST', MESSAGING, {}));
    expect(codes.filter((code) => code !== 429)).toHaveLength(5);
    expect(codes.slice(5)).toEqual([429, 429]);
    const refused = await ctx.call('POST', MESSAGING, {});
    expect(refused.headers['retry-after']).toBe('1');
    ctx.clock.advance(999);
    expect((await ctx.call('POST', MESSAGING, {})).statusCode).toBe(429);
    ctx.clock.advance(1);
    expect((await ctx.call('POST', MESSAGING, {})).statusCode).not.toBe(429);
    // Not a messaging route: unaffected by the messaging bucket.
    expect((await ctx.call('GET', PLAIN)).statusCode).toBe(200);
  });

  it('holds 100 per minute across second boundaries', async () => {
    context = await createTestContext('sqlite', { RATE_LIMIT_PER_KEY: '100000', RATE_LIMIT_PER_IP: '100000' });
    let admitted = 0;
    for (let second = 0; second < 30; second++) {
      for (let i = 0; i < 5; i++) if ((await context.call('POST', MESSAGING, {})).statusCode !== 429) admitted++;
      context.clock.advance(1000);
    }
    expect(admitted).toBe(100);
  });
});

describe.skipIf(!redisUrl)('rate limits over HTTP (Redis store)', () => {
  it('shares the per-key and messaging limits between two instances', async () => {
    context = await createTestContext('sqlite', { REDIS_URL: redisUrl!, RATE_LIMIT_PER_KEY: '6' });
    const first = context;
    const second = await createSecondInstance(first);
    try {
      const calls = [first.call, second.call];
      const messaging = await statuses(8, () => calls[Math.floor(Math.random() * 2)]('POST', MESSAGING, {}));
      expect(messaging.filter((code) => code !== 429)).toHaveLength(5);
      // 5 admitted by the messaging bucket, 8 requests seen by the per-key limit of 6: 6 admitted in all.
      const plain = await statuses(2, () => second.call('GET', PLAIN));
      expect(plain).toEqual([429, 429]);
      first.clock.advance(60_000);
      expect((await second.call('GET', PLAIN)).statusCode).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('fails open for per-IP and per-key limits and falls back to a local messaging limit when Redis is unreachable', async () => {
    context = await createTestContext('sqlite', { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_PER_KEY: '2' });
    const ctx = context;
    expect(await statuses(4, () => ctx.call('GET', PLAIN))).toEqual([200, 200, 200, 200]);
    const messaging = await statuses(7, () => ctx.call('POST', MESSAGING, {}));
    expect(messaging.filter((code) => code !== 429)).toHaveLength(5);
    const metrics = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/openmumble_rate_limit_fallbacks_total\{bucket="key"\} [1-9]/);
    expect(metrics.body).toMatch(/openmumble_rate_limit_fallbacks_total\{bucket="messaging"\} [1-9]/);
  });
});
