/**
 * `npm run bench:campaign`: a campaign of BENCH_CAMPAIGN_RECIPIENTS (100,000) customers in the sandbox,
 * with the rate set very high (1,000/s, Meta's ceiling), against the built server as a process, on
 * SQLite and PostgreSQL. Reports recipients per second (from the campaign's start to its completion),
 * the server's CPU time per recipient and its peak RSS; writes bench/results/campaign-<date>.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import { envNumber, peakRssMb, startHttpProcess } from './harness.js';
import { BENCH_ACCOUNT_ID, benchApiKey, seed } from './seed.js';

const RECIPIENTS = envNumber('BENCH_CAMPAIGN_RECIPIENTS', 100_000);
const RATE = envNumber('BENCH_CAMPAIGN_RATE', 1000);
const PG_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const DATABASES = (process.env.BENCH_DATABASES || 'sqlite,postgres').split(',').map((name) => name.trim());
const KEY = benchApiKey(0);
const LABEL_ID = '00000000-0000-4000-8000-0000000ca3a1';
/**
 * BENCH_CAMPAIGN_STATUSES=0: the sandbox's statuses (sent, delivered, read: three status updates per
 * message, the ingest path's work, not the sender's) come a day later, after the run: the sender alone.
 */
const STATUSES = process.env.BENCH_CAMPAIGN_STATUSES !== '0';
/** A directory: the server runs with --cpu-prof and writes its profile there (to find the costs per recipient). */
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF_DIR;

/** CPU time (user + system) a process has used, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the line (11 and 12 after the command), in clock ticks.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Every seeded customer gets the label the campaign selects by. */
async function labelEveryone(url: string): Promise<void> {
  const database = openDatabase(url);
  try {
    const at = new Date().toISOString();
    await database.db.insertInto('labels').values({ id: LABEL_ID, account_id: BENCH_ACCOUNT_ID, name: 'campaign', created_at: at }).execute();
    await database.db
      .insertInto('customer_labels')
      .columns(['account_id', 'label_id', 'customer_id', 'created_at'])
      .expression((eb) => eb.selectFrom('customers').select([eb.val(BENCH_ACCOUNT_ID).as('account_id'), eb.val(LABEL_ID).as('label_id'), 'id', eb.val(at).as('created_at')]))
      .execute();
  } finally {
    await database.close();
  }
}

async function call(url: string, endpoint: string, body: unknown): Promise<Record<string, any>> {
  const response = await fetch(`${url}/mumbleapi/${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json', 'mumble-api-key': KEY }, body: JSON.stringify(body) });
  const json = (await response.json()) as Record<string, any>;
  if (response.status >= 300) throw new Error(`${endpoint}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function runOn(name: string, url: string, dir: string) {
  console.log(`${name}: seeding ${RECIPIENTS.toLocaleString('en')} customers`);
  await seed(url, { customers: RECIPIENTS, conversations: 0, messagesPerConversation: 0, apiKeys: 1 });
  await labelEveryone(url);
  const server = await startHttpProcess({
    command: process.execPath,
    args: [...(CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR, '--cpu-prof-name', `campaign-${name}.cpuprofile`] : []), 'dist/src/main.js'],
    env: { DATABASE_URL: url, MEDIA_DIR: join(dir, 'media'), LOG_LEVEL: 'warn', JOBS_POLL_INTERVAL: '50ms', RATE_LIMIT_PER_KEY: '1000000', RATE_LIMIT_PER_IP: '1000000', ...(!STATUSES && { SANDBOX_STATUS_DELAY_MS: String(24 * 3600_000) }) },
    logFile: join(dir, `${name}.log`),
  });
  try {
    const template = (await call(server.url, 'create-template', { name: 'bench_campaign', language: 'en_US', category: 'MARKETING', body: 'Hi {{1}}', body_examples: ['Ann'] })).data.id;
    await call(server.url, 'sandbox/set-template-status', { template_id: template, status: 'APPROVED' });
    const cpuBefore = cpuMs(server.pid);
    const started = performance.now();
    const { campaign } = await call(server.url, 'create-campaign', { name: 'Bench', template_id: template, audience: { labels_any: ['campaign'] }, variables: ['{{customer.name|there}}'], rate_per_second: RATE });
    // Completion is watched through the campaigns list (no counts): what is measured is the sending,
    // not an admin screen reading every recipient's counts; reading them is timed separately below.
    let status = campaign.status as string;
    while (status !== 'completed') {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      status = (await call(server.url, 'get-campaigns', {})).campaigns.find((row: { id: string }) => row.id === campaign.id).status;
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuMs(server.pid) - cpuBefore;
    const peakRss = peakRssMb(server.pid);
    // What reading the finished campaign costs: its counts, and pages of its recipients (paged in SQL),
    // once the last statuses have come in (up to 10 s).
    let current = (await call(server.url, 'get-campaign', { campaign_id: campaign.id })).campaign;
    for (let wait = 0; wait < 10 && current.counts.read + current.counts.failed + current.counts.skipped < current.recipients; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      current = (await call(server.url, 'get-campaign', { campaign_id: campaign.id })).campaign;
    }
    console.log(`${name}: ${current.status}, ${JSON.stringify(current.counts)}`);
    const timed = async (endpoint: string, body: unknown) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const at = performance.now();
        await call(server.url, endpoint, body);
        times.push(performance.now() - at);
      }
      return +times.sort((a, b) => a - b)[2]!.toFixed(1);
    };
    const lastPage = Math.ceil(current.recipients / 250);
    const reads_ms = {
      get_campaign: await timed('get-campaign', { campaign_id: campaign.id }),
      recipients_page_1: await timed('get-campaign-recipients', { campaign_id: campaign.id, page: 1 }),
      recipients_last_page: await timed('get-campaign-recipients', { campaign_id: campaign.id, page: lastPage }),
      recipients_read_page_2: await timed('get-campaign-recipients', { campaign_id: campaign.id, page: 2, status: 'read' }),
    };
    const result = {
      recipients: current.recipients,
      seconds: +seconds.toFixed(1),
      recipients_per_second: Math.round(current.recipients / seconds),
      cpu_ms_per_recipient: +(cpu / current.recipients).toFixed(3),
      peak_rss_mb: peakRss,
      counts: current.counts,
      /** Median of 5 calls, ms, after the campaign completed. */
      reads_ms,
    };
    console.log(`${name}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await server.stop();
  }
}

async function main() {
  const results: Record<string, unknown> = { recipients: RECIPIENTS, rate_per_second: RATE, sandbox_statuses: STATUSES, completion_watched_by: 'get-campaigns every 1 s', node: process.version, at: new Date().toISOString() };
  for (const name of DATABASES) {
    const dir = mkdtempSync(join(tmpdir(), 'openmumble-bench-campaign-'));
    try {
      if (name === 'sqlite') results.sqlite = await runOn(name, `sqlite:${join(dir, 'bench.db')}`, dir);
      else {
        const schema = `bench_campaign_${process.pid}`;
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`create schema ${schema}`);
        try {
          const url = new URL(PG_URL);
          url.searchParams.set('options', `-c search_path=${schema}`);
          results.postgres = await runOn(name, url.toString(), dir);
        } finally {
          await admin.query(`drop schema ${schema} cascade`);
          await admin.end();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  mkdirSync('bench/results', { recursive: true });
  const file = process.env.BENCH_CAMPAIGN_RESULTS || `bench/results/campaign-${new Date().toISOString().slice(0, 10)}.json`;
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

await main();
