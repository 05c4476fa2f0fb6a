import pino, { type Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';

/** Everything a module needs, built once at start-up and handed down; tests build their own. */
export interface Deps {
  config: Config;
  database: Database;
  clock: Clock;
  logger: Logger;
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

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}

export function createDeps(config: Config, overrides: Partial<Deps> = {}): Deps {
  return {
    config,
    database: overrides.database ?? openDatabase(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE }),
    clock: overrides.clock ?? systemClock,
    logger: overrides.logger ?? createLogger(config.LOG_LEVEL),
  };
}
