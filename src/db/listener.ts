import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { DB } from './tables.js';

/**
 * A PostgreSQL connection of its own that LISTENs on one channel for as long as the process runs
 * (NOTIFY reaches only sessions that are listening, so it never goes back to a pool). When it drops
 * it is opened again, waiting longer after each failure in a row (up to `maxDelayMs`), and
 * `onListening` says whether notifications may have been missed in between.
 */
export interface ListenerOptions {
  connectionString: string;
  channel: string;
  onNotification(payload: string): void;
  /**
   * LISTEN took effect: the first time (`reconnected` false), or again after a lost connection. A
   * failure here drops the connection, and the next one calls it again (as reconnected).
   */
  onListening(reconnected: boolean): Promise<void>;
  /** The connection failed or dropped; it is being opened again. */
  onError(error: unknown): void;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** How the connection shows in pg_stat_activity (default `openmumble-listener`). */
  applicationName?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PostgresListener {
  private client: pg.Client | undefined;
  private closed = false;
  private listenedOnce = false;
  private running: Promise<void> | undefined;
  private readonly firstListen: Promise<void>;
  private resolveFirstListen!: () => void;

  constructor(private readonly options: ListenerOptions) {
    this.firstListen = new Promise((resolve) => (this.resolveFirstListen = resolve));
  }

  /** Starts listening in the background (once). */
  start(): void {
    this.running ??= this.run();
  }

  /** Resolves once LISTEN first took effect (and its onListening ran). */
  listening(): Promise<void> {
    return this.firstListen;
  }

  /** The server process of the current connection (tests end it to simulate an outage). */
  processId(): number | undefined {
    return (this.client as { processID?: number } | undefined)?.processID;
  }

  /** Sends a notification on the channel through the listening connection (nothing while it is down). */
  async notify(payload: string): Promise<void> {
    await this.client?.query('select pg_notify($1, $2)', [this.options.channel, payload]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => {});
    await this.running;
  }

  private async run(): Promise<void> {
    const { initialDelayMs = 100, maxDelayMs = 5_000 } = this.options;
    let delay = initialDelayMs;
    while (!this.closed) {
      const { listened, error } = await this.listenUntilLost();
      if (this.closed) return;
      this.options.onError(error);
      // A connection that listened resets the wait: its loss starts a new outage.
      if (listened) delay = initialDelayMs;
      await sleep(delay);
      delay = Math.min(maxDelayMs, delay * 2);
    }
  }

  /** One connection's life: connect, LISTEN, tell, then wait until it ends. */
  private async listenUntilLost(): Promise<{ listened: boolean; error: unknown }> {
    const client = new pg.Client({ connectionString: this.options.connectionString, application_name: this.options.applicationName ?? 'openmumble-listener' });
    this.client = client;
    const ended = new Promise<unknown>((resolve) => {
      client.on('error', resolve);
      client.on('end', () => resolve(new Error('the listening connection ended')));
    });
    client.on('notification', (message) => {
      if (message.channel === this.options.channel && message.payload !== undefined) this.options.onNotification(message.payload);
    });
    let listened = false;
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.options.channel)}`);
      listened = true;
      if (this.closed) return { listened, error: undefined };
      await this.options.onListening(this.listenedOnce);
      this.listenedOnce = true;
      this.resolveFirstListen();
      return { listened, error: await ended };
    } catch (error) {
      return { listened, error };
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** The schema this database's tables live in (PostgreSQL): notifications of other schemas are not ours. */
export async function currentSchema(db: Kysely<DB>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]!.schema;
}
