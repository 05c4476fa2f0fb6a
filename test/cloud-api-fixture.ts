/**
 * An app whose account is connected to the WhatsApp Cloud API, with our Graph API simulator behind
 * it and a jobs worker the test runs by hand (a manual clock decides what is due; nothing sleeps).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { MockAgent } from 'undici';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { buildApp } from '../src/app.js';
import { cloudApiChannelFor } from '../src/modules/whatsapp/whatsapp.channel.js';
import { createCloudApiRuntime } from '../src/channels/cloud-api/runtime.js';
import { closeDeps, createDeps } from '../src/compose.js';
import { createLogger } from '../src/deps.js';
import { JobWorker } from '../src/jobs/worker.js';
import { sendRetryJobHandler, webhookJobHandler } from '../src/modules/whatsapp/whatsapp.jobs.js';
import { connectChannel } from '../src/modules/whatsapp/whatsapp.service.js';
import { UNLIMITED } from './api.js';
import { GraphSimulator, inboundDelivery, metaSignature, type ChannelIds } from './graph-simulator.js';
import { createTestContext, createTestDatabase, testConfig, type DatabaseKind, type TestContext } from './helpers.js';
import { mediaSample } from './media-samples.js';
import { ACCOUNT_ID, RecordedEvents, type ChannelHarness } from './recorded-events.js';

export const APP_SECRET = 'meta-app-secret-for-tests';
export const VERIFY_TOKEN = 'verify-token-for-tests';
export const SECRET_KEY = 'openmumble-secret-key-for-the-cloud-api-tests';
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
export const ACCESS_TOKEN = 'EAAG-simulated-system-user-token';
export const APP_ID = '987654321';

export interface CloudApiFixture {
  ctx: TestContext;
  simulator: GraphSimulator;
  worker: JobWorker;
  ids: Required<ChannelIds>;
  /** Connects an account to a number through the admin API. */
  connect(accountId: string, ids: Required<ChannelIds>, token?: string): Promise<LightMyRequestResponse>;
  /** POSTs a signed webhook (as Meta does) to our endpoint. */
  webhook(payload: unknown, signature?: string | null): Promise<LightMyRequestResponse>;
  /** A signed webhook, then every due job. */
  deliver(payload: unknown): Promise<void>;
  /** A customer writes (text unless `message` says otherwise), at the test clock's time; returns the wamid. */
  customerWrites(phone: string, name?: string, message?: Record<string, unknown>): Promise<string>;
  /**
   * A messaging endpoint call (send-*), after moving the clock 1.5 s: the contract's messaging
   * bucket (5/s, 100/min per key) is not configurable, and the test clock otherwise stands still.
   */
  send(endpoint: string, payload: Record<string, unknown>, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  runJobs(): Promise<number>;
  close(): Promise<void>;
}

