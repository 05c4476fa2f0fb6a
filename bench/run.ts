// `npm run bench`: seeds 1,000,000 customers (SQLite, and PostgreSQL when it answers), starts the
// real server (the built `dist/src/main.js`, as `npm start` runs it) on each, times its start-up,
// checks that seeded customers read back as seeded, and drives every scenario with autocannon over
// loopback beside a bare node:http server (the machine's ceiling). Writes bench/results/<date>.json
// and regenerates docs/performance.md and docs/performance-chart.svg.
//
// Settings (environment): BENCH_DURATION (s, 10), BENCH_WARMUP (s, 3), BENCH_CONNECTIONS (50),
// BENCH_CUSTOMERS (1000000), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test),
// BENCH_PG_POOL_SIZE (10), BENCH_DATABASES (sqlite,postgres), BENCH_SCENARIOS (all),
// BENCH_LOG_LEVEL (the server's default, info), BENCH_CPU_PROF (a directory: the server runs with
// --cpu-prof and writes its profile there), BENCH_NO_REPORT (set: write nothing under bench/ or docs/),
// BENCH_KEEP (a directory: seeded databases are kept there, and in the schema openmumble_bench_kept, and reused),
// BENCH_KEEP_SCHEMA (the kept PostgreSQL schema's name, openmumble_bench_kept), BENCH_MESSAGES (10000000: the
// inbox's history), BENCH_INBOX_CONNECTIONS (20: the people the inbox scenarios load it with).
import { createHmac, randomInt } from 'node:crypto';
import { execFileSync, fork } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { envNumber, median, peakRssMb, ratio, runLoad, startHttpProcess, startIpcProcess, type LoadResult, type RequestShape, type StartedProcess } from './harness.js';
import { writeReport, type BenchResults, type DatabaseResults, type ScenarioResult } from './report.js';
import {
  BENCH_PASSWORD,
  DEFAULT_INBOX_SEED,
  DEFAULT_SEED,
  LONG_CONVERSATION,
  benchApiKey,
  benchPersonEmail,
  newCustomerPhone,
  seededData,
  seededPhone,
  type SeedOptions,
  type SeedResult,
} from './seed.js';

const DURATION = envNumber('BENCH_DURATION', 10);
const WARMUP = envNumber('BENCH_WARMUP', 3);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50);
const CUSTOMERS = envNumber('BENCH_CUSTOMERS', DEFAULT_SEED.customers);
const MESSAGES = envNumber('BENCH_MESSAGES', DEFAULT_INBOX_SEED.messages);
/** The inbox scenarios' connections: people using the inbox at once, each signed in as a seeded agent of their own. */
const INBOX_CONNECTIONS = envNumber('BENCH_INBOX_CONNECTIONS', 20);
const PG_POOL_SIZE = envNumber('BENCH_PG_POOL_SIZE', 10);
const PG_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const DATABASES = (process.env.BENCH_DATABASES || 'sqlite,postgres').split(',').map((name) => name.trim());
const ONLY_SCENARIOS = process.env.BENCH_SCENARIOS ? process.env.BENCH_SCENARIOS.split(',').map((name) => name.trim()) : undefined;
const CPU_PROF = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
const APP_SECRET = 'openmumble-bench-app-secret';
/** Start-ups timed on the seeded database; the median is reported. */
const STARTS = 3;

/** A development aid: seeded databases kept in this directory (and a kept PostgreSQL schema) are reused by later runs. */
const KEEP = process.env.BENCH_KEEP ? resolve(process.env.BENCH_KEEP) : undefined;
const KEPT_SCHEMA = process.env.BENCH_KEEP_SCHEMA || 'openmumble_bench_kept';
interface KeptSeed {
  customers: number;
  /** Seeds from before the inbox's history have none: not reused. */
  messages?: number;
  now: string;
  databases: string[];
}
const kept: KeptSeed | undefined = KEEP && existsSync(join(KEEP, 'seed.json')) ? JSON.parse(readFileSync(join(KEEP, 'seed.json'), 'utf8')) : undefined;
const reusable = kept?.customers === CUSTOMERS && kept.messages === MESSAGES ? kept : undefined;

