// The real server for benchmarks, with a chosen rate-limiter store: `none` (a limiter that admits
// without looking anything up: the route without the limiter), `memory` or `redis`.
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { migrateToLatest } from '../src/db/database.js';
import { createDeps } from '../src/compose.js';
import type { RateLimiter } from '../src/http/rate-limit.js';
import { createAccount, createApiKey } from '../src/modules/accounts/accounts.service.js';

const mode = process.env.BENCH_LIMITER ?? 'memory';
const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn', ...(mode === 'redis' ? {} : { REDIS_URL: '' }) });

const admitAll: RateLimiter = {
  check: async () => ({ allowed: true, limit: 1, remaining: 1, resetSeconds: 0, retryAfterSeconds: 0 }),
  ready: async () => {},
  close: async () => {},
};

const deps = createDeps(config, mode === 'none' ? { rateLimiter: admitAll } : {});
await migrateToLatest(deps.database.db);
const account = await createAccount(deps, 'bench');
const key = await createApiKey(deps, account.id, 'bench', process.env.BENCH_API_KEY);
const app = await buildApp(deps);
await app.listen({ port: config.PORT, host: '127.0.0.1' });
process.send?.({ ready: true, key: key.key });
