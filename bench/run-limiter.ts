// `npm run bench:limiter`: the rate limiter's cost per request, as a ratio against the same route
// without it, for the memory store and (with REDIS_URL) the Redis store, in one run beside a bare
// node:http server. Writes bench/results/limiter-<date>.json.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../test/processes.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PATH = '/mumbleapi/get-labels';
const API_KEY = `om_live_${'benchmarkkey'.repeat(4)}`;

interface Target {
  name: string;
  script: string;
  env: Record<string, string>;
}

async function start(target: Target, port: number): Promise<ChildProcess> {
  const child = fork(target.script, [], {
    env: { ...process.env, ...target.env, PORT: String(port) },
    execArgv: target.script.endsWith('.ts') ? ['--import', 'tsx'] : [],
    stdio: 'inherit',
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${target.name} exited with ${code}`)));
  });
  return child;
}

async function load(port: number) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${PATH}`,
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { 'mumble-api-key': API_KEY },
  });
  return {
    requests_per_second: result.requests.average,
    latency_p50_ms: result.latency.p50,
    latency_p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
    errors: result.errors,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'openmumble-bench-'));
const common = { BENCH_API_KEY: API_KEY, RATE_LIMIT_PER_KEY: '100000000', RATE_LIMIT_PER_IP: '100000000' };
const targets: Target[] = [
  { name: 'bare node:http', script: 'bench/bare-server.mjs', env: {} },
  ...['none', 'memory', ...(process.env.REDIS_URL ? ['redis'] : [])].map((mode) => ({
    name: `openmumble, limiter: ${mode}`,
    script: 'bench/bench-server.ts',
    env: { ...common, BENCH_LIMITER: mode, DATABASE_URL: `sqlite:${join(dir, `${mode}.db`)}` },
  })),
];

const results: Record<string, Awaited<ReturnType<typeof load>>> = {};
try {
  for (const target of targets) {
    const port = await freePort();
    const child = await start(target, port);
    await load(port); // warm-up: JIT, statement caches
    results[target.name] = await load(port);
    child.kill();
    console.log(target.name, results[target.name]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const baseline = results['openmumble, limiter: none'].requests_per_second;
const ceiling = results['bare node:http'].requests_per_second;
const summary = Object.fromEntries(
  Object.entries(results).map(([name, r]) => [
    name,
    { ...r, ratio_to_bare: +(r.requests_per_second / ceiling).toFixed(3), ratio_to_no_limiter: +(r.requests_per_second / baseline).toFixed(3) },
  ]),
);
const date = new Date().toISOString().slice(0, 10);
const file = `bench/results/limiter-${date}.json`;
writeFileSync(file, `${JSON.stringify({ date, route: `GET ${PATH}`, connections: CONNECTIONS, duration_s: DURATION, node: process.version, results: summary }, null, 2)}\n`);
console.table(summary);
console.log(`wrote ${file}`);
