import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import { PostgresListener, currentSchema } from '../../db/listener.js';
import { AUTH_CHANNEL } from '../../db/migrations/0014_auth_epoch.js';
import type { RequestAccount } from '../../db/tables.js';
import * as repository from './accounts.repository.js';

/** An active key as a request needs it. */
export interface ActiveKey {
  keyId: string;
  account: RequestAccount;
  /** When the key's use was last recorded (ms), to record it at most once a minute. */
  lastUsedAt: number | null;
}

/** Keys held at most; past it the oldest go first (a key that comes back costs one lookup). */
const MAX_KEYS = 10_000;
/** How long `changed()` waits for every listening instance to confirm it dropped its keys. */
const CONFIRM_TIMEOUT_MS = 2_000;

/**
 * API keys in memory, each valid while the authentication epoch (migration 0014) has not moved since
 * it was read. The epoch moves, by trigger, in the transaction of every revocation and every change to
 * an account, so no held key outlives a change:
 *
 * - SQLite: the epoch is read on each request (one row by its primary key), so a change by this
 *   process or by the CLI is in force from the next request.
 * - PostgreSQL: no query per request. Each server LISTENs on `openmumble_auth`, where the trigger
 *   announces each new epoch (`<schema>:<epoch>`); a server that hears one drops its keys and
 *   confirms on the same channel (`<schema>:<epoch>/<its connection's pid>`). A change made through a
 *   server waits in `changed()` until every server listening for this schema (pg_stat_activity) has
 *   confirmed, so once its reply is out no instance admits the old key. While a server's listening
 *   connection is down (and before it first listens) it holds no keys: it reads the key per request.
 *   A change made outside a server (the CLI, SQL) is in force on each server once it hears it.
 */
export class KeyCache {
  private readonly entries = new Map<string, ActiveKey & { epoch: number }>();
  private readonly postgres: boolean;
  private listener: PostgresListener | undefined;
  private schema: string | undefined;
  /** PostgreSQL: the newest epoch heard, or undefined while not listening. */
  private heard: number | undefined;
  /** PostgreSQL: the newest epoch each listening server (by its connection's pid) confirmed. */
  private readonly confirmed = new Map<number, number>();
  private readonly confirmationWaiters = new Set<() => void>();
  private starting: Promise<void> | undefined;

  constructor(private readonly options: { database: Database; logger: Logger; listenerUrl: string }) {
    this.postgres = options.database.dialect === 'postgres';
  }

  /** The key with this hash, from memory while the epoch stands, else by `load` (undefined: refused). */
  async lookup(keyHash: string, load: () => Promise<ActiveKey | undefined>): Promise<ActiveKey | undefined> {
    const epoch = await this.currentEpoch();
    if (epoch === undefined) return load();
    const held = this.entries.get(keyHash);
    if (held?.epoch === epoch) return held;
    const key = await load();
    if (!key) return undefined;
    // The held object itself: its lastUsedAt is kept up to date by the caller.
    const entry = { ...key, epoch };
    this.hold(keyHash, entry);
    return entry;
  }

  /**
   * Call after this process changed a key or an account. PostgreSQL: resolves once every server
   * listening for this schema has confirmed it dropped the keys the change affects (or after
   * CONFIRM_TIMEOUT_MS, logged). SQLite: at once, as every request reads the epoch.
   */
  async changed(): Promise<void> {
    if (!this.postgres || this.schema === undefined) return;
    const { db } = this.options.database;
    const epoch = Number(await repository.authEpoch(db));
    const listening = await sql<{ pid: number }>`select pid from pg_stat_activity where application_name = ${this.applicationName()}`.execute(db);
    const pids = listening.rows.map((row) => Number(row.pid));
    const unconfirmed = () => pids.filter((pid) => (this.confirmed.get(pid) ?? 0) < epoch);
    const started = Date.now();
    while (unconfirmed().length > 0 && Date.now() - started < CONFIRM_TIMEOUT_MS) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.confirmationWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, 50);
        this.confirmationWaiters.add(done);
      });
    }
    const missing = unconfirmed();
    if (missing.length > 0) this.options.logger.warn({ epoch, servers: missing.length }, 'API key cache: a change was not confirmed by every listening server in time');
    for (const pid of this.confirmed.keys()) if (!pids.includes(pid)) this.confirmed.delete(pid);
  }

  /** PostgreSQL: the server process of the listening connection while the cache is in use (tests end it). */
  listenerProcessId(): number | undefined {
    return this.heard === undefined ? undefined : this.listener?.processId();
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }

  private hold(keyHash: string, entry: ActiveKey & { epoch: number }): void {
    this.entries.delete(keyHash);
    this.entries.set(keyHash, entry);
    if (this.entries.size > MAX_KEYS) this.entries.delete(this.entries.keys().next().value!);
  }

  private async currentEpoch(): Promise<number | undefined> {
    if (!this.postgres) return Number(await repository.authEpoch(this.options.database.db));
    // Not awaited: the requests made before it listens read their key.
    this.starting ??= this.listen().catch((error: unknown) => {
      this.starting = undefined;
      this.options.logger.warn({ err: error }, 'API key cache: could not start listening; keys are read on every request');
    });
    return this.heard;
  }

  /** The listening connections of this schema's servers, as pg_stat_activity names them (63 bytes at most). */
  private applicationName(): string {
    return `openmumble-keys ${this.schema}`.slice(0, 63);
  }

  private async listen(): Promise<void> {
    this.schema = await currentSchema(this.options.database.db);
    this.listener = new PostgresListener({
      connectionString: this.options.listenerUrl,
      channel: AUTH_CHANNEL,
      applicationName: this.applicationName(),
      onNotification: (payload) => this.notified(payload),
      onListening: async () => {
        this.raise(Number(await repository.authEpoch(this.options.database.db)));
      },
      onError: (error) => {
        this.heard = undefined;
        this.entries.clear();
        this.options.logger.warn({ err: error }, 'API key cache: the listening connection to PostgreSQL failed; keys are read on every request until it is back');
      },
    });
    this.listener.start();
  }

  /** An announcement `<schema>:<epoch>` or a confirmation `<schema>:<epoch>/<pid>`; other schemas' (tests share a server) are not ours. */
  private notified(payload: string): void {
    const separator = payload.lastIndexOf(':');
    if (payload.slice(0, separator) !== this.schema) return;
    const [epoch, pid] = payload.slice(separator + 1).split('/').map(Number);
    if (!Number.isSafeInteger(epoch)) return;
    if (pid === undefined) return this.raise(epoch);
    if (!Number.isSafeInteger(pid)) return;
    this.confirmed.set(pid, Math.max(this.confirmed.get(pid) ?? 0, epoch));
    for (const waiter of [...this.confirmationWaiters]) waiter();
  }

  /** Drops every key, then confirms. Epochs only grow: a read that raced an announcement must not take the cache back. */
  private raise(epoch: number): void {
    this.heard = Math.max(this.heard ?? 0, epoch);
    this.entries.clear();
    const pid = this.listener?.processId();
    this.listener?.notify(`${this.schema}:${this.heard}/${pid}`).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'API key cache: could not confirm a change');
    });
  }
}
