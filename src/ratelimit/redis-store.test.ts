import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MESSAGING_RULES, type Rule } from './limiter.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import { ResilientStore } from './resilient-store.js';

// The shared behaviour suite runs on Redis in stores.test.ts; this file covers what is Redis's own:
// keys, instances sharing limits, and outages. Outage tests assert that checks settle at all
// (within vitest's timeout), never how fast: the clock is injected everywhere.

const T0 = 1_700_000_000_000;
const FIVE_PER_SECOND: Rule[] = [{ limit: 5, windowMs: 1_000 }];
const UNREACHABLE_URL = 'redis://127.0.0.1:1';

describe.skipIf(!process.env.TEST_REDIS_URL)('RedisStore on a live Redis', () => {
  const keyPrefix = `test:openmumble:ratelimit:${randomUUID()}:`;
  let admin: Redis;
  let instanceA: RedisStore;
  let instanceB: RedisStore;

  beforeAll(async () => {
    const url = process.env.TEST_REDIS_URL!;
    admin = new Redis(url);
    instanceA = new RedisStore({ url, keyPrefix });
    instanceB = new RedisStore({ url, keyPrefix });
    await Promise.all([instanceA.connect(), instanceB.connect()]);
  });

  afterAll(async () => {
    instanceA.close();
    instanceB.close();
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it('shares one limit between instances, even within one millisecond', async () => {
    const checks = Array.from({ length: 12 }, (_, i) =>
      (i % 2 === 0 ? instanceA : instanceB).check('shared', FIVE_PER_SECOND, T0),
    );
    const results = await Promise.all(checks);
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    expect(await admin.zcard(`${keyPrefix}shared`)).toBe(5);
  });

  it('expires a key after its longest window, and prunes what has left it', async () => {
    await instanceA.check('ttl', MESSAGING_RULES, T0);
    const ttl = await admin.pttl(`${keyPrefix}ttl`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    await instanceA.check('ttl', MESSAGING_RULES, T0 + 3_600_000);
    expect(await admin.zcard(`${keyPrefix}ttl`)).toBe(1);
  });

  it('records nothing for a refused request', async () => {
    for (let i = 0; i < 8; i++) await instanceA.check('refused', FIVE_PER_SECOND, T0);
    expect(await admin.zcard(`${keyPrefix}refused`)).toBe(5);
  });
});

/** Accepts connections and completes ioredis's handshake, then never answers a script: a hung Redis. */
async function startHungRedis(): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => {}); // the client hangs up when closed
    socket.on('data', (chunk) => {
      for (const [, command] of chunk.toString().matchAll(/\*\d+\r\n\$\d+\r\n(\w+)\r\n/g)) {
        const name = command.toLowerCase();
        if (name === 'info') socket.write('$0\r\n\r\n');
        else if (name !== 'evalsha' && name !== 'eval') socket.write('+OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('RedisStore when Redis is down', () => {
  let hungServer: Server;
  let hungUrl: string;
  const stores: RedisStore[] = [];
  const makeStore = (url: string) => {
    const store = new RedisStore({ url, commandTimeoutMs: 50 });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    hungServer = await startHungRedis();
    hungUrl = `redis://127.0.0.1:${(hungServer.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const store of stores) store.close();
    await new Promise((resolve) => hungServer.close(resolve));
  });

  it('rejects checks at once when Redis is unreachable', async () => {
    const store = makeStore(UNREACHABLE_URL);
    await expect(store.connect()).rejects.toThrow();
    await expect(store.check('k', FIVE_PER_SECOND, T0)).rejects.toThrow();
    await expect(store.check('k', FIVE_PER_SECOND, T0)).rejects.toThrow();
  });

  it('rejects a check that Redis never answers', async () => {
    const store = makeStore(hungUrl);
    await store.connect();
    await expect(store.check('k', FIVE_PER_SECOND, T0)).rejects.toThrow('Command timed out');
  });

  it("fails open behind a ResilientStore in 'open' mode", async () => {
    for (const url of [UNREACHABLE_URL, hungUrl]) {
      const onFallback = vi.fn();
      const store = new ResilientStore({ primary: makeStore(url), fallback: { failMode: 'open' }, onFallback });
      for (let i = 0; i < 8; i++) expect((await store.check('k', FIVE_PER_SECOND, T0)).allowed).toBe(true);
      expect(onFallback).toHaveBeenCalledTimes(8);
    }
  });

  it("limits in this process behind a ResilientStore in 'local' mode", async () => {
    for (const url of [UNREACHABLE_URL, hungUrl]) {
      const onFallback = vi.fn();
      const store = new ResilientStore({
        primary: makeStore(url),
        fallback: { failMode: 'local', local: new MemoryStore() },
        onFallback,
      });
      let admitted = 0;
      for (let i = 0; i < 8; i++) if ((await store.check('k', FIVE_PER_SECOND, T0)).allowed) admitted++;
      expect(admitted).toBe(5);
      expect(onFallback).toHaveBeenCalledTimes(8);
    }
  });
});
