import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/** Process-wide counters in Prometheus format (`GET /metrics`). No label carries tenant data. */
export interface Metrics {
  registry: Registry;
  rateLimited: Counter<'bucket'>;
  rateLimitFallbacks: Counter<'bucket'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'openmumble_' });
  return {
    registry,
    rateLimited: new Counter({
      name: 'openmumble_rate_limited_total',
      help: 'Requests refused with 429, by bucket',
      labelNames: ['bucket'],
      registers: [registry],
    }),
    rateLimitFallbacks: new Counter({
      name: 'openmumble_rate_limit_fallbacks_total',
      help: 'Rate-limit checks that could not reach Redis and fell back (ip/key: allowed; messaging: per-process limiter)',
      labelNames: ['bucket'],
      registers: [registry],
    }),
  };
}
