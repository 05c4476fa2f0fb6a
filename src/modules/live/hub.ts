import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/database.js';
import { PostgresListener, currentSchema } from '../../db/listener.js';
import type { LiveEventRow } from '../../db/tables.js';
import { ApiError } from '../../errors.js';
import type { Viewer } from '../../http/viewer.js';
import { canSee } from '../inbox/visibility.js';
import { LIVE_CHANNEL, onLiveEventsRecorded } from './live-events.js';
import * as repository from './live.repository.js';

/**
 * The live hub: one per process. It hears of every live event committed in the database, in commit
 * order, and hands each to the streams (SSE connections) of its account; each stream decides with
 * `mayReceive` whether its person gets it.
 *
 * - SQLite (one process per database file): the recording transaction nudges the hub, which reads
 *   the events after the last it saw. Kysely runs this process's queries one at a time on one
 *   connection, so the read runs after the recording transaction ended, and SQLite's single writer
 *   hands out ids in commit order. A slow poll also picks up writes of another process (the CLI).
 * - PostgreSQL: a connection of its own LISTENs; every recording transaction NOTIFYs the event's id,
 *   which PostgreSQL delivers after the commit, in commit order, to every instance. The hub reads the
 *   events by the ids notified (ids are taken at insert, so they are not in commit order). When the
 *   connection drops, the hub connects again and catches up from the table.
 */

/** A live event as streams receive it: who may see it, and its SSE frame (serialized once for every stream). */
export interface LiveEvent {
  id: number;
  accountId: string;
  type: string;
  customerId: string | null;
  agentId: string | null;
  teamId: string | null;
  previousAgentId: string | null;
  previousTeamId: string | null;
  recipientAgentId: string | null;
  /** `id: …\nevent: …\ndata: …\n\n` */
  frame: string;
}