const seedOptions: SeedOptions = {
  ...DEFAULT_SEED,
  customers: CUSTOMERS,
  conversations: Math.min(DEFAULT_SEED.conversations, Math.max(1, Math.floor(CUSTOMERS / 100))),
  // The messaging bucket is 5/s, 100/min per key: enough keys that rotating them never meets it.
  apiKeys: 2_000,
  // The inbox's history (issue 18): BENCH_MESSAGES messages, one conversation of 10,000 per 100,000 of them.
  ...DEFAULT_INBOX_SEED,
  messages: MESSAGES,
  longConversations: Math.max(1, Math.min(DEFAULT_INBOX_SEED.longConversations, Math.floor(MESSAGES / (10 * LONG_CONVERSATION)))),
  now: reusable ? new Date(reusable.now) : new Date(),
};
const data = seededData(seedOptions);
const conversationCustomers = data.conversationCustomers();
/** The signed-in people of the inbox scenarios: seeded agents 0…INBOX_CONNECTIONS-1 (their session cookies, per database). */
const inboxAgents = Array.from({ length: Math.min(INBOX_CONNECTIONS, seedOptions.agents ?? 0) }, (_, n) => n);
let sessionCookies: string[] = [];
/** Each long conversation with the signed-in agents who may see it. */
const longConversations = data
  .longConversationCustomers()
  .map((index) => ({ id: data.customerRow(index).id as string, viewers: inboxAgents.filter((agent) => data.agentSees(agent, index)) }))
  .filter((conversation) => conversation.viewers.length > 0);
const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)];
const runId = Date.now().toString(36);

// ---------------------------------------------------------------------------------------------
// Scenarios: each builds one request at a time (autocannon's setupRequest).

interface Scenario {
  name: string;
  describe: string;
  request: (shape: RequestShape) => RequestShape;
  /** autocannon connections when not CONNECTIONS. */
  connections?: number;
  /** Requests per second per connection: paced, as people are, instead of back-to-back. */
  connectionRate?: number;
}

const json = (shape: RequestShape, path: string, body: unknown, key = benchApiKey(0)): RequestShape => ({
  ...shape,
  method: 'POST',
  path,
  headers: { ...shape.headers, 'content-type': 'application/json', 'mumble-api-key': key },
  body: JSON.stringify(body),
});

/** Seeded customers that edit-customer leaves alone, so they can be checked against the seed after a load. */
const untouched = (index: number) => index % 1000 === 7;
const randomCustomer = () => randomInt(CUSTOMERS);
const pages = Math.ceil(CUSTOMERS / 250);

let created = randomInt(50_000_000);
let edited = 0;
let sent = 0;
let delivered = 0;
let listed = 0;
let opened = 0;

/** An /app/api GET as the web inbox sends it: the session cookie of a signed-in person. */
const asPerson = (shape: RequestShape, path: string, agent: number): RequestShape => ({
  ...shape,
  method: 'GET',
  path,
  headers: { ...shape.headers, accept: 'application/json', cookie: sessionCookies[agent] },
});

/** A long conversation and one of the signed-in agents who may see it, in turn. */
function nextLongConversation(): { id: string; agent: number } {
  const conversation = longConversations[opened % longConversations.length];
  const agent = conversation.viewers[Math.floor(opened / longConversations.length) % conversation.viewers.length];
  opened++;
  return { id: encodeURIComponent(conversation.id), agent };
}

