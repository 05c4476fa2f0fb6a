/**
 * Flow bots under failure (issue 14): kill -9 at points of a bot step on a real server, duplicate
 * and concurrent steps, two instances on one database, durable timers, and people first (a person
 * who takes over silences a step whose messages are still to go). The functional node-by-node tests
 * are in bots-flow.test.ts; the Cloud API's payloads in bots-cloud-api.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { JobWorker } from '../src/jobs/worker.js';
import { botJobHandlers, runStep } from '../src/modules/bots/bot-runner.js';
import { enqueueBotTimer, type StepPayload } from '../src/modules/bots/bot-jobs.js';
import { createBot } from '../src/modules/bots/bots.service.js';
import { UNLIMITED, addCustomer, api, nextPhone, setUpApiSuite, type Tenant } from './api.js';
import {
  ECHO_FLOW,
  TIMEOUT_FLOW,
  WAIT_FLOW,
  botTexts,
  crashOnCall,
  customerIdOf,
  echoTranscript,
  outboxOf,
  pendingBotJobs,
  sessionOf,
  storedMessages,
} from './bots-helpers.js';
import type { Database } from '../src/db/database.js';
import { createSecondInstance, describeEachDatabase, until, type TestContext } from './helpers.js';
import type { ServerProcess } from './processes.js';
import { KILLED, crashServers } from './crash-servers.js';
import { signedInPerson } from './inbox-helpers.js';

const NAME = 'Dana';

describeEachDatabase('flow bots: durability, concurrency, timers, people first', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let worker: JobWorker;
  const db = () => ctx.deps.database.db;

  setUpApiSuite(kind, {
    context: (value) => {
      ctx = value;
      worker = new JobWorker(ctx.deps, botJobHandlers(ctx.deps), { name: 'bots-test' });
    },
    tenant: (value) => (t = value),
  });

  /** A flow bot of the tenant, and a customer it is assigned to (the customer has not written yet). */
  async function botCustomer(flow: object, phone = nextPhone()): Promise<{ botId: string; phone: string; customerId: string }> {
    const bot = await createBot(ctx.deps, t.accountId, { name: `Bot ${phone}`, flow });
    await addCustomer(t.call, phone, { name: NAME, bot_token: bot.id });
    return { botId: bot.id, phone, customerId: await customerIdOf(db(), t.accountId, phone) };
  }

  async function writes(phone: string, text: string, call = t.call): Promise<void> {
    const response = await call('POST', api('sandbox/receive-message'), { customer_phone: phone, text });
    expect(response.statusCode, response.body).toBe(200);
  }

  /** Runs the due jobs with `target[method]` throwing at its first call (the worker dies there), which must be reached once. */
  async function runDueCrashingAt<T extends object>(target: T, method: keyof T): Promise<void> {
    const crash = crashOnCall(target, method);
    try {
      await worker.runDue();
    } finally {
      crash.restore();
    }
    expect(crash.calls()).toBe(1);
  }

  /** Past any retry backoff of a step that failed (2^attempts s with jitter), then every due job. */
  async function laterRunDue(seconds = 60): Promise<number> {
    ctx.clock.advance(seconds * 1000);
    return worker.runDue();
  }

  describe('crash points inside a step', () => {
    it('a step that dies right after its commit carries the turn out on its retry, once', async () => {
      const { phone, customerId } = await botCustomer(ECHO_FLOW);
      await writes(phone, 'first');
      await runDueCrashingAt(ctx.deps.metrics.botEvents, 'inc');
      // Committed (session and outbox) but nothing carried out yet.
      expect(await botTexts(db(), customerId)).toEqual([]);
      expect(await outboxOf(db(), customerId)).toHaveLength(2);
      expect((await sessionOf(db(), customerId))?.node_id).toBe('ask');

      await laterRunDue();
      expect(await botTexts(db(), customerId)).toEqual(echoTranscript(NAME, ['first']));
      expect(await outboxOf(db(), customerId)).toEqual([]);
      await writes(phone, 'second');
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(echoTranscript(NAME, ['first', 'second']));
    });

    it('a step that dies between two sends does not send the first again', async () => {
      const { phone, customerId } = await botCustomer(ECHO_FLOW);
      await writes(phone, 'first');
      // After the first message is recorded and handed to the channel: the worker dies there.
      await runDueCrashingAt(ctx.deps.metrics.messagesSent, 'inc');
      expect(await botTexts(db(), customerId)).toEqual([`Hello ${NAME}`]);
      await laterRunDue();
      expect(await botTexts(db(), customerId)).toEqual(echoTranscript(NAME, ['first']));
      expect(await pendingBotJobs(db()).then((jobs) => jobs.filter((job) => job.type === 'bot.step'))).toEqual([]);
    });

    it('a step run again after it finished (its completion was lost) changes nothing', async () => {
      const { phone, customerId } = await botCustomer(ECHO_FLOW);
      await writes(phone, 'first');
      const [job] = await db().selectFrom('jobs').select(['id', 'payload']).where('type', '=', 'bot.step').where('payload', 'like', `%${customerId}%`).execute();
      const payload = JSON.parse(job!.payload) as StepPayload;
      await runStep(ctx.deps, payload, Number(job!.id));
      await runStep(ctx.deps, payload, Number(job!.id));
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(echoTranscript(NAME, ['first']));
      const session = await sessionOf(db(), customerId);
      expect(Number(session?.generation)).toBe(1);
    });

    it('the same step run twice at once (a lease that ran out under a slow step) answers once', async () => {
      const { phone, customerId } = await botCustomer(ECHO_FLOW);
      await writes(phone, 'first');
      await worker.runDue();
      await writes(phone, 'second');
      const [job] = await db().selectFrom('jobs').select(['id', 'payload']).where('type', '=', 'bot.step').where('payload', 'like', `%${customerId}%`).execute();
      const payload = JSON.parse(job!.payload) as StepPayload;
      await Promise.all([runStep(ctx.deps, payload, Number(job!.id)), runStep(ctx.deps, payload, Number(job!.id))]);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(echoTranscript(NAME, ['first', 'second']));
    });
  });

  describe('concurrency', () => {
    it('two messages from one customer at once are answered in order, one turn each, with one start', async () => {
      const { phone, customerId } = await botCustomer(ECHO_FLOW);
      await Promise.all([writes(phone, 'one'), writes(phone, 'two')]);
      await worker.runDue();
      const inbound = (await storedMessages(db(), customerId)).filter((m) => m.direction === 'inbound').map((m) => m.text!);
      expect(inbound.sort()).toEqual(['one', 'two']);
      expectEachAnsweredOnce(await botTexts(db(), customerId), inbound);
    });

    it('a running worker with several slots still takes one customer one step at a time', async () => {
      const { phone, customerId } = await botCustomer(ECHO_FLOW);
      const running = new JobWorker(ctx.deps, botJobHandlers(ctx.deps), { name: 'bots-running', concurrency: 4, pollIntervalMs: 20 });
      running.start();
      try {
        const texts = ['a', 'b', 'c', 'd', 'e'];
        await Promise.all(texts.map((text) => writes(phone, text)));
        await until(async () => (await botTexts(db(), customerId)).length >= 2 * texts.length, 'every message answered');
        await running.stop();
        expectEachAnsweredOnce(await botTexts(db(), customerId), texts);
      } finally {
        await running.stop();
      }
    });

    it('two instances with their own workers on one database answer each message once, in order', async () => {
      const second = await createSecondInstance(ctx);
      const workers = [ctx.deps, second.deps].map((deps, i) => new JobWorker(deps, botJobHandlers(deps), { name: `instance-${i}`, concurrency: 4, pollIntervalMs: 20 }));
      const callers = [t.call, (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) => second.app.inject({ method, url, headers: { 'mumble-api-key': t.apiKey }, payload: payload as string })];
      try {
        for (const w of workers) w.start();
        const customers = await Promise.all([0, 1, 2].map(() => botCustomer(ECHO_FLOW)));
        const rounds = ['r1', 'r2', 'r3', 'r4'];
        for (const [round, text] of rounds.entries()) {
          // Every customer writes through both instances at once.
          await Promise.all(customers.map(({ phone }, i) => writes(phone, `${text}-${i}`, callers[(round + i) % 2] as typeof t.call)));
        }
        for (const { customerId } of customers) {
          await until(async () => (await botTexts(db(), customerId)).length >= 2 * rounds.length, 'every message answered', { limitMs: 30_000 });
        }
        for (const w of workers) await w.stop();
        for (const { customerId } of customers) {
          const order = (await storedMessages(db(), customerId)).filter((m) => m.direction === 'inbound').map((m) => m.text!);
          expect(order).toHaveLength(rounds.length);
          expect(await botTexts(db(), customerId)).toEqual(echoTranscript(NAME, order));
        }
        expect((await pendingBotJobs(db())).filter((job) => job.type === 'bot.step')).toEqual([]);
      } finally {
        for (const w of workers) await w.stop();
        await second.close();
      }
    });
  });

  describe('timers', () => {
    it('a wait node goes on when its time has passed, not before', async () => {
      const { phone, customerId } = await botCustomer(WAIT_FLOW);
      await writes(phone, 'hi');
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['See you in an hour']);
      ctx.clock.advance(3599_000);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['See you in an hour']);
      // A message during the wait does not move the flow.
      await writes(phone, 'still here');
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['See you in an hour']);
      ctx.clock.advance(1_000);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['See you in an hour', 'An hour has passed']);
      ctx.clock.advance(24 * 3600_000);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['See you in an hour', 'An hour has passed']);
    });

    it('the session timeout follows the timeout edge; a timer of a session that moved on does nothing', async () => {
      const { phone, customerId } = await botCustomer(TIMEOUT_FLOW);
      await writes(phone, 'hi');
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['Your email?']);
      // A wrong answer at 5 minutes: the question again, and a new deadline 10 minutes later.
      ctx.clock.advance(300_000);
      await writes(phone, 'not an email');
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['Your email?', 'That is no email']);
      // The first deadline (10 minutes after the first question) passes: its timer is stale.
      ctx.clock.advance(301_000);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['Your email?', 'That is no email']);
      expect((await sessionOf(db(), customerId))?.waiting).toBe('input');
      // The second one is not.
      ctx.clock.advance(300_000);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['Your email?', 'That is no email', 'Still there? Write to us any time.']);
      expect((await sessionOf(db(), customerId))?.waiting).toBe('none');
      expect((await pendingBotJobs(db())).filter((job) => job.payload.includes(customerId))).toEqual([]);
    });

    it('an answer in time wins over the timeout', async () => {
      const { phone, customerId } = await botCustomer(TIMEOUT_FLOW);
      await writes(phone, 'hi');
      await worker.runDue();
      ctx.clock.advance(599_000);
      await writes(phone, 'dana@example.com');
      await worker.runDue();
      ctx.clock.advance(3600_000);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['Your email?', 'Thanks!']);
    });

    it('a restart (new deps and worker on the same database) neither loses nor repeats a timer', async () => {
      const { phone, customerId } = await botCustomer(WAIT_FLOW);
      await writes(phone, 'hi');
      await worker.runDue();
      const [timer] = (await pendingBotJobs(db())).filter((job) => job.type === 'bot.timer' && job.payload.includes(customerId));
      expect(timer).toBeDefined();

      // "Restart": the first instance's worker is gone; another process with its own connections takes over.
      const restarted = await createSecondInstance(ctx);
      const next = new JobWorker(restarted.deps, botJobHandlers(restarted.deps), { name: 'restarted' });
      try {
        ctx.clock.advance(3600_000);
        await next.runDue();
        expect(await botTexts(db(), customerId)).toEqual(['See you in an hour', 'An hour has passed']);
        // The timer job ran again (its completion was lost in a crash): its event is stale by now.
        await enqueueBotTimer(db(), JSON.parse(timer!.payload) as StepPayload, ctx.clock.now(), ctx.clock.now());
        await next.runDue();
        await worker.runDue();
        expect(await botTexts(db(), customerId)).toEqual(['See you in an hour', 'An hour has passed']);
        expect((await pendingBotJobs(db())).filter((job) => job.payload.includes(customerId))).toEqual([]);
      } finally {
        await next.stop();
        await restarted.close();
      }
    });
  });

  describe('people first', () => {
    /** The customer has written; the step committed its turn, and then its worker died before sending anything. */
    async function pendingTurn(flow: object) {
      const customer = await botCustomer(flow);
      await writes(customer.phone, 'first');
      await runDueCrashingAt(ctx.deps.metrics.botEvents, 'inc');
      expect((await outboxOf(db(), customer.customerId)).length).toBeGreaterThan(0);
      return customer;
    }

    it('a person who takes over in the inbox while a turn is pending stops it: nothing more is sent', async () => {
      const { customerId } = await pendingTurn(ECHO_FLOW);
      const person = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
      const taken = await person.call('POST', `/app/api/conversations/${customerId}/bot/take-over`);
      expect(taken.statusCode, taken.body).toBe(200);
      await laterRunDue();
      expect(await botTexts(db(), customerId)).toEqual([]);
      expect(await outboxOf(db(), customerId)).toEqual([]);
      expect((await sessionOf(db(), customerId))?.waiting).toBe('none');
    });

    it('assigning an agent through the Mumble API while a turn is pending stops it', async () => {
      const { phone, customerId } = await pendingTurn(ECHO_FLOW);
      const agentId = await t.add('agents', 'Avi');
      const assigned = await t.call('POST', api('assign-customer-to-agent'), { customer_phone: phone, agent_id: agentId });
      expect(assigned.statusCode, assigned.body).toBe(200);
      await laterRunDue();
      expect(await botTexts(db(), customerId)).toEqual([]);
      // And the customer's next message gets no bot answer either.
      await writes(phone, 'hello?');
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual([]);
    });

    it("a person's reply from the inbox stops the bot for the customer's next messages", async () => {
      const { phone, customerId } = await botCustomer(ECHO_FLOW);
      await writes(phone, 'first');
      await worker.runDue();
      const person = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
      const replied = await person.call('POST', `/app/api/conversations/${customerId}/replies/text`, { text: 'A person here' });
      expect(replied.statusCode, replied.body).toBe(201);
      await writes(phone, 'second');
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(echoTranscript(NAME, ['first']));
      ctx.clock.advance(3600_000);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(echoTranscript(NAME, ['first']));
    });

    it('a person who takes over while a step is computing (an http node waits) silences it, and the flow starts afresh when handed back', async () => {
      const service = await holdingServer();
      const dispatcher = ctx.deps.whatsapp.publicDispatcher;
      // The test's own web service is on 127.0.0.1, which the public-only dispatcher refuses.
      ctx.deps.whatsapp.publicDispatcher = new Agent();
      try {
        const flow = {
          version: 1,
          start: 'hello',
          nodes: [
            { id: 'hello', type: 'message', text: 'Looking you up' },
            { id: 'lookup', type: 'http', method: 'GET', url: `${service.url}/lookup`, timeout_seconds: 30 },
            { id: 'ask', type: 'ask', text: 'Your order number?', save_to: 'fields.order' },
            { id: 'thanks', type: 'message', text: 'Thanks for {{fields.order}}' },
          ],
          edges: [
            { from: 'hello', to: 'lookup' },
            { from: 'lookup', to: 'ask', on: 'ok' },
            { from: 'lookup', to: 'ask', on: 'error' },
            { from: 'ask', to: 'thanks' },
          ],
        };
        const { phone, customerId } = await botCustomer(flow);
        await writes(phone, 'hi');
        const step = worker.runDue();
        await service.arrived;
        const person = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
        expect((await person.call('POST', `/app/api/conversations/${customerId}/bot/take-over`)).statusCode).toBe(200);
        service.release();
        await step;
        expect(await botTexts(db(), customerId)).toEqual([]);
        expect(await outboxOf(db(), customerId)).toEqual([]);
        // No session runs (none was saved, or it was ended).
        expect((await sessionOf(db(), customerId))?.waiting ?? 'none').toBe('none');

        // Handed back: the customer's next message starts the flow, not answers a question never sent.
        expect((await person.call('POST', `/app/api/conversations/${customerId}/bot/hand-back`)).statusCode).toBe(200);
        await writes(phone, '12345');
        const again = worker.runDue();
        await service.arrived;
        service.release();
        await again;
        expect(await botTexts(db(), customerId)).toEqual(['Looking you up', 'Your order number?']);
      } finally {
        await ctx.deps.whatsapp.publicDispatcher.close();
        ctx.deps.whatsapp.publicDispatcher = dispatcher;
        await service.close();
      }
    });

    it('assign-bot turn_off ends the session: no answer, no timeout message', async () => {
      const { phone, customerId } = await botCustomer(TIMEOUT_FLOW);
      await writes(phone, 'hi');
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['Your email?']);
      expect((await t.call('POST', api('assign-bot'), { customer_phone: phone, bot_token: 'turn_off' })).statusCode).toBe(200);
      expect((await sessionOf(db(), customerId))?.waiting).toBe('none');
      await writes(phone, 'dana@example.com');
      await worker.runDue();
      ctx.clock.advance(3600_000);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(['Your email?']);
    });

    it('assign-bot with a flow starts it at once when the 24-hour window is open', async () => {
      const phone = nextPhone();
      const wrote = await t.call('POST', api('sandbox/receive-message'), { customer_phone: phone, text: 'hi', name: NAME });
      expect(wrote.statusCode, wrote.body).toBe(200);
      const customerId = await customerIdOf(db(), t.accountId, phone);
      await worker.runDue();
      const bot = await createBot(ctx.deps, t.accountId, { name: 'Started', flow: ECHO_FLOW });
      expect((await t.call('POST', api('assign-bot'), { customer_phone: phone, bot_token: bot.id })).statusCode).toBe(200);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual([`Hello ${NAME}`, 'Say something']);
      await writes(phone, 'next');
      await worker.runDue();
      expect((await botTexts(db(), customerId)).slice(2)).toEqual(['Echo: next', 'Say something']);
    });

    it('assign-bot with a flow outside the 24-hour window waits for the next message', async () => {
      const phone = nextPhone();
      await addCustomer(t.call, phone, { name: NAME });
      const customerId = await customerIdOf(db(), t.accountId, phone);
      const bot = await createBot(ctx.deps, t.accountId, { name: 'Later', flow: ECHO_FLOW });
      expect((await t.call('POST', api('assign-bot'), { customer_phone: phone, bot_token: bot.id })).statusCode).toBe(200);
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual([]);
      await writes(phone, 'finally');
      await worker.runDue();
      expect(await botTexts(db(), customerId)).toEqual(echoTranscript(NAME, ['finally']));
    });
  });
});

