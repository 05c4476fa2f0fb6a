import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, postgresUrl, type ScratchDatabase } from './helpers.js';
import { startInstances, type ServerProcess } from './processes.js';
import { openSse, type SseEvent, type SseStream } from './sse-client.js';

/**
 * Two server processes on one PostgreSQL: a change made through the Mumble API on one instance
 * reaches a browser streaming live events from the other within a second (LISTEN/NOTIFY).
 */
const API_KEY = `om_live_${'liveevents'.repeat(5)}`;
const ADMIN_TOKEN = 'admin-token-for-live-scale-out';
const PASSWORD = 'correct horse battery';

describe.skipIf(!postgresUrl)('live events across two instances on PostgreSQL', () => {
  let database: ScratchDatabase;
  let instances: ServerProcess[] = [];
  const streams: SseStream[] = [];
  let cookie: string;

  const mumble = (instance: ServerProcess, endpoint: string, body: unknown) =>
    fetch(`${instance.url}/mumbleapi/${endpoint}`, { method: 'POST', headers: { 'mumble-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    database = await createScratchDatabase('postgres');
    const env = {
      DATABASE_URL: database.url,
      OPENMUMBLE_API_KEY: API_KEY,
      OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN,
      RATE_LIMIT_PER_IP: '100000',
      RATE_LIMIT_PER_KEY: '100000',
      LIVE_HEARTBEAT_INTERVAL: '1s',
    };
    instances = await startInstances(database, env);
    const [a, b] = instances;
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const { accounts } = (await (await fetch(`${a!.url}/admin/v1/accounts`, { headers: admin })).json()) as { accounts: Array<{ id: string }> };
    const created = await fetch(`${a!.url}/admin/v1/accounts/${accounts[0]!.id}/agents`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'Maya', email: 'maya@example.com', role: 'admin', password: PASSWORD }),
    });
    expect(created.status).toBe(201);
    // Signed in on B, as a browser behind a load balancer might be.
    const signedIn = await fetch(`${b!.url}/app/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-openmumble-csrf': '1' },
      body: JSON.stringify({ email: 'maya@example.com', password: PASSWORD }),
    });
    expect(signedIn.status).toBe(200);
    cookie = signedIn.headers.getSetCookie().find((line) => line.startsWith('om_session='))!.split(';')[0]!;
    expect((await mumble(a!, 'add-new-label', { label_name: 'vip' })).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await Promise.all(instances.map((instance) => instance.stop()));
    await database?.drop();
  });

  async function listen(instance: ServerProcess): Promise<SseStream> {
    const stream = await openSse(`${instance.url}/app/api/events`, { cookie });
    streams.push(stream);
    expect(stream.status).toBe(200);
    await stream.next((event) => event.event === 'ready', 'the stream to be ready');
    return stream;
  }

  /** How long after `change` answered the stream had the matching event. */
  async function delivery(stream: SseStream, change: () => Promise<Response>, matches: (event: SseEvent) => boolean): Promise<number> {
    const response = await change();
    expect(response.status).toBe(200);
    // Committed before the reply: from here the clock runs.
    const answered = performance.now();
    await stream.next(matches, 'the event from the other instance', 5_000);
    return performance.now() - answered;
  }

  it('delivers a label added on A to a stream on B within a second', async () => {
    const [a, b] = instances;
    const stream = await listen(b!);
    const phone = '972509990001';
    expect((await mumble(a!, 'add-new-customer', { customer_phone: phone, name: 'Noa' })).status).toBe(200);
    const elapsed = await delivery(
      stream,
      () => mumble(a!, 'add-customer-to-label', { customer_phone: phone, label_name: 'vip' }),
      (event) => event.event === 'conversation.labels' && event.data.action === 'added',
    );
    expect(elapsed).toBeLessThan(1_000);
  });

  it('delivers an inbound message and a reply sent on A, in order, to streams on both instances', async () => {
    const [a, b] = instances;
    const [onA, onB] = [await listen(a!), await listen(b!)];
    const phone = '972509990002';
    const inbound = (event: SseEvent) => event.event === 'message.created' && event.data.message.text === 'Is my order on its way?';
    expect(await delivery(onB, () => mumble(a!, 'sandbox/receive-message', { customer_phone: phone, text: 'Is my order on its way?', name: 'Omer' }), inbound)).toBeLessThan(1_000);
    const reply = (event: SseEvent) => event.event === 'message.created' && event.data.message.text === 'It is, arriving tomorrow';
    expect(await delivery(onB, () => mumble(a!, 'send-text-message', { customer_phone: phone, text: 'It is, arriving tomorrow' }), reply)).toBeLessThan(1_000);
    for (const stream of [onA, onB]) {
      await stream.next(reply, 'the reply');
      const texts = stream.ofType('message.created').map((event) => event.data.message.text);
      expect(texts).toEqual(['Is my order on its way?', 'It is, arriving tomorrow']);
      // Ids name events across instances: the same event has the same id on both.
      expect(stream.ofType('message.created').map((event) => event.id)).toEqual(onA.ofType('message.created').map((event) => event.id));
    }
  });

  it('resumes on A a stream that was on B, from its Last-Event-ID', async () => {
    const [a, b] = instances;
    const onB = await listen(b!);
    const phone = '972509990003';
    expect((await mumble(a!, 'add-new-customer', { customer_phone: phone, name: 'Tal' })).status).toBe(200);
    expect((await mumble(a!, 'add-customer-to-label', { customer_phone: phone, label_name: 'vip' })).status).toBe(200);
    const last = await onB.next((event) => event.event === 'conversation.labels' && event.data.action === 'added' && onB.ofType('conversation.labels').length === 1, 'the label');
    onB.close();
    const removed = await fetch(`${a!.url}/mumbleapi/remove-customer-from-label`, {
      method: 'DELETE',
      headers: { 'mumble-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ customer_phone: phone, label_name: 'vip' }),
    });
    expect(removed.status).toBe(200);
    const resumed = await openSse(`${a!.url}/app/api/events`, { cookie, 'last-event-id': last.id! });
    streams.push(resumed);
    await resumed.next((event) => event.event === 'ready', 'the resumed stream');
    expect(resumed.ofType('conversation.labels').map((event) => event.data.action)).toContain('removed');
  });
});
