import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Parses sizes like `25mb`, `512kb`, `1048576` into bytes. */
function parseByteSize(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!match) return undefined;
  const factor = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase() as 'b'];
  const bytes = Math.floor(Number(match[1]) * factor);
  return bytes > 0 ? bytes : undefined;
}

const byteSize = z.string().transform((value, ctx) => {
  const bytes = parseByteSize(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a size such as 25mb, 512kb or 1048576, got "${value}"` });
    return z.NEVER;
  }
  return bytes;
});

const databaseUrl = z
  .string()
  .refine((url) => /^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(url), {
    message: 'expected sqlite:<path>, postgres://… or postgresql://…',
  });

/** TRUST_PROXY: unset/false, true, a hop count, or a comma-separated list of addresses/CIDRs. */
const trustProxy = z.string().transform((value): boolean | number | string[] => {
  const text = value.trim();
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  return text.split(',').map((part) => part.trim()).filter(Boolean);
});

/** Parses durations like `500ms`, `5s`, `2m`, `1h`, `3d` (a bare number is seconds) into milliseconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!match) return undefined;
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 's').toLowerCase() as 'ms'];
  const ms = Math.round(Number(match[1]) * factor);
  return ms > 0 ? ms : undefined;
}

const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 500ms, 10s, 5m, 2h or 3d, got "${value}"` });
    return z.NEVER;
  }
  return ms;
});