const API_KEY = `om_live_${'b'.repeat(43)}`;
const ADMIN_TOKEN = 'admin-token-for-the-bot-crash-test';

describeEachDatabase('flow bots survive kill -9 (server child processes)', (kind) => {
  const servers = crashServers(kind, { OPENMUMBLE_API_KEY: API_KEY, OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN, ...UNLIMITED });
  const start = (env: Record<string, string> = {}) => servers.start(env);
  let reader: Database;

  async function call(server: ServerProcess, path: string, body: unknown, headers: Record<string, string> = { 'mumble-api-key': API_KEY }) {
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const json = (await response.json()) as Record<string, any>;
    expect(response.status, JSON.stringify(json)).toBeLessThan(300);
    return json;
  }

  /** The customers' bot texts, read from the database by this process. */
  async function transcripts(phones: string[]): Promise<Array<Array<string | null>>> {
    return Promise.all(phones.map(async (phone) => {
      const customer = await reader.db.selectFrom('customers').select('id').where('phone', '=', phone).executeTakeFirst();
      return customer ? botTexts(reader.db, customer.id) : [];
    }));
  }

  it('answers every inbound message exactly once, in order, across kills during bot processing', async () => {
    const phones = ['972501110001', '972501110002'];
    const written: string[][] = phones.map(() => []);
    const writeRound = async (server: ServerProcess, text: string) => {
      await Promise.all(phones.map(async (phone, i) => {
        await call(server, '/mumbleapi/sandbox/receive-message', { customer_phone: phone, text: `${text}-${i}` });
        written[i]!.push(`${text}-${i}`);
      }));
    };

    // 1. An instance that only serves HTTP stores the messages (and their bot steps), then dies.
    const first = await start({ JOBS_WORKER: 'false' });
    const accounts = await (await fetch(`${first.url}/admin/v1/accounts`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as { accounts: Array<{ id: string }> };
    const bot = await call(first, `/admin/v1/accounts/${accounts.accounts[0]!.id}/bots`, { name: 'Echo', flow: ECHO_FLOW }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    for (const phone of phones) await call(first, '/mumbleapi/add-new-customer', { customer_phone: phone, name: NAME, bot_token: bot.bot.id });
    await writeRound(first, 'm1');
    expect(await first.stop('SIGKILL')).toEqual(KILLED);
    reader = servers.reader();
    expect(await transcripts(phones)).toEqual([[], []]);

    // 2. Workers pick the steps up, and are killed while later messages are being answered.
    for (const round of [['m2', 'm3'], ['m4', 'm5']]) {
      const server = await start();
      for (const text of round) await writeRound(server, text);
      expect(await server.stop('SIGKILL')).toEqual(KILLED);
      await servers.leasesRunOut();
    }

    // 3. After a restart every message has its answer, once, in the order written.
    const last = await start();
    await until(async () => (await transcripts(phones)).every((texts, i) => texts.length >= 2 * written[i]!.length), 'every message answered', { limitMs: 60_000, everyMs: 50 });
    await until(async () => (await pendingBotJobs(reader.db)).every((job) => job.type !== 'bot.step'), 'no bot step left', { limitMs: 30_000, everyMs: 50 });
    expect(await transcripts(phones)).toEqual(written.map((texts) => echoTranscript(NAME, texts)));
    expect((await pendingBotJobs(reader.db)).filter((job) => job.failed_at !== null)).toEqual([]);
    expect(await last.stop('SIGKILL')).toEqual(KILLED);
  }, 180_000);
});

/**
 * Messages that arrived at once have no order of their own: the echo flow's transcript must show one
 * start (by whichever came first) and then every other message echoed exactly once.
 */
function expectEachAnsweredOnce(texts: Array<string | null>, inbound: string[]): void {
  const echoed = texts.filter((text) => text?.startsWith('Echo: ')).map((text) => text!.slice('Echo: '.length));
  const starters = inbound.filter((text) => !echoed.includes(text));
  expect(starters).toHaveLength(1);
  expect([...echoed].sort()).toEqual(inbound.filter((text) => text !== starters[0]).sort());
  expect(texts).toEqual(echoTranscript(NAME, [starters[0]!, ...echoed]));
}

/** A web service whose answers wait until the test releases them; `arrived` resolves at each request. */
async function holdingServer() {
  let onArrival: () => void = () => {};
  const held: ServerResponse[] = [];
  const state = {
    arrived: Promise.resolve(),
  };
  const rearm = () => (state.arrived = new Promise<void>((resolve) => (onArrival = resolve)));
  rearm();
  const server: Server = createServer((_request: IncomingMessage, response: ServerResponse) => {
    held.push(response);
    onArrival();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get arrived() {
      return state.arrived;
    },
    release() {
      for (const response of held.splice(0)) response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      rearm();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held.splice(0)) response.destroy();
        server.close(() => resolve());
      }),
  };
}