function webhookBody(n: number): string {
  const from = seededPhone(pick(conversationCustomers));
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
              contacts: [{ profile: { name: 'Bench Customer' }, wa_id: from }],
              messages: [
                { from, id: `wamid.bench-${runId}-${n}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: `Hello, message ${n}` } },
              ],
            },
          },
        ],
      },
    ],
  });
}

const allScenarios: Scenario[] = [
  {
    name: 'get-customer',
    describe: 'GET /mumbleapi/get-customer?customer_phone=<random seeded customer>',
    request: (shape) => ({
      ...shape,
      method: 'GET',
      path: `/mumbleapi/get-customer?customer_phone=${seededPhone(randomCustomer())}`,
      headers: { ...shape.headers, 'mumble-api-key': benchApiKey(0) },
    }),
  },
  {
    name: 'add-new-customer',
    describe: 'POST /mumbleapi/add-new-customer, a new phone each request, with attribution and a custom field',
    request: (shape) => {
      const n = created++;
      return json(shape, '/mumbleapi/add-new-customer', {
        customer_phone: newCustomerPhone(n),
        name: `New Customer ${n}`,
        email: `new.${n}@example.com`,
        source: 'web',
        utm_source: 'google',
        utm_campaign: 'bench',
        plan: 'free',
      });
    },
  },
  {
    name: 'edit-customer',
    describe: 'POST /mumbleapi/edit-customer on a random seeded customer: name and a custom field',
    request: (shape) => {
      let index = randomCustomer();
      if (untouched(index)) index = (index + 1) % CUSTOMERS;
      const n = edited++;
      return json(shape, '/mumbleapi/edit-customer', { customer_phone: seededPhone(index), name: `Edited ${n}`, lead_score: n % 100 });
    },
  },
  {
    name: 'get-all-customers',
    describe: `GET /mumbleapi/get-all-customers?page=<random page in the second half of ${pages}>`,
    request: (shape) => ({
      ...shape,
      method: 'GET',
      path: `/mumbleapi/get-all-customers?page=${Math.ceil(pages / 2) + randomInt(Math.max(1, Math.floor(pages / 2)))}`,
      headers: { ...shape.headers, 'mumble-api-key': benchApiKey(0) },
    }),
  },
  {
    name: 'get-conversation',
    describe: 'GET /mumbleapi/get-conversation?customer_phone=<random customer with history>&page=1',
    request: (shape) => ({
      ...shape,
      method: 'GET',
      path: `/mumbleapi/get-conversation?customer_phone=${seededPhone(pick(conversationCustomers))}&page=1`,
      headers: { ...shape.headers, 'mumble-api-key': benchApiKey(0) },
    }),
  },
  {
    name: 'send-text-message',
    describe: `POST /mumbleapi/send-text-message (sandbox channel) to a customer whose window is open; ${seedOptions.apiKeys} API keys in rotation`,
    request: (shape) => {
      const n = sent++;
      return json(shape, '/mumbleapi/send-text-message', { customer_phone: seededPhone(pick(conversationCustomers)), text: `Bench reply ${n}` }, benchApiKey(n % seedOptions.apiKeys));
    },
  },
  {
    name: 'whatsapp-webhook',
    describe: 'POST /webhooks/whatsapp: a distinct signed inbound message each request (X-Hub-Signature-256)',
    request: (shape) => {
      const body = webhookBody(delivered++);
      return {
        ...shape,
        method: 'POST',
        path: '/webhooks/whatsapp',
        headers: { ...shape.headers, 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}` },
        body,
      };
    },
  },
  {
    name: 'inbox-list',
    describe: `GET /app/api/conversations?tab=all&limit=50 (the web inbox's list), each request as one of ${inboxAgents.length} signed-in agents in turn, ${INBOX_CONNECTIONS} connections`,
    connections: INBOX_CONNECTIONS,
    request: (shape) => asPerson(shape, '/app/api/conversations?tab=all&limit=50', inboxAgents[listed++ % inboxAgents.length]),
  },
  {
    name: 'inbox-list-paced',
    describe: `the same list, ${INBOX_CONNECTIONS} people each loading it twice a second (${2 * INBOX_CONNECTIONS} req/s in all, not back-to-back)`,
    connections: INBOX_CONNECTIONS,
    connectionRate: 2,
    request: (shape) => asPerson(shape, '/app/api/conversations?tab=all&limit=50', inboxAgents[listed++ % inboxAgents.length]),
  },
  {
    name: 'inbox-counts',
    describe: `GET /app/api/conversations/counts (what the web inbox asks beside each list), as one of ${inboxAgents.length} signed-in agents in turn, ${INBOX_CONNECTIONS} connections`,
    connections: INBOX_CONNECTIONS,
    request: (shape) => asPerson(shape, '/app/api/conversations/counts', inboxAgents[listed++ % inboxAgents.length]),
  },
  {
    name: 'inbox-open-conversation',
    describe: `GET /app/api/conversations/<id>/timeline?limit=50 (the first page the web inbox opens) of one of the ${longConversations.length} conversations of ${LONG_CONVERSATION.toLocaleString('en')} messages, as a signed-in agent who sees it, ${INBOX_CONNECTIONS} connections`,
    connections: INBOX_CONNECTIONS,
    request: (shape) => {
      const { id, agent } = nextLongConversation();
      return asPerson(shape, `/app/api/conversations/${id}/timeline?limit=50`, agent);
    },
  },
  {
    name: 'inbox-conversation',
    describe: `GET /app/api/conversations/<id> (the header and side panel the web inbox reads beside the first page) of a conversation of ${LONG_CONVERSATION.toLocaleString('en')} messages, ${INBOX_CONNECTIONS} connections`,
    connections: INBOX_CONNECTIONS,
    request: (shape) => {
      const { id, agent } = nextLongConversation();
      return asPerson(shape, `/app/api/conversations/${id}`, agent);
    },
  },
];
const scenarios = allScenarios.filter((scenario) => !ONLY_SCENARIOS || ONLY_SCENARIOS.includes(scenario.name));

