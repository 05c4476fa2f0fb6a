import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Process-wide metrics in Prometheus format (`GET /metrics`, docs/operations.md). No label carries
 * tenant data: routes are patterns (`/app/api/conversations/:id`), never URLs.
 */
export interface Metrics {
  registry: Registry;
  rateLimited: Counter<'bucket'>;
  rateLimitFallbacks: Counter<'bucket'>;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  messagesSent: Counter<'channel' | 'type' | 'sender'>;
  messagesReceived: Counter<'channel' | 'type'>;
  sendFailures: Counter<'channel' | 'code'>;
  webhookAttempts: Counter<'outcome'>;
  webhookLag: Histogram;
  fsyncDuration: Histogram;
  liveConnections: Gauge;
  /** Flow bots: nodes run (`step`), hand-overs, answers that matched no option, errors; by bot id. */
  botEvents: Counter<'bot' | 'event'>;
  /** The AI bot (docs/ai.md). */
  aiReplies: Counter;
  aiHandoffs: Counter<'reason'>;
  aiProviderErrors: Counter;
  aiLatency: Histogram;
  aiTokens: Counter<'kind'>;
}

/** Numbers read from the database when /metrics is scraped (the jobs table's state). */
export interface JobStats {
  queued: number;
  running: number;
  failed: number;
  /** Seconds since the oldest due job became due (0 when none is waiting). */
  oldestDueSeconds: number;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'openmumble_' });
  const registers = [registry];
  return {
    registry,
    rateLimited: new Counter({ name: 'openmumble_rate_limited_total', help: 'Requests refused with 429, by bucket', labelNames: ['bucket'], registers }),
    rateLimitFallbacks: new Counter({
      name: 'openmumble_rate_limit_fallbacks_total',
      help: 'Rate-limit checks that could not reach Redis and fell back (ip/key: allowed; messaging: per-process limiter)',
      labelNames: ['bucket'],
      registers,
    }),
    httpRequests: new Counter({ name: 'openmumble_http_requests_total', help: 'HTTP requests answered, by route pattern and status', labelNames: ['method', 'route', 'status'], registers }),
    httpDuration: new Histogram({
      name: 'openmumble_http_request_duration_seconds',
      help: 'Time from a request to its reply (durable), by route pattern',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    messagesSent: new Counter({ name: 'openmumble_messages_sent_total', help: 'Outbound messages handed to a channel, by channel, type and sender', labelNames: ['channel', 'type', 'sender'], registers }),
    messagesReceived: new Counter({ name: 'openmumble_messages_received_total', help: 'Inbound messages stored (each once), by channel and type', labelNames: ['channel', 'type'], registers }),
    sendFailures: new Counter({ name: 'openmumble_message_send_failures_total', help: 'Sends a channel refused, by channel and error code (Graph API codes for cloud_api)', labelNames: ['channel', 'code'], registers }),
    webhookAttempts: new Counter({ name: 'openmumble_webhook_attempts_total', help: 'Outbound webhook delivery attempts, by outcome (succeeded, retrying, failed, disabled)', labelNames: ['outcome'], registers }),
    webhookLag: new Histogram({
      name: 'openmumble_webhook_delivery_lag_seconds',
      help: 'Time from an event to its successful delivery',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 86400],
      registers,
    }),
    fsyncDuration: new Histogram({
      name: 'openmumble_sqlite_fsync_duration_seconds',
      help: 'SQLite group commit: time of each fsync of the write-ahead log (each covers every commit before it)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    }),
    liveConnections: new Gauge({ name: 'openmumble_live_connections', help: 'Open live inbox streams (GET /app/api/events) on this instance', registers }),
    aiReplies: new Counter({ name: 'openmumble_ai_replies_total', help: 'Replies the AI bot sent', registers }),
    aiHandoffs: new Counter({ name: 'openmumble_ai_handoffs_total', help: 'Customers the AI bot handed to people, by reason (not_configured, customer_asked, budget_spent, provider_error, empty_reply, model)', labelNames: ['reason'], registers }),
    aiProviderErrors: new Counter({ name: 'openmumble_ai_provider_errors_total', help: 'AI provider calls that failed or timed out (after its retries)', registers }),
    aiLatency: new Histogram({ name: 'openmumble_ai_request_duration_seconds', help: 'Time of each AI provider call', buckets: [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60], registers }),
    aiTokens: new Counter({ name: 'openmumble_ai_tokens_total', help: 'Tokens the AI provider counted, by kind (prompt, completion)', labelNames: ['kind'], registers }),
    botEvents: new Counter({ name: 'openmumble_bot_events_total', help: 'Flow bots, by bot id and event: step (a node run), handoff, no_match, error', labelNames: ['bot', 'event'], registers }),
  };
}

/** Gauges of the jobs table, read when /metrics is scraped (one query). */
export function registerJobGauges(metrics: Metrics, read: () => Promise<JobStats>): void {
  let pending: Promise<JobStats> | undefined;
  // One query per scrape for the four gauges, whichever asks first.
  const stats = () => (pending ??= read().finally(() => setTimeout(() => (pending = undefined), 0)));
  const gauge = (name: string, help: string, pick: (stats: JobStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [metrics.registry],
      async collect() {
        this.set(pick(await stats()));
      },
    });
  gauge('openmumble_jobs_queued', 'Jobs due and waiting for a worker', (s) => s.queued);
  gauge('openmumble_jobs_running', 'Jobs claimed by a worker now', (s) => s.running);
  gauge('openmumble_jobs_failed', 'Jobs that failed for good (kept for inspection)', (s) => s.failed);
  gauge('openmumble_jobs_oldest_due_seconds', 'Age of the oldest job due and not yet claimed: a growing value means workers do not keep up', (s) => s.oldestDueSeconds);
}