/** A comma-separated list of durations, e.g. `5s,30s,2m`: the waits before each retry. */
const durationList = z.string().transform((value, ctx) => {
  const parts = value.split(',').map((part) => part.trim()).filter(Boolean);
  const values = parts.map(parseDuration);
  if (parts.length === 0 || values.some((ms) => ms === undefined)) {
    ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of durations such as 5s,1m,1h, got "${value}"` });
    return z.NEVER;
  }
  return values as number[];
});

const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: databaseUrl.default('sqlite:./data/openmumble.db'),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  OPENMUMBLE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  OPENMUMBLE_API_KEY: z
    .string()
    .regex(/^om_[A-Za-z0-9_-]{32,}$/, 'must be om_ followed by at least 32 characters of [A-Za-z0-9_-]')
    .optional(),
  // The first start's admin person of the default account, for scripted installs: with both, it can
  // sign in at once; with the email only, the banner prints its one-time link to set a password.
  OPENMUMBLE_ADMIN_EMAIL: z.string().trim().max(254).pipe(z.email('expected an email address')).optional(),
  OPENMUMBLE_ADMIN_PASSWORD: z.string().min(10, 'must be at least 10 characters').max(1024).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  // `pretty`: coloured, one-line logs for a person at a terminal (pino-pretty); `json` for machines.
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  // When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  BODY_LIMIT: byteSize.default(25 * 1024 * 1024),
  TRUST_PROXY: trustProxy.default(false),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected redis://… or rediss://…').optional(),
  RATE_LIMIT_PER_KEY: positiveInt.default(600),
  RATE_LIMIT_PER_IP: positiveInt.default(300),
  // WhatsApp Cloud API (issue 6). Secrets stay optional so the embedded start needs none of them;
  // the code that needs one refuses clearly without it (see src/channels/cloud-api/).
  OPENMUMBLE_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  // During a key rotation: the key being replaced, still accepted for decryption (docs/operations.md).
  OPENMUMBLE_SECRET_KEY_PREVIOUS: z.string().min(32, 'must be at least 32 characters').optional(),
  WHATSAPP_APP_SECRET: z.string().min(1).optional(),
  WHATSAPP_VERIFY_TOKEN: z.string().min(1).optional(),
  WHATSAPP_APP_ID: z.string().regex(/^\d+$/, 'expected the numeric id of the Meta app').optional(),
  WHATSAPP_GRAPH_URL: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://graph.facebook.com' })
    .transform((url) => url.replace(/\/+$/, ''))
    .default('https://graph.facebook.com'),
  WHATSAPP_GRAPH_VERSION: z.string().regex(/^v\d+\.\d+$/, 'expected a Graph API version such as v23.0').default('v23.0'),
  WHATSAPP_GRAPH_TIMEOUT_MS: positiveInt.default(15_000),
  WHATSAPP_MEDIA_MAX_BYTES: byteSize.default(100 * 1024 * 1024),
  // Outbound webhooks and the jobs worker (issue 7; docs/webhooks.md).
  WEBHOOK_RETRY_SCHEDULE: durationList.default([5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 43_200_000, 86_400_000, 86_400_000, 86_400_000]),
  WEBHOOK_TIMEOUT: duration.default(10_000),
  WEBHOOK_DISABLE_AFTER: duration.default(5 * 86_400_000),
  WEBHOOK_ALLOW_PRIVATE_URLS: z.stringbool().default(false),
  JOBS_WORKER: z.stringbool().default(true),
  JOBS_POLL_INTERVAL: duration.default(1_000),
  JOBS_CONCURRENCY: positiveInt.default(4),
  // The AI bot (docs/ai.md): server-wide defaults an account's own settings override. Any
  // OpenAI-compatible Chat Completions endpoint; a private address (a local model) needs
  // AI_ALLOW_PRIVATE_BASE_URL=true.
  AI_BASE_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://api.openai.com/v1' }).optional(),
  AI_API_KEY: z.string().min(1).optional(),
  AI_MODEL: z.string().min(1).max(200).optional(),
  AI_TIMEOUT: duration.default(30_000),
  AI_ALLOW_PRIVATE_BASE_URL: z.stringbool().default(false),
  // Messaging (docs/messaging.md). Uploaded and downloaded media files live under MEDIA_DIR.
  MEDIA_DIR: z.string().min(1).default('./data/media'),
  // The sandbox channel: its statuses advance sent → delivered → read one delay apart; templates
  // wait in PENDING until approved (by hand, or after SANDBOX_AUTO_APPROVE_TEMPLATES seconds).
  SANDBOX_STATUS_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
  SANDBOX_AUTO_APPROVE_TEMPLATES: z.coerce.number().int().min(0).optional(),
  // People and the inbox (docs/inbox.md). PUBLIC_URL is where browsers reach this server (invitation
  // links); without it a link is built from the request, or from HOST and PORT in the CLI.
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'expected the http(s) address browsers reach the server at, such as https://crm.example.com' })
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  SESSION_IDLE_TIMEOUT: duration.default(12 * 3_600_000),
  SESSION_MAX_AGE: duration.default(30 * 86_400_000),
  INVITATION_TTL: duration.default(7 * 86_400_000),
  // Sign-in attempts per email and per client address, each per 15 minutes.
  SIGN_IN_LIMIT_PER_EMAIL: positiveInt.default(10),
  SIGN_IN_LIMIT_PER_IP: positiveInt.default(50),
  // Retention (docs/operations.md): what is deleted, and when; a durable job runs every RETENTION_INTERVAL.
  RETENTION_INTERVAL: duration.default(3_600_000),
  RETENTION_WEBHOOK_INBOX: duration.default(7 * 86_400_000),
  RETENTION_PENDING_STATUSES: duration.default(7 * 86_400_000),
  RETENTION_WEBHOOK_DELIVERIES: duration.default(30 * 86_400_000),
  RETENTION_FAILED_JOBS: duration.default(30 * 86_400_000),
  // Unset: media files are kept for ever.
  MEDIA_RETENTION: duration.optional(),
  // How long live events are kept for clients that reconnect with Last-Event-ID (at least 10 minutes).
  LIVE_EVENTS_RETENTION: duration.refine((ms) => ms >= 600_000, 'must be at least 10m (clients resume from the last 10 minutes)').default(3_600_000),
  // A live-events stream sends a comment this often, so proxies keep it open; and looks at its session
  // (ended, person disabled, role or teams changed) this often.
  LIVE_HEARTBEAT_INTERVAL: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(20_000),
  LIVE_SESSION_CHECK_INTERVAL: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(30_000),
});

export type Config = z.output<typeof envSchema>;

/** Every variable the server reads. */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape);

export class ConfigError extends Error {}

/** The only place that reads process.env. Throws ConfigError with one line per wrong variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
