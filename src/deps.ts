import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { createRateLimiter, type RateLimiter } from './http/rate-limit.js';
import { jobStats } from './jobs/queue.js';
import { createMetrics, registerJobGauges, type Metrics } from './metrics.js';
import type { ChannelRegistry } from './channels/channel.js';
import { createChannelRegistry } from './channels/registry.js';
import { createCloudApiRuntime, type CloudApiRuntime } from './channels/cloud-api/runtime.js';
import { DirectoryMediaStore, type MediaStore } from './media/media-store.js';
import { TimerScheduler, type Scheduler } from './scheduler.js';
import { createLiveHub, type LiveHub } from './modules/live/hub.js';

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

export function createDeps(config: Config, overrides: Partial<Deps> = {}): Deps {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? loggerFor(config);
  const metrics = overrides.metrics ?? createMetrics();
  // Every reply waits for durable() (buildApp), so SQLite commits can share their fsyncs.
  const database =
    overrides.database ??
    openDatabase(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE, groupCommit: true, onSync: (seconds) => metrics.fsyncDuration.observe(seconds) });
  const deps: Deps = {
    config,
    database,
    clock,
    logger,
    metrics,
    rateLimiter: overrides.rateLimiter ?? createRateLimiter({ config, clock, logger, metrics }),
    scheduler: overrides.scheduler ?? new TimerScheduler(logger),
    media: overrides.media ?? new DirectoryMediaStore(config.MEDIA_DIR),
    // Channels report to the ingest path, which needs these very deps.
    channels: overrides.channels ?? createChannelRegistry(() => deps),
    whatsapp: overrides.whatsapp ?? createCloudApiRuntime(config),
    live: overrides.live ?? createLiveHub({ database, clock, logger, listenerUrl: config.DATABASE_URL }),
  };
  registerJobGauges(metrics, () => jobStats(deps.database.db, clock.now()));
  return deps;
}

/** Releases what createDeps opened. */
export async function closeDeps(deps: Deps): Promise<void> {
  await deps.live.close();
  await deps.scheduler.close();
  await deps.rateLimiter.close();
  await deps.whatsapp.close();
  await deps.database.close();
}
