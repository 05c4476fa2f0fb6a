import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { RateLimiter } from './http/rate-limit.js';
import type { Metrics } from './metrics.js';
import type { ChannelRegistry } from './channels/channel.js';
import type { CloudApiRuntime } from './channels/cloud-api/runtime.js';
import type { MediaStore } from './media/media-store.js';
import type { Scheduler } from './scheduler.js';
import type { LiveHub } from './modules/live/hub.js';
import type { KeyCache } from './modules/accounts/key-cache.js';

/** Everything a module needs, built once at start-up and handed down; tests build their own. */
export interface Deps {
  config: Config;
  database: Database;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  rateLimiter: RateLimiter;
  /** In-process deferred work (the sandbox channel's delays). */
  scheduler: Scheduler;
  /** Uploaded and downloaded media files. */
  media: MediaStore;
  /** Each account's WhatsApp channel. */
  channels: ChannelRegistry;
  /** The WhatsApp Cloud API client (one connection pool per process) and the public-address-only fetcher. */
  whatsapp: CloudApiRuntime;
  /** The inbox's live events: hears every committed event and hands it to this process's streams (connects on first use). */
  live: LiveHub;
  /** API keys held between requests while the authentication epoch stands (listens on first use). */
  keyCache: KeyCache;
}

/** Headers and fields that must never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers["mumble-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["mumble-api-key"]',
  'headers.authorization',
  'access_token',
  'key',
  'api_key.key',
];

/** An error as a log line shows it. */
export interface LoggedError {
  type: string;
  message: string;
  code?: string | number;
}

/**
 * The `err` serializer: an error's type, message and code, never its stack (no log line may hold a
 * stack trace) nor any other field, as those can carry a request body, a query's values or a token.
 */
export function serializeError(error: unknown): LoggedError {
  if (!(error instanceof Error)) return { type: error === null ? 'null' : typeof error, message: typeof error === 'object' ? '' : String(error) };
  const { code } = error as { code?: unknown };
  return {
    type: error.constructor?.name || error.name,
    message: error.message,
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
  };
}

/**
 * The one logger: secrets redacted, errors serialized without stacks. Fastify takes its serializers
 * from the instance it is given, so its own error lines (and every `request.log`) use these too.
 */
export function createLogger(level: string, destination: pino.DestinationStream = asyncStdout()): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, serializers: { err: serializeError } }, destination);
}

/**
 * Standard output written off the event loop: a line is handed to the thread pool at once, and lines
 * logged while a write is under way go together in the next one, so a busy server does not make a
 * blocking write per line. pino flushes what is left synchronously when the process exits.
 */
function asyncStdout(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}

/** LOG_FORMAT=pretty: one coloured line per entry for a person at a terminal (the same fields, redacted alike). */
function prettyStdout(): pino.DestinationStream {
  return pretty({ colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

/** The logger the configuration asks for. */
export function loggerFor(config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT'>): Logger {
  return createLogger(config.LOG_LEVEL, config.LOG_FORMAT === 'pretty' ? prettyStdout() : asyncStdout());
}
