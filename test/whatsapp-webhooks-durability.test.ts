/**
 * Durable before acknowledged, with real server processes:
 * - a server killed with SIGKILL after answering 200 but before processing loses no event: a new
 *   process finds the stored deliveries and their jobs and processes every one;
 * - two servers on one PostgreSQL share the webhook work, and each delivery is processed once.
 * All traffic stays on 127.0.0.1 (the Graph API simulator stands in for Meta).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphSimulator, inboundDelivery, sendWebhook, statusDelivery } from './graph-simulator.js';
import { createScratchDatabase, describeEachDatabase, postgresUrl, until, type DatabaseKind, type ScratchDatabase } from './helpers.js';
import { startServerProcess, type ServerProcess } from './processes.js';

const APP_SECRET = 'durability-app-secret';
const ADMIN_TOKEN = 'durability-admin-token-0123456789';
const API_KEY = `om_live_${'durabilitytest'.repeat(3)}`;
const ACCESS_TOKEN = 'EAAG-durability-token';
const IDS = { phoneNumberId: '106540352242922', wabaId: '102290129340398', displayPhoneNumber: '15550783881' };

/** The settings of a server process on the shared database (a SQLite file, or a PostgreSQL schema). */
function serverEnv(store: ScratchDatabase, simulator: GraphSimulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: store.url,
    MEDIA_DIR: join(store.dir, 'media'),
    OPENMUMBLE_API_KEY: API_KEY,
    OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN,
    OPENMUMBLE_SECRET_KEY: 'durability-secret-key-with-enough-characters',
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: 'durability-verify',
    WHATSAPP_GRAPH_URL: simulator.url,
    RATE_LIMIT_PER_IP: '1000000',
    RATE_LIMIT_PER_KEY: '1000000',
    JOBS_POLL_INTERVAL: '100ms',
    ...extra,
  };
}

async function connectNumber(server: ServerProcess): Promise<void> {
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const accounts = (await (await fetch(`${server.url}/admin/v1/accounts`, { headers })).json()) as { accounts: Array<{ id: string }> };
  const response = await fetch(`${server.url}/admin/v1/accounts/${accounts.accounts[0].id}/whatsapp`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ phone_number_id: IDS.phoneNumberId, waba_id: IDS.wabaId, display_phone_number: IDS.displayPhoneNumber, access_token: ACCESS_TOKEN }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** How long and how often to look for the processing to finish. */
const PROCESSING = { limitMs: 30_000, everyMs: 50 };

const customerPhone = (i: number) => `9725300${String(10_000 + i).slice(-5)}`;

interface Surroundings {
  simulator: GraphSimulator;
  store: ScratchDatabase;
  /** The suite's server processes, killed after it. */
  servers: ServerProcess[];
}

/** What a suite's server processes run among: the Graph API simulator and the database they share. */
function setUpSurroundings(kind: DatabaseKind, set: (surroundings: Surroundings) => void): void {
  let surroundings: Surroundings | undefined;
  beforeAll(async () => {
    const simulator = await GraphSimulator.start();
    simulator.validTokens.add(ACCESS_TOKEN);
    surroundings = { simulator, store: await createScratchDatabase(kind), servers: [] };
    set(surroundings);
  });
  afterAll(async () => {
    if (!surroundings) return;
    await Promise.all(surroundings.servers.map((server) => server.stop('SIGKILL')));
    await surroundings.simulator.close();
    await surroundings.store.drop();
  });
}

describeEachDatabase('WhatsApp webhooks survive a SIGKILL between the 200 and the processing', (kind) => {
  let simulator: GraphSimulator;
  let store: ScratchDatabase;
  let servers: ServerProcess[];
  setUpSurroundings(kind, (value) => ({ simulator, store, servers } = value));

  it('every acknowledged delivery is processed after a restart, once', async () => {
    // The first process acknowledges but does not process (its jobs worker is off), then dies hard:
    // exactly the window between the 200 and the processing.
    const first = await startServerProcess({ env: serverEnv(store, simulator, { JOBS_WORKER: 'false' }) });
    servers.push(first);
    await connectNumber(first);
    const target = { url: `${first.url}/webhooks/whatsapp`, appSecret: APP_SECRET };
    const wamids: string[] = [];
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 8; i++) {
      const { payload, wamid } = inboundDelivery(IDS, { phone: customerPhone(i), name: `Customer ${i}` }, { type: 'text', text: { body: `message ${i}` } }, { timestamp: now });
      wamids.push(wamid);
      expect((await sendWebhook(target, payload)).status).toBe(200);
      // Meta retries: the same delivery again is acknowledged and stored once.
      if (i % 3 === 0) expect((await sendWebhook(target, payload)).status).toBe(200);
    }
    const mediaId = simulator.addMedia(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]), 'image/jpeg');
    const image = inboundDelivery(IDS, { phone: customerPhone(99), name: 'Photo' }, { type: 'image', image: { id: mediaId, mime_type: 'image/jpeg', caption: 'pic' } }, { timestamp: now });
    wamids.push(image.wamid);
    expect((await sendWebhook(target, image.payload)).status).toBe(200);

    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });

    const database = store.open();
    try {
      const stored = await database.db.selectFrom('whatsapp_webhook_inbox').select(['id', 'processed_at']).execute();
      expect(stored).toHaveLength(9);
      expect(stored.every((row) => row.processed_at === null)).toBe(true);
      expect(await database.db.selectFrom('messages').selectAll().execute()).toEqual([]);

      const second = await startServerProcess({ env: serverEnv(store, simulator) });
      servers.push(second);
      await until(async () => {
        const open = await database.db.selectFrom('whatsapp_webhook_inbox').select('id').where('processed_at', 'is', null).execute();
        return open.length === 0;
      }, 'every stored delivery processed', PROCESSING);

      const messages = await database.db.selectFrom('messages').select(['message_wa_id', 'text', 'media_key']).where('direction', '=', 'inbound').execute();
      expect(messages.map((m) => m.message_wa_id).sort()).toEqual([...wamids].sort());
      expect(messages.find((m) => m.message_wa_id === image.wamid)?.media_key).toMatch(/\.jpg$/);
      const counts = await database.db.selectFrom('whatsapp_webhook_inbox').select('process_count').execute();
      expect(counts.map((row) => Number(row.process_count))).toEqual(Array(9).fill(1));
      const conversation = await fetch(`${second.url}/mumbleapi/get-conversation?customer_phone=${customerPhone(3)}`, { headers: { 'mumble-api-key': API_KEY } });
      expect(((await conversation.json()) as { messages: Array<{ text: string }> }).messages.map((m) => m.text)).toEqual(['message 3']);
    } finally {
      await database.close();
    }
  });
});