export async function createCloudApiFixture(kind: DatabaseKind, env: Record<string, string> = {}): Promise<CloudApiFixture> {
  const simulator = await GraphSimulator.start();
  simulator.validTokens.add(ACCESS_TOKEN);
  const ctx = await createTestContext(kind, {
    ...UNLIMITED,
    WHATSAPP_GRAPH_URL: simulator.url,
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
    WHATSAPP_APP_ID: APP_ID,
    WHATSAPP_GRAPH_TIMEOUT_MS: '500',
    OPENMUMBLE_SECRET_KEY: SECRET_KEY,
    OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN,
    SANDBOX_STATUS_DELAY_MS: '0',
    ...env,
  });
  const worker = new JobWorker(ctx.deps, [webhookJobHandler(ctx.deps, ctx.deps.whatsapp), sendRetryJobHandler(ctx.deps, ctx.deps.whatsapp)], { name: 'test' });
  const ids = { phoneNumberId: '106540352242922', wabaId: '102290129340398', displayPhoneNumber: '15550783881' };

  const connect = (accountId: string, channel: Required<ChannelIds>, token = ACCESS_TOKEN) =>
    ctx.app.inject({
      method: 'PUT',
      url: `/admin/v1/accounts/${accountId}/whatsapp`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { phone_number_id: channel.phoneNumberId, waba_id: channel.wabaId, display_phone_number: channel.displayPhoneNumber, access_token: token },
    });
  const connected = await connect(ctx.accountId, ids);
  if (connected.statusCode !== 200) throw new Error(`connect failed: ${connected.body}`);

  const webhook = (payload: unknown, signature?: string | null) => {
    const raw = JSON.stringify(payload);
    const sig = signature === undefined ? metaSignature(raw, APP_SECRET) : signature;
    return ctx.app.inject({
      method: 'POST',
      url: '/webhooks/whatsapp',
      headers: { 'content-type': 'application/json', ...(sig !== null && { 'x-hub-signature-256': sig }) },
      payload: raw,
    });
  };
  const runJobs = () => worker.runDue();
  const deliver = async (payload: unknown) => {
    const response = await webhook(payload);
    if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode}: ${response.body}`);
    await runJobs();
  };
  return {
    ctx,
    simulator,
    worker,
    ids,
    connect,
    webhook,
    deliver,
    runJobs,
    send: (endpoint, payload, headers) => {
      ctx.clock.advance(1_500);
      return ctx.call('POST', `/mumbleapi/${endpoint}`, payload, headers);
    },
    customerWrites: async (phone, name = 'Dana Levi', message = { type: 'text', text: { body: 'Hello!' } }) => {
      const { payload, wamid } = inboundDelivery(ids, { phone, name }, message, { timestamp: Math.floor(ctx.clock.now().getTime() / 1000) });
      await deliver(payload);
      return wamid;
    },
    close: async () => {
      await worker.stop();
      await ctx.close();
      await simulator.close();
    },
  };
}

/**
 * A suite on one fixture: made before the suite (with `env` on top of the fixture's settings), closed
 * after it, and the simulator's record cleared before each test. `fixture` hands it to the suite.
 */
export function setUpCloudApiSuite(kind: DatabaseKind, set: { env?: Record<string, string>; fixture(f: CloudApiFixture): void }): void {
  let fixture: CloudApiFixture | undefined;
  beforeAll(async () => {
    fixture = await createCloudApiFixture(kind, set.env);
    set.fixture(fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });
  beforeEach(() => fixture!.simulator.reset());
}

/**
 * The channel contract's harness for the Cloud API channel (see src/channels/channel.contract.test.ts):
 * a CloudApiChannel of ACCOUNT_ID against the Graph API simulator, which answers each accepted
 * message with signed status webhooks to our real webhook endpoint (listening on 127.0.0.1); the
 * webhook job reports to the recorded events. A template's header sample at https://example.com is
 * answered by an undici MockAgent (no traffic leaves the machine).
 */
export async function createCloudApiContractHarness(): Promise<ChannelHarness> {
  const simulator = await GraphSimulator.start();
  simulator.validTokens.add(ACCESS_TOKEN);
  const testDatabase = await createTestDatabase('sqlite');
  const mediaDir = mkdtempSync(join(tmpdir(), 'openmumble-contract-media-'));
  const config = testConfig({
    DATABASE_URL: testDatabase.url,
    MEDIA_DIR: mediaDir,
    WHATSAPP_GRAPH_URL: simulator.url,
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_APP_ID: APP_ID,
    OPENMUMBLE_SECRET_KEY: SECRET_KEY,
    WHATSAPP_GRAPH_TIMEOUT_MS: '5000',
  });
  const publicWeb = new MockAgent();
  publicWeb.disableNetConnect();
  publicWeb
    .get('https://example.com')
    .intercept({ path: /.*/, method: 'GET' })
    .reply(200, mediaSample('jpg', 2048), { headers: { 'content-type': 'image/jpeg' } })
    .persist();
  const runtime = createCloudApiRuntime(config, publicWeb);
  const deps = createDeps(config, { database: testDatabase.database, logger: createLogger('silent'), whatsapp: runtime });
  await deps.database.db.insertInto('accounts').values({ id: ACCOUNT_ID, name: 'Contract', created_at: new Date().toISOString() }).execute();
  const ids = { phone_number_id: '106540352242922', waba_id: '102290129340398', display_phone_number: '15550783881', access_token: ACCESS_TOKEN };
  await connectChannel(deps, ACCOUNT_ID, ids);
  simulator.displayNumbers.set(ids.phone_number_id, ids.display_phone_number);
  const app = await buildApp(deps);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  simulator.webhookTarget = { url: `${address}/webhooks/whatsapp`, appSecret: APP_SECRET };
  simulator.autoStatuses = true;
  const events = new RecordedEvents();
  const worker = new JobWorker(deps, [webhookJobHandler(deps, runtime, events)], { name: 'contract' });
  const channel = await cloudApiChannelFor(deps, ACCOUNT_ID);
  return {
    channel,
    events,
    settle: async () => {
      await simulator.flushWebhooks();
      await worker.runDue();
    },
    storeMedia: async (extension, content) => {
      const staged = await deps.media.stage(Readable.from([content]), extension);
      await deps.media.commit(staged);
      return staged.key;
    },
    approveTemplate: async (_template, submission) => simulator.reviewTemplate(submission.providerTemplateId, 'APPROVED'),
    close: async () => {
      await simulator.flushWebhooks().catch(() => {});
      await worker.stop();
      await app.close();
      await closeDeps(deps);
      await testDatabase.drop();
      rmSync(mediaDir, { recursive: true, force: true });
      await simulator.close();
    },
  };
}
