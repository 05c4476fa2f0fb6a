// `npm run bench:limiter`: the rate limiter's cost per request, as a ratio against the same route
// without it, for the memory store and (with REDIS_URL) the Redis store, in one run beside a bare
// node:http server. Writes bench/results/limiter-<date>.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envNumber, ratio, runLoad, startIpcProcess, type LoadResult } from './harness.js';

const DURATION = envNumber('BENCH_DURATION', 10);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50);
const PATH = '/mumbleapi/get-labels';
const API_KEY = `om_live_${'benchmarkkey'.repeat(4)}`;

interface Target {
  name: string;
  script: string;
  env: Record<string, string>;
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

const results: Record<string, LoadResult> = {};
try {
  for (const target of targets) {
    const server = await startIpcProcess(target.script, target.env);
    const load = () => runLoad({ url: `${server.url}${PATH}`, connections: CONNECTIONS, duration: DURATION, headers: { 'mumble-api-key': API_KEY } });
    await load(); // warm-up: JIT, statement caches
    results[target.name] = await load();
    await server.stop();
    console.log(target.name, results[target.name]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const baseline = results['openmumble, limiter: none'].requests_per_second;
const ceiling = results['bare node:http'].requests_per_second;
const summary = Object.fromEntries(
  Object.entries(results).map(([name, r]) => [name, { ...r, ratio_to_bare: ratio(r.requests_per_second, ceiling), ratio_to_no_limiter: ratio(r.requests_per_second, baseline) }]),
);
const date = new Date().toISOString().slice(0, 10);
const file = `bench/results/limiter-${date}.json`;
writeFileSync(file, `${JSON.stringify({ date, route: `GET ${PATH}`, connections: CONNECTIONS, duration_s: DURATION, node: process.version, results: summary }, null, 2)}\n`);
console.table(summary);
console.log(`wrote ${file}`);
