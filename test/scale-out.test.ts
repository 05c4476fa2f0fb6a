import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, postgresUrl, redisUrl, type ScratchDatabase } from './helpers.js';
import { startInstances, startProxy, type CuttableProxy, type ServerProcess } from './processes.js';

/**
 * Two server processes on one PostgreSQL and one Redis (reached through a proxy the test can cut):
 * limits hold across instances, and a Redis outage gives the documented behaviour, not hung requests.
 */
const API_KEY = `om_live_${'scaleouttest'.repeat(4)}`;
const PER_KEY = 60;

describe.skipIf(!postgresUrl || !redisUrl)('two instances on PostgreSQL and Redis', () => {
  let database: ScratchDatabase;
  let proxy: CuttableProxy;
  let instances: ServerProcess[] = [];

  beforeAll(async () => {
    proxy = await startProxy(Number(new URL(redisUrl!).port || 6379), new URL(redisUrl!).hostname);
    database = await createScratchDatabase('postgres');
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      OPENMUMBLE_API_KEY: API_KEY,
      RATE_LIMIT_PER_KEY: String(PER_KEY),
      RATE_LIMIT_PER_IP: '100000',
    };
    instances = await startInstances(database, env);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await database?.drop();
  });

  const request = (instance: ServerProcess, path: string, method = 'GET') =>
    fetch(`${instance.url}${path}`, { method, headers: { 'mumble-api-key': API_KEY, 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });

  it('serves the same data from both instances', async () => {
    const created = await fetch(`${instances[0].url}/mumbleapi/add-new-label`, {
      method: 'POST',
      headers: { 'mumble-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ label_name: 'shared' }),
    });
    expect(created.status).toBe(200);
    const listed = (await (await request(instances[1], '/mumbleapi/get-labels')).json()) as { labels: string[] };
    expect(listed.labels).toEqual(['shared']);
  });

  it('admits at most 5 messaging requests per second across both instances', async () => {
    const started = performance.now();
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => request(instances[i % 2], '/mumbleapi/send-text-message', 'POST')));
    const seconds = (performance.now() - started) / 1000;
    const admitted = replies.filter((reply) => reply.status !== 429).length;
    // Every admission happened between the first send and the last reply: an interval of `seconds`,
    // which ceil(seconds) one-second intervals cover, each admitting at most 5.
    expect(admitted).toBeGreaterThanOrEqual(5);
    expect(admitted).toBeLessThanOrEqual(5 * Math.ceil(seconds));
  });

  it('admits exactly the per-key limit across both instances', async () => {
    const replies = await Promise.all(Array.from({ length: PER_KEY }, (_, i) => request(instances[i % 2], '/mumbleapi/get-teams')));
    const admitted = replies.filter((reply) => reply.status === 200).length;
    // The two previous tests used 2 + 30 requests of this minute's budget.
    expect(admitted).toBe(PER_KEY - 32);
    expect(replies.filter((reply) => reply.status === 429)).toHaveLength(PER_KEY - admitted);
  });

  it('keeps answering when Redis stops: per-key limits fail open, messaging falls back per process', async () => {
    await proxy.cut();
    const plain = await Promise.all(Array.from({ length: 10 }, (_, i) => request(instances[i % 2], '/mumbleapi/get-teams')));
    expect(plain.map((reply) => reply.status)).toEqual(Array(10).fill(200));
    const started = Date.now();
    const messaging = await Promise.all(Array.from({ length: 30 }, (_, i) => request(instances[i % 2], '/mumbleapi/send-text-message', 'POST')));
    const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
    const admitted = messaging.filter((reply) => reply.status !== 429).length;
    // Each process enforces 5/s on its own: at most 5 per process per second of the burst.
    expect(admitted).toBeGreaterThan(0);
    expect(admitted).toBeLessThanOrEqual(2 * 5 * seconds);
    expect(messaging.some((reply) => reply.status === 429)).toBe(true);
    const metrics = await (await fetch(`${instances[0].url}/metrics`)).text();
    expect(metrics).toMatch(/openmumble_rate_limit_fallbacks_total\{bucket="messaging"\} [1-9]/);
  });
});