// ---------------------------------------------------------------------------------------------

/** Server CPU time (user + system) so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Waits until the server has worked off what the last load left queued (a slow scenario's requests run on after autocannon stops). */
async function settle(server: StartedProcess): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    const started = performance.now();
    const ok = await fetch(`${server.url}/healthz`).then((response) => response.ok, () => false);
    if (ok && performance.now() - started < 20) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function measure(
  server: StartedProcess,
  request?: (shape: RequestShape) => RequestShape,
  connections = CONNECTIONS,
  connectionRate?: number,
): Promise<LoadResult & { cpu_ms_per_request: number }> {
  const load = (duration: number) => runLoad({ url: server.url, connections, duration, request, connectionRate });
  await settle(server);
  await load(WARMUP);
  await settle(server);
  const before = cpuMs(server.pid);
  const result = await load(DURATION);
  const cpu = cpuMs(server.pid) - before;
  return { ...result, cpu_ms_per_request: result.requests > 0 ? +(cpu / result.requests).toFixed(3) : 0 };
}

/** Jobs due and waiting for a worker, as the server's /metrics reports them. */
async function jobsQueued(server: StartedProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^openmumble_jobs_queued (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/**
 * The check that the jobs worker keeps up: the same deliveries, paced at `rate` a second (half
 * what the saturating run reached), and the jobs waiting when the measured run begins and ends. A
 * worker that falls behind shows a backlog that grows for as long as the load lasts.
 */
async function measureBacklog(server: StartedProcess, scenario: Scenario, rate: number) {
  const connectionRate = Math.max(1, Math.round(rate / CONNECTIONS));
  const load = (duration: number) => runLoad({ url: server.url, connections: CONNECTIONS, duration, request: scenario.request, connectionRate });
  await settle(server);
  await load(WARMUP);
  const before = await jobsQueued(server);
  const cpu = cpuMs(server.pid);
  const result = await load(DURATION);
  const after = await jobsQueued(server);
  return {
    ...result,
    cpu_ms_per_request: result.requests > 0 ? +((cpuMs(server.pid) - cpu) / result.requests).toFixed(3) : 0,
    describe: `${scenario.describe}, paced at half the rate the saturating run reached (${connectionRate * CONNECTIONS}/s asked)`,
    jobs_queued: { before, after },
  };
}

/**
 * Waits for the kernel to write back what the previous server left dirty (a SQLite database that took
 * thousands of writes a second): its writeback runs on the same two cores and otherwise takes a third
 * off the next measurement.
 */
function quiesce(): void {
  execFileSync('sync');
}

async function measureBare(): Promise<LoadResult> {
  quiesce();
  const bare = await startIpcProcess('bench/bare-server.mjs', {});
  try {
    const result = await measure(bare);
    console.log(`bare node:http: ${result.requests_per_second} req/s, p50 ${result.latency_p50_ms} ms, p99 ${result.latency_p99_ms} ms`);
    return result;
  } finally {
    await bare.stop();
  }
}

async function getJson(server: StartedProcess, path: string): Promise<any> {
  const response = await fetch(`${server.url}${path}`, { headers: { 'mumble-api-key': benchApiKey(1) } });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Seeded customers must read back through get-customer exactly as the seed describes them. */
async function verifySeed(server: StartedProcess): Promise<number> {
  const indexes = [7, 1007, 2007, 3007, 4007, 5007, Math.floor(CUSTOMERS / 2000) * 1000 + 7, Math.floor((CUSTOMERS - 8) / 1000) * 1000 + 7].filter((i) => i < CUSTOMERS);
  for (const index of indexes) {
    const { customer } = await getJson(server, `/mumbleapi/get-customer?customer_phone=${seededPhone(index)}`);
    const expected = data.expectedRecord(index);
    if (!isDeepStrictEqual(customer, expected)) {
      throw new Error(`seeded customer ${index} reads back differently:\n  got      ${JSON.stringify(customer)}\n  expected ${JSON.stringify(expected)}`);
    }
  }
  const conversation = await getJson(server, `/mumbleapi/get-conversation?customer_phone=${seededPhone(conversationCustomers[0])}`);
  if (conversation.total < seedOptions.messagesPerConversation) throw new Error(`a seeded conversation has ${conversation.total} messages`);
  return indexes.length;
}

/** Signs the inbox scenarios' agents in through the API (POST /app/api/session), as the web inbox does; their session cookies. */
async function signIn(server: StartedProcess): Promise<string[]> {
  return Promise.all(
    inboxAgents.map(async (agent) => {
      const response = await fetch(`${server.url}/app/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-openmumble-csrf': '1' },
        body: JSON.stringify({ email: benchPersonEmail(agent), password: BENCH_PASSWORD }),
      });
      if (!response.ok) throw new Error(`signing in ${benchPersonEmail(agent)}: ${response.status} ${await response.text()}`);
      const cookie = response.headers.getSetCookie().find((line) => line.startsWith('om_session='));
      if (!cookie) throw new Error(`signing in ${benchPersonEmail(agent)}: no session cookie`);
      return cookie.split(';')[0];
    }),
  );
}

/** What `npm start` runs: node, the flags its script gives (a heap setting), and dist/src/main.js. */
function serverCommand(): { command: string; args: string[] } {
  const start: string = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start;
  const match = /^node((?:\s+--[\w-]+(?:=\S+)?)*)\s+(dist\/src\/main\.js)$/.exec(start.trim());
  if (!match) throw new Error(`package.json's start script is no longer "node [--flags] dist/src/main.js": ${start}`);
  const flags = match[1].trim().split(/\s+/).filter(Boolean);
  const profile = CPU_PROF ? [`--cpu-prof`, `--cpu-prof-dir=${CPU_PROF}`] : [];
  return { command: process.execPath, args: [...flags, ...profile, match[2]] };
}

/**
 * Reads a SQLite file once so it sits in the OS page cache, as the database of a server that has been
 * up for a while does; otherwise the first minutes of random lookups wait for the disk.
 */
function warmPageCache(url: string): void {
  if (!url.startsWith('sqlite:')) return;
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (const suffix of ['', '-wal']) {
    const file = `${url.slice('sqlite:'.length)}${suffix}`;
    if (!existsSync(file)) continue;
    const fd = openSync(file, 'r');
    try {
      while (readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

async function benchDatabase(name: 'sqlite' | 'postgres', url: string, dir: string, bare: () => number): Promise<DatabaseResults> {
  quiesce();
  warmPageCache(url);
  const env: Record<string, string> = {
    DATABASE_URL: url,
    DATABASE_POOL_SIZE: String(PG_POOL_SIZE),
    RATE_LIMIT_PER_KEY: '1000000000',
    RATE_LIMIT_PER_IP: '1000000000',
    // The inbox scenarios sign their agents in from one address.
    SIGN_IN_LIMIT_PER_IP: '1000000',
    WHATSAPP_APP_SECRET: APP_SECRET,
    MEDIA_DIR: join(dir, `media-${name}`),
    // The embedded default: in-process rate limits. Nothing from the caller's environment leaks in.
    REDIS_URL: '',
    OPENMUMBLE_API_KEY: '',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? '',
  };
  const logFile = join(dir, `server-${name}.log`);
  const { command, args } = serverCommand();
  const startups: number[] = [];
  for (let n = 0; n < STARTS; n++) {
    const server = await startHttpProcess({ command, args: args.filter((arg) => !arg.startsWith('--cpu-prof')), env, logFile });
    startups.push(Math.round(server.startupMs));
    await server.stop();
  }
  console.log(`${name}: start-up on ${CUSTOMERS.toLocaleString('en')} customers: ${startups.join(', ')} ms`);

  if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true });
  const server = await startHttpProcess({ command, args, env, logFile });
  const results: Record<string, ScenarioResult> = {};
  let peakRss = 0;
  try {
    const verified = await verifySeed(server);
    console.log(`${name}: ${verified} seeded customers read back identically through get-customer`);
    if (scenarios.some((scenario) => scenario.name.startsWith('inbox-'))) {
      sessionCookies = await signIn(server);
      console.log(`${name}: ${sessionCookies.length} agents signed in`);
    }
    for (const scenario of scenarios) {
      const result = await measure(server, scenario.request, scenario.connections, scenario.connectionRate);
      results[scenario.name] = { ...result, ratio_to_bare: ratio(result.requests_per_second, bare()), peak_rss_mb: peakRssMb(server.pid), describe: scenario.describe };
      const flag = result.non_2xx + result.errors > 0 ? `  (!) ${result.non_2xx} non-2xx, ${result.errors} errors (${result.timeouts} timeouts)` : '';
      console.log(
        `${name} ${scenario.name}: ${result.requests_per_second} req/s (${(results[scenario.name].ratio_to_bare * 100).toFixed(0)}% of bare), ` +
          `p50 ${result.latency_p50_ms} ms, p99 ${result.latency_p99_ms} ms, ${result.cpu_ms_per_request} ms CPU/request, peak RSS ${results[scenario.name].peak_rss_mb} MB${flag}`,
      );
      if (scenario.name === 'whatsapp-webhook') {
        const paced = await measureBacklog(server, scenario, result.requests_per_second / 2);
        results['whatsapp-webhook-half-rate'] = { ...paced, ratio_to_bare: ratio(paced.requests_per_second, bare()), peak_rss_mb: peakRssMb(server.pid) };
        console.log(`${name} whatsapp-webhook at half that rate: ${paced.requests_per_second} req/s, jobs waiting ${paced.jobs_queued.before} → ${paced.jobs_queued.after}`);
      }
    }
    peakRss = peakRssMb(server.pid);
  } finally {
    await server.stop();
  }
  const errors = readFileSync(logFile, 'utf8').split('\n').filter((line) => /"level":(50|60)/.test(line));
  if (errors.length > 0) console.log(`${name}: ${errors.length} error lines in the server log, the first: ${errors[0].slice(0, 400)}`);
  return {
    database: name,
    ...(name === 'postgres' && { pool_size: PG_POOL_SIZE }),
    startup_ms: startups,
    startup_median_ms: median(startups),
    peak_rss_mb: peakRss,
    log_errors: errors.length,
    scenarios: results,
  };
}

function seedInChild(url: string, label: string): Promise<SeedResult> {
  return new Promise((resolvePromise, reject) => {
    const child = fork('bench/seed.ts', ['--ipc'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send({ url, options: { ...seedOptions, now: seedOptions.now.toISOString() }, label });
    child.once('message', (message: { result?: SeedResult; error?: string }) => (message.result ? resolvePromise(message.result) : reject(new Error(message.error))));
    child.once('exit', (code) => code !== 0 && reject(new Error(`seeding ${label} exited with ${code}`)));
  });
}

async function postgresReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'openmumble-bench-'));
  const schema = KEEP ? KEPT_SCHEMA : `openmumble_bench_${process.pid}`;
  const reuse = (name: string) => reusable?.databases.includes(name) ?? false;
  let postgresCreated = false;
  const skipped: string[] = [];
  try {
    const targets: Array<{ name: 'sqlite' | 'postgres'; url: string }> = [];
    if (KEEP) mkdirSync(KEEP, { recursive: true });
    if (DATABASES.includes('sqlite')) {
      const file = join(KEEP ?? dir, 'bench.db');
      if (!reuse('sqlite')) for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
      targets.push({ name: 'sqlite', url: `sqlite:${file}` });
    }
    if (DATABASES.includes('postgres')) {
      const problem = await postgresReachable();
      if (problem) {
        const line = `PostgreSQL at ${PG_URL} is not reachable (${problem}): skipping the PostgreSQL figures`;
        console.log(line);
        skipped.push(line);
      } else {
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        if (!reuse('postgres')) await admin.query(`drop schema if exists ${schema} cascade; create schema ${schema}`);
        await admin.end();
        postgresCreated = !KEEP;
        targets.push({ name: 'postgres', url: withSearchPath(PG_URL, schema) });
      }
    }

    const toSeed = targets.filter((target) => !reuse(target.name));
    if (toSeed.length < targets.length) console.log(`reusing the seeded ${targets.filter((t) => reuse(t.name)).map((t) => t.name).join(' and ')} in ${KEEP}`);
    if (toSeed.length > 0) console.log(`seeding ${CUSTOMERS.toLocaleString('en')} customers and ${MESSAGES.toLocaleString('en')} messages into ${toSeed.map((t) => t.name).join(' and ')} (in parallel)`);
    const seeds = await Promise.all(toSeed.map((target) => seedInChild(target.url, target.name)));
    const seedResults = Object.fromEntries(toSeed.map((target, n) => [target.name, { seconds: +seeds[n].seconds.toFixed(1), rows: seeds[n].rows }]));
    for (const [name, result] of Object.entries(seedResults)) console.log(`${name}: seeded in ${result.seconds} s`, result.rows);
    if (KEEP) {
      const databases = [...new Set([...(reusable?.databases ?? []), ...targets.map((t) => t.name)])];
      writeFileSync(join(KEEP, 'seed.json'), JSON.stringify({ customers: CUSTOMERS, messages: MESSAGES, now: seedOptions.now.toISOString(), databases, schema: KEPT_SCHEMA }));
    }

    const bareRuns: LoadResult[] = [await measureBare()];
    const bare = () => bareRuns.reduce((sum, run) => sum + run.requests_per_second, 0) / bareRuns.length;
    const databases: DatabaseResults[] = [];
    for (const target of targets) {
      if (databases.length > 0) bareRuns.push(await measureBare());
      databases.push(await benchDatabase(target.name, target.url, dir, bare));
    }
    bareRuns.push(await measureBare());
    // The ceiling is the mean of every bare run of this run (before, between and after the databases).
    for (const database of databases) {
      for (const result of Object.values(database.scenarios)) result.ratio_to_bare = ratio(result.requests_per_second, bare());
    }

    const results: BenchResults = {
      date: new Date().toISOString(),
      node: process.version,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
      settings: { duration_s: DURATION, warmup_s: WARMUP, connections: CONNECTIONS, inbox_connections: INBOX_CONNECTIONS, customers: CUSTOMERS, messages: MESSAGES, pg_pool_size: PG_POOL_SIZE, log_level: process.env.BENCH_LOG_LEVEL || 'info (default)', server_command: ['node', ...serverCommand().args].join(' ') },
      seed: seedResults,
      bare: { requests_per_second: Math.round(bare()), runs: bareRuns },
      databases,
      skipped,
    };
    if (process.env.BENCH_NO_REPORT) {
      console.log(JSON.stringify(results, null, 2));
    } else {
      const written = writeReport(results);
      console.log(`wrote ${written.join(', ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (postgresCreated) {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  }
}

await main();
