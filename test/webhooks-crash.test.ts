import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from './processes.js';
import { startReceiver, verifyStandardWebhook, type Receiver } from './webhooks-receiver.js';

const API_KEY = `om_live_${'c'.repeat(43)}`;
const KILLED = { code: null, signal: 'SIGKILL' };

/** The server from source on the temp database: one process, so kill -9 takes the whole server. */
const startServer = (env: Record<string, string>) =>
  startServerProcess({
    env: { OPENMUMBLE_API_KEY: API_KEY, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT: '1s', JOBS_POLL_INTERVAL: '100ms', ...env },
  });

async function call(server: ServerProcess, endpoint: string, payload: unknown) {
  const response = await fetch(`${server.url}/mumbleapi/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'mumble-api-key': API_KEY },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('webhook delivery survives kill -9 (server child processes on one SQLite file)', () => {
  let dir: string;
  let receiver: Receiver;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmumble-crash-'));
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers an event committed before a kill -9, also when the kill hits mid-delivery', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'openmumble.db')}` };
    // The first delivery request never gets an answer: the server that sent it dies waiting.
    receiver.answer = (_request, index) => (index === 0 ? { hang: true } : { status: 200 });

    // 1. An instance that only serves HTTP commits the change (and its outbox event), then dies.
    const first = await startServer({ ...env, JOBS_WORKER: 'false' });
    servers.push(first);
    const added = await call(first, 'add-webhook', { url: `${receiver.url}/hook`, events: ['customer.created'] });
    expect(added.status).toBe(200);
    const secret = added.body.webhook.secret as string;
    const webhookId = added.body.webhook.id as string;
    expect((await call(first, 'add-new-customer', { customer_phone: '972501234567', name: 'Crash' })).status).toBe(200);
    expect(await first.stop('SIGKILL')).toEqual(KILLED);
    expect(receiver.received).toHaveLength(0);

    // 2. A worker picks the job up and is killed while its request is in flight.
    const second = await startServer(env);
    servers.push(second);
    await receiver.waitFor(1, 30_000);
    expect(await second.stop('SIGKILL')).toEqual(KILLED);

    // 3. After a restart the job's lease runs out and the event is delivered.
    const third = await startServer(env);
    servers.push(third);
    await receiver.waitFor(2, 60_000);
    const [lost, delivered] = receiver.received;
    expect(delivered!.headers['webhook-id']).toBe(lost!.headers['webhook-id']);
    expect(verifyStandardWebhook(secret, delivered!.headers, delivered!.body)).toBe(true);
    expect(JSON.parse(delivered!.body)).toMatchObject({ type: 'customer.created', data: { phone: '972501234567', name: 'Crash' } });

    let listed: Record<string, any> = {};
    for (let i = 0; i < 100; i += 1) {
      listed = (await call(third, 'get-webhook-deliveries', { webhook_id: webhookId })).body;
      if (listed.deliveries?.[0]?.status === 'succeeded') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(listed.deliveries).toHaveLength(1);
    expect(listed.deliveries[0]).toMatchObject({ status: 'succeeded', attempts: [{ number: 1, response_status: 200 }] });
    expect(await third.stop('SIGKILL')).toEqual(KILLED);
  }, 120_000);
});
