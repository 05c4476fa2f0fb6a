import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from './app.js';
import { startBackgroundWork } from './background.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { migrateToLatest, sqliteFileOf } from './db/database.js';
import { DatabaseInUseError, lockSqliteDatabase, type ServerLock } from './db/server-lock.js';
import { closeDeps, createDeps } from './compose.js';
import type { Deps } from './deps.js';
import { ensureDefaultAccount } from './modules/accounts/accounts.service.js';
import { sealPlainWebhookSecrets } from './modules/secrets/secrets.service.js';
import { checkSecretKeyForStoredChannels } from './modules/whatsapp/whatsapp.service.js';
import { createPerson } from './modules/people/people.service.js';
import { invitationUrl } from './modules/people/invitations.js';

export interface RunningServer {
  app: FastifyInstance;
  deps: Deps;
  url: string;
  stop(): Promise<void>;
}

/** The first start's welcome: the default key, shown once, and a request to try it with. */
function printFirstStartKey(url: string, key: string, out: NodeJS.WritableStream): void {
  out.write(
    [
      '',
      'openmumble created a default account. Its API key is shown only this once; keep it safe:',
      '',
      `  ${key}`,
      '',
      'Try it:',
      '',
      `  curl -s -X POST ${url}/mumbleapi/add-new-customer -H 'Mumble-Api-Key: ${key}' -H 'Content-Type: application/json' -d '{"customer_phone":"972501234567","name":"John Doe"}'`,
      '',
      '',
    ].join('\n'),
  );
}

/** The first start's admin person: named by OPENMUMBLE_ADMIN_EMAIL (with its password, or to be set by a one-time link). */
const DEFAULT_ADMIN_EMAIL = 'admin@openmumble.local';

interface FirstAdmin {
  email: string;
  /** The token of the link to set the password with (none when OPENMUMBLE_ADMIN_PASSWORD set it). */
  invitationToken?: string;
}

/** On the first start, the default account gets an admin who can sign in to the inbox (docs/inbox.md). */
async function createFirstAdmin(deps: Deps, accountId: string, config: Config): Promise<FirstAdmin> {
  const email = config.OPENMUMBLE_ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL;
  const password = config.OPENMUMBLE_ADMIN_PASSWORD;
  const { invitationToken } = await createPerson(deps, accountId, { name: 'Admin', email, role: 'admin', ...(password !== undefined && { password }) });
  return { email, ...(invitationToken && { invitationToken }) };
}

/** Every start: where the inbox is; the first start: how its admin gets in. */
function printInboxBanner(config: Config, url: string, admin: FirstAdmin | undefined, out: NodeJS.WritableStream): void {
  // The address it listens at (PORT=0 picks one), unless PUBLIC_URL says where browsers reach it.
  const base = config.PUBLIC_URL ?? url;
  const lines = [`openmumble is running. The inbox: ${base}/app`];
  if (admin?.invitationToken) {
    const link = invitationUrl({ ...config, PUBLIC_URL: base }, admin.invitationToken);
    lines.push(`Set the password of the admin (${admin.email}) with this one-time link, then sign in:`, '', `  ${link}`, '');
  }
  else if (admin) lines.push(`Sign in as ${admin.email} with the password of OPENMUMBLE_ADMIN_PASSWORD.`);
  out.write(`${lines.join('\n')}\n`);
}