/** An SSE frame. `data` is one line of JSON (JSON.stringify escapes line breaks). */
export function sseFrame(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function toLiveEvent(row: LiveEventRow): LiveEvent {
  const id = Number(row.id);
  const data = { type: row.type, customer_id: row.customer_id, at: row.created_at, ...(JSON.parse(row.payload) as Record<string, unknown>) };
  return {
    id,
    accountId: row.account_id,
    type: row.type,
    customerId: row.customer_id,
    agentId: row.agent_id,
    teamId: row.team_id,
    previousAgentId: row.previous_agent_id,
    previousTeamId: row.previous_team_id,
    recipientAgentId: row.recipient_agent_id,
    frame: sseFrame(row.type, data, id),
  };
}

/**
 * Whether a person receives an event: one addressed to a person goes to that person only; one about
 * a customer goes to whoever may see the customer as assigned after the change or before it (so a
 * person who loses a conversation hears that it went); any other to everyone of the account.
 */
export function mayReceive(viewer: Viewer, event: LiveEvent): boolean {
  if (event.accountId !== viewer.accountId) return false;
  if (event.recipientAgentId !== null) return event.recipientAgentId === viewer.agentId;
  if (event.customerId === null) return true;
  const account_id = event.accountId;
  return (
    canSee(viewer, { account_id, agent_id: event.agentId, team_id: event.teamId }) ||
    canSee(viewer, { account_id, agent_id: event.previousAgentId, team_id: event.previousTeamId })
  );
}

/** A stream, as the hub knows it. */
export interface LiveSubscriber {
  accountId: string;
  receive(event: LiveEvent): void;
  /** The hub closes (the server shuts down): end the stream, the client reconnects elsewhere. */
  end(): void;
}

export interface LiveHubOptions {
  database: Database;
  clock: Clock;
  logger: Logger;
  /** PostgreSQL: where the listening connection goes (the server's DATABASE_URL). */
  listenerUrl: string;
  /** SQLite: how often to look for events written by another process. */
  pollIntervalMs?: number;
  /** How long a new stream waits for the hub to be listening before it is refused. */
  readyTimeoutMs?: number;
}

export const LIVE_UNAVAILABLE = 'Live events are unavailable, try again shortly';

/**
 * Events committed at most this long after one with a higher id are still delivered in a catch-up or
 * a replay (PostgreSQL): no transaction of ours holds an id for longer between insert and commit.
 */
export const LATE_COMMIT_WINDOW_MS = 10_000;
/** How long the hub remembers the ids it delivered, to deliver none twice after a catch-up. */
const REMEMBER_DELIVERED_MS = 120_000;
const PAGE = 500;

export class LiveHub {
  private readonly subscribers = new Map<string, Set<LiveSubscriber>>();
  private readonly postgres: boolean;
  private started: Promise<void> | undefined;
  private listener: PostgresListener | undefined;
  private stopNudges: (() => void) | undefined;
  private poll: NodeJS.Timeout | undefined;
  private closed = false;
  /** The highest id delivered. */
  private cursor = 0;
  /** When the newest delivered event was recorded. */
  private newestRecordedAt: string | undefined;
  /** Ids delivered lately, with when: a catch-up delivers none twice. */
  private readonly delivered = new Map<number, number>();
  /** Reads and deliveries, one at a time, in order. */
  private work: Promise<void> = Promise.resolve();
  private readPending = false;
  /** Ids notified and not read yet, in the order notified (commit order). */
  private readonly notified: number[] = [];
  private fetchScheduled = false;
  private schema: string | undefined;

  constructor(private readonly options: LiveHubOptions) {
    this.postgres = options.database.dialect === 'postgres';
  }

  /** Streams subscribed now (a gauge, and tests). */
  get subscriberCount(): number {
    let count = 0;
    for (const set of this.subscribers.values()) count += set.size;
    return count;
  }

  /**
   * Adds a stream; resolves once every event committed from now on reaches it (the hub is started
   * on the first subscription). Returns the unsubscribe function.
   */
  async subscribe(subscriber: LiveSubscriber): Promise<() => void> {
    if (this.closed) throw new ApiError(503, LIVE_UNAVAILABLE);
    await this.ready();
    let set = this.subscribers.get(subscriber.accountId);
    if (!set) this.subscribers.set(subscriber.accountId, (set = new Set()));
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.subscribers.get(subscriber.accountId) === set) this.subscribers.delete(subscriber.accountId);
    };
  }

  /** Ends every stream (before the HTTP server closes: an open stream would hold it open). */
  endStreams(): void {
    for (const set of [...this.subscribers.values()]) {
      for (const subscriber of [...set]) subscriber.end();
    }
    this.subscribers.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.endStreams();
    this.stopNudges?.();
    clearInterval(this.poll);
    await this.listener?.close();
    await this.work;
  }

  /** The PostgreSQL listening connection's server process (tests end it to simulate an outage). */
  listenerProcessId(): number | undefined {
    return this.listener?.processId();
  }

  private ready(): Promise<void> {
    // A start that failed (the database did not answer) is tried again by the next stream.
    this.started ??= (this.postgres ? this.startListening() : this.startSqlite()).catch((error: unknown) => {
      this.started = undefined;
      throw error;
    });
    const { readyTimeoutMs = 10_000 } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ApiError(503, LIVE_UNAVAILABLE)), readyTimeoutMs);
    });
    return Promise.race([this.started, timeout]).finally(() => clearTimeout(timer));
  }

  private get db() {
    return this.options.database.db;
  }

  private async startSqlite(): Promise<void> {
    this.cursor = await repository.lastEventId(this.db);
    this.stopNudges = onLiveEventsRecorded(() => this.readNew());
    const { pollIntervalMs = 2_000 } = this.options;
    this.poll = setInterval(() => this.readNew(), pollIntervalMs);
    this.poll.unref();
  }

  /** SQLite: reads (once more, if a read is under way) the events after the cursor. */
  private readNew(): void {
    if (this.readPending || this.closed) return;
    this.readPending = true;
    void this.enqueue(async () => {
      this.readPending = false;
      await this.deliverAfterCursor();
    });
  }

  /** Delivers the events after the cursor, a page at a time. */
  private async deliverAfterCursor(): Promise<void> {
    for (;;) {
      const rows = await repository.eventsAfter(this.db, this.cursor, PAGE);
      await this.deliver(rows);
      if (rows.length < PAGE) return;
    }
  }

  private async startListening(): Promise<void> {
    this.schema = await currentSchema(this.db);
    this.listener = new PostgresListener({
      connectionString: this.options.listenerUrl,
      channel: LIVE_CHANNEL,
      onNotification: (payload) => this.heard(payload),
      onListening: (reconnected) => (reconnected ? this.catchUp() : this.enqueue(() => this.startCursor())),
      onError: (error) => {
        if (!this.closed) this.options.logger.warn({ err: error }, 'live events: the listening connection to PostgreSQL failed; reconnecting');
      },
    });
    this.listener.start();
    await this.listener.listening();
  }

  private async startCursor(): Promise<void> {
    this.cursor = await repository.lastEventId(this.db);
  }

  /** A notification `<schema>:<id>`: read the events notified together, in the order notified. */
  private heard(payload: string): void {
    const separator = payload.lastIndexOf(':');
    if (payload.slice(0, separator) !== this.schema) return;
    const id = Number(payload.slice(separator + 1));
    if (!Number.isSafeInteger(id)) return;
    this.notified.push(id);
    if (this.fetchScheduled) return;
    this.fetchScheduled = true;
    void this.enqueue(async () => {
      this.fetchScheduled = false;
      while (this.notified.length > 0) {
        const ids = this.notified.splice(0, PAGE);
        const rows = await this.withRetries(() => repository.eventsByIds(this.db, ids));
        const byId = new Map(rows.map((row) => [Number(row.id), row]));
        await this.deliver(ids.flatMap((eventId) => byId.get(eventId) ?? []));
      }
    });
  }

  /**
   * After a lost connection: the events after the last delivered, and those that committed late
   * (lower ids, recorded just before the newest delivered), less those delivered already.
   */
  private catchUp(): Promise<void> {
    return this.enqueue(async () => {
      const since = this.newestRecordedAt && new Date(Date.parse(this.newestRecordedAt) - LATE_COMMIT_WINDOW_MS).toISOString();
      if (since) await this.deliver(await repository.eventsRecordedSince(this.db, since, this.cursor));
      await this.deliverAfterCursor();
    });
  }

  private async withRetries<T>(read: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await read();
      } catch (error) {
        if (this.closed || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  /** Runs `task` after the tasks before it; a failure is logged (and given to whoever awaits it). */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.work.then(task);
    this.work = run.catch((error: unknown) => {
      if (!this.closed) this.options.logger.warn({ err: error }, 'live events: could not read new events');
    });
    return run;
  }

  /** Hands events to the streams of their account, once each. */
  private async deliver(rows: LiveEventRow[]): Promise<void> {
    if (rows.length === 0) return;
    // Nobody learns of a change a power cut could still take away (SQLite's shared fsyncs).
    await this.options.database.durable();
    const now = Date.now();
    for (const row of rows) {
      const id = Number(row.id);
      if (this.delivered.has(id)) continue;
      this.delivered.set(id, now);
      if (id > this.cursor) this.cursor = id;
      if (this.newestRecordedAt === undefined || row.created_at > this.newestRecordedAt) this.newestRecordedAt = row.created_at;
      const set = this.subscribers.get(row.account_id);
      if (!set) continue;
      const event = toLiveEvent(row);
      for (const subscriber of set) {
        try {
          subscriber.receive(event);
        } catch (error) {
          this.options.logger.warn({ err: error }, 'live events: a stream failed to take an event');
        }
      }
    }
    for (const [id, at] of this.delivered) {
      if (now - at < REMEMBER_DELIVERED_MS) break;
      this.delivered.delete(id);
    }
  }
}

export function createLiveHub(options: LiveHubOptions): LiveHub {
  return new LiveHub(options);
}