describe.skipIf(!postgresUrl)('two instances on one PostgreSQL share the WhatsApp webhook work', () => {
  let simulator: GraphSimulator;
  let store: ScratchDatabase;
  let servers: ServerProcess[];
  setUpSurroundings('postgres', (value) => ({ simulator, store, servers } = value));

  beforeAll(async () => {
    // One after the other: the first start creates the default account (and migrates).
    servers.push(await startServerProcess({ env: serverEnv(store, simulator, { JOBS_CONCURRENCY: '2' }) }));
    servers.push(await startServerProcess({ env: serverEnv(store, simulator, { JOBS_CONCURRENCY: '2' }) }));
    await connectNumber(servers[0]);
  }, 120_000);

  it('each delivery is processed exactly once, by one of them, and both take part', async () => {
    const now = Math.floor(Date.now() / 1000);
    const deliveries = Array.from({ length: 40 }, (_, i) =>
      inboundDelivery(IDS, { phone: customerPhone(i % 10), name: `Customer ${i % 10}` }, { type: 'text', text: { body: `shared ${i}` } }, { timestamp: now }),
    );
    // Every delivery reaches both instances (a retry through the load balancer), in parallel.
    await Promise.all(
      deliveries.flatMap(({ payload }, i) => [
        sendWebhook({ url: `${servers[i % 2].url}/webhooks/whatsapp`, appSecret: APP_SECRET }, payload),
        sendWebhook({ url: `${servers[(i + 1) % 2].url}/webhooks/whatsapp`, appSecret: APP_SECRET }, payload),
      ]),
    ).then((answers) => expect(answers.map((a) => a.status)).toEqual(Array(80).fill(200)));
    // And statuses for a message neither knows, to both.
    for (const status of ['read', 'sent', 'delivered'] as const) {
      const payload = statusDelivery(IDS, { wamid: 'wamid.UNKNOWN-SHARED', status, recipient: customerPhone(0), timestamp: now });
      for (const server of servers) expect((await sendWebhook({ url: `${server.url}/webhooks/whatsapp`, appSecret: APP_SECRET }, payload)).status).toBe(200);
    }

    const database = store.open();
    try {
      await until(async () => {
        const rows = await database.db.selectFrom('whatsapp_webhook_inbox').select('processed_at').execute();
        return rows.length === 43 && rows.every((row) => row.processed_at !== null);
      }, 'every delivery processed', PROCESSING);
      const rows = await database.db.selectFrom('whatsapp_webhook_inbox').select(['process_count', 'processed_by']).execute();
      expect(rows.map((row) => Number(row.process_count))).toEqual(Array(43).fill(1));
      expect(new Set(rows.map((row) => row.processed_by)).size).toBe(2);
      const messages = await database.db.selectFrom('messages').select('message_wa_id').where('direction', '=', 'inbound').execute();
      expect(messages.map((m) => m.message_wa_id).sort()).toEqual(deliveries.map((d) => d.wamid).sort());
      expect(await database.db.selectFrom('jobs').selectAll().where('type', '=', 'whatsapp.webhook').execute()).toEqual([]);
    } finally {
      await database.close();
    }
  });
});