/** DATABASE_URL as it may be shown: without the user and password. */
function describeDatabaseUrl(databaseUrl: string): string {
  const file = sqliteFileOf(databaseUrl);
  if (file) return file;
  try {
    const url = new URL(databaseUrl);
    return `${url.protocol}//${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'an unreadable URL';
  }
}

/** How long the first query may take before the start gives up (the PostgreSQL pool has no connect timeout of its own). */
const DATABASE_CONNECT_TIMEOUT_MS = 30_000;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A database that cannot be opened or reached: a problem of DATABASE_URL (or of what it points at), said so. */
function databaseUnreachable(config: Config, error: unknown): ConfigError {
  const kind = config.DATABASE_URL.startsWith('sqlite:') ? 'open the SQLite database' : 'connect to the PostgreSQL database';
  return new ConfigError(`openmumble could not ${kind} of DATABASE_URL (${describeDatabaseUrl(config.DATABASE_URL)}): ${reasonOf(error)}`);
}

/** An error's words; a connection tried on several addresses (localhost: ::1 and 127.0.0.1) fails with an AggregateError and none of its own. */
function reasonOf(error: unknown): string {
  const { message, code, errors } = error as { message?: string; code?: string; errors?: unknown[] };
  if (message) return message;
  if (Array.isArray(errors) && errors.length > 0) return errors.map(reasonOf).join('; ');
  return code ?? String(error);
}

/** A port another process listens on: say which setting picks another. */
function listenFailed(config: Config, error: unknown): Error {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') return new ConfigError(`Port ${config.PORT} on ${config.HOST} is already in use (another openmumble, or another program). Set PORT to a free port.`);
  if (code === 'EACCES') return new ConfigError(`Not allowed to listen on port ${config.PORT} on ${config.HOST}. Set PORT to a port above 1023 (or HOST to another address).`);
  return error as Error;
}

/** Opens the database, migrates it, creates the default account on first start, and listens. */
export async function startServer(config: Config, out: NodeJS.WritableStream = process.stdout): Promise<RunningServer> {
  const file = sqliteFileOf(config.DATABASE_URL);
  let lock: ServerLock | null = null;
  let deps: Deps | undefined;
  let app: FastifyInstance | undefined;
  try {
    try {
      // Before anything writes: a second server on the same file stops here (CLI commands take no lock).
      lock = file ? lockSqliteDatabase(file) : null;
      deps = createDeps(config);
      await withTimeout(sql`select 1`.execute(deps.database.db), DATABASE_CONNECT_TIMEOUT_MS, 'no answer within 30 seconds');
    } catch (error) {
      throw error instanceof DatabaseInUseError ? error : databaseUnreachable(config, error);
    }
    await migrateToLatest(deps.database.db);
    // Connected WhatsApp numbers whose tokens cannot be decrypted: stop now, not at the first send.
    const missingKey = await checkSecretKeyForStoredChannels(deps);
    if (missingKey) throw new ConfigError(missingKey);
    await sealPlainWebhookSecrets(deps);
    if (config.OPENMUMBLE_ADMIN_PASSWORD !== undefined && config.OPENMUMBLE_ADMIN_EMAIL === undefined) throw new ConfigError('OPENMUMBLE_ADMIN_PASSWORD needs OPENMUMBLE_ADMIN_EMAIL: the email the admin signs in with');
    const created = await ensureDefaultAccount(deps, config.OPENMUMBLE_API_KEY);
    const admin = created ? await createFirstAdmin(deps, created.account.id, config) : undefined;
    // The key is about to be shown: it must survive a power cut.
    await deps.database.durable();
    app = await buildApp(deps);
    const address = await app.listen({ port: config.PORT, host: config.HOST }).catch((error: unknown) => {
      throw listenFailed(config, error);
    });
    const url = address.replace('[::1]', 'localhost');
    const background = startBackgroundWork(deps);
    if (created && !config.OPENMUMBLE_API_KEY) printFirstStartKey(url, created.key.key, out);
    if (created && config.OPENMUMBLE_API_KEY) deps.logger.info('created the default account with the key from OPENMUMBLE_API_KEY');
    printInboxBanner(config, url, admin, out);
    const started = deps;
    const listening = app;
    return {
      app: listening,
      deps: started,
      url,
      stop: async () => {
        await listening.close();
        await background.stop();
        await closeDeps(started);
        lock?.release();
      },
    };
  } catch (error) {
    await app?.close().catch(() => {});
    // A database that does not answer may not let its pool close either: the process is ending anyway.
    if (deps) await withTimeout(closeDeps(deps), 5_000, 'closing').catch(() => {});
    lock?.release();
    throw error;
  }
}

/** Stops taking connections on SIGTERM/SIGINT, lets requests in flight finish, then exits. */
export function stopOnSignals(server: RunningServer): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.deps.logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.deps.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** `npm start` and `openmumble serve`: configuration from the environment; a wrong value stops start-up. */
export async function serve(): Promise<void> {
  try {
    stopOnSignals(await startServer(loadConfig()));
  } catch (error) {
    const explained = error instanceof ConfigError || error instanceof DatabaseInUseError;
    process.stderr.write(`${explained ? error.message : `openmumble failed to start: ${(error as Error).message}`}\n`);
    process.exit(1);
  }
}
