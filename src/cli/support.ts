import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { loadConfig } from '../config.js';
import { migrateToLatest, openDatabase } from '../db/database.js';
import { closeDeps, createDeps } from '../compose.js';
import { createLogger, type Deps } from '../deps.js';
import { describeIssue } from '../http/app-route.js';

export type WithDeps = (work: (deps: Deps) => Promise<void>) => Promise<void>;

/** Runs a command against the configured database (migrated first, unless the command is `migrate`), then closes it. */
export async function withDeps<T>(work: (deps: Deps) => Promise<T>, { migrateFirst = true } = {}): Promise<void> {
  const config = loadConfig();
  // Without group commit: a command prints what it did as soon as it is done, so every commit is synced at once.
  const database = openDatabase(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
  const deps = createDeps(config, { logger: createLogger('warn'), database });
  try {
    if (migrateFirst) await migrateToLatest(deps.database.db);
    await work(deps);
  } finally {
    await closeDeps(deps);
  }
}

/** A list for people (a table) or, with --json, for programs (one JSON array). */
export function print(rows: object[], options: { json?: boolean } = {}): void {
  if (options.json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) console.log('(none)');
  else console.table(rows);
}

/** The same validator as the admin API: a refused value stops the command with the API's message. */
export function parseOrFail<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(describeIssue(result.error));
  return result.data;
}


/**
 * A secret from a file, or from standard input for `-`, so it stays out of shell history and `ps`.
 * Only the line break that ends the file goes: spaces may belong to a password.
 */
export function readSecretFile(path: string): string {
  return readFileSync(path === '-' ? 0 : path, 'utf8').replace(/\r?\n$/, '');
}
