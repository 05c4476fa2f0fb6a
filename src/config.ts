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
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  BODY_LIMIT: byteSize.default(25 * 1024 * 1024),
  TRUST_PROXY: trustProxy.default(false),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected redis://… or rediss://…').optional(),
  RATE_LIMIT_PER_KEY: positiveInt.default(600),
  RATE_LIMIT_PER_IP: positiveInt.default(300),
});

export type Config = z.output<typeof envSchema>;

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
