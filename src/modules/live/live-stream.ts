import type { Database } from '../../db/database.js';
import type { Viewer } from '../../http/viewer.js';
import type { LiveEventRow } from '../../db/tables.js';
import { LATE_COMMIT_WINDOW_MS, mayReceive, sseFrame, toLiveEvent, type LiveEvent, type LiveHub, type LiveSubscriber } from './hub.js';
import * as repository from './live.repository.js';

/**
 * One person's stream of live events (Server-Sent Events): a replay from the table of what they
 * missed since `Last-Event-ID`, then every event the hub hands over that they may see, with
 * heartbeats, a periodic check of their session, and a bound on what a slow client may leave unread.
 */

/** What the stream writes to: the HTTP response (or a stand-in in tests). */
export interface StreamSink {
  write(chunk: string): boolean;
  end(): void;
  destroy(): void;
  readonly writableLength: number;
  /** The connection is gone already. */
  readonly destroyed: boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
}

export interface LiveStreamOptions {
  database: Database;
  hub: LiveHub;
  viewer: Viewer;
  /** The person of the session as it stands now; undefined once the session ended or the person was disabled. */
  reloadViewer(): Promise<Viewer | undefined>;
  /** The `Last-Event-ID` header (or query parameter) as sent, if any. */
  lastEventId: string | undefined;
  heartbeatMs: number;
  sessionCheckMs: number;
  /** Unsent bytes a slow client may leave behind before it is disconnected (it resumes with Last-Event-ID). */
  maxBufferedBytes?: number;
  /** How long the browser waits before reconnecting. */
  retryMs?: number;
  /** The stream ended (the client left, the session ended, the client was too slow, the server closes, a failure). */
  onEnd?(reason: StreamEndReason, error?: unknown): void;
}

export type StreamEndReason = 'client' | 'signed_out' | 'slow' | 'server' | 'error';

const REPLAY_PAGE = 500;
/** Events arriving while the replay runs, held until it is done. */
const MAX_HELD = 10_000;
const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Replayed ids are forgotten after this: the hub hands over each event once, soon after its commit. */
const FORGET_REPLAYED_MS = 60_000;

/** A Last-Event-ID we can resume from: a positive integer. */
export function parseLastEventId(value: string | undefined): number | undefined | 'invalid' {
  if (value === undefined || value.trim() === '') return undefined;
  return /^\d{1,15}$/.test(value.trim()) && Number(value) > 0 ? Number(value) : 'invalid';
}

export class LiveStream implements LiveSubscriber {
  readonly accountId: string;
  private viewer: Viewer;
  private state: 'subscribing' | 'replaying' | 'live' | 'ended' = 'subscribing';
  private held: LiveEvent[] = [];
  private replayed = new Set<number>();
  private sink: StreamSink | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private checking = false;
  /** The last write filled the response's buffer: 'drain' follows. */
  private full = false;

  constructor(private readonly options: LiveStreamOptions) {
    this.viewer = options.viewer;
    this.accountId = options.viewer.accountId;
  }

  /** Joins the hub; from now on no event is missed. Throws (503) when the hub cannot listen. */
  async subscribe(): Promise<void> {
    this.unsubscribe = await this.options.hub.subscribe(this);
    // Ended while joining (too many events held): leave at once.
    if (this.isEnded()) this.unsubscribe();
  }

  /** Writes the replay, then streams live. The response's headers are written already. Never rejects. */
  async start(sink: StreamSink): Promise<void> {
    this.sink = sink;
    sink.once('close', () => this.end('client'));
    // The client may have left while the stream was subscribing (or the server began to close).
    if (sink.destroyed) this.end('client');
    if (this.isEnded()) return sink.end();
    this.state = 'replaying';
    this.write(`retry: ${this.options.retryMs ?? 3_000}\n\n`);
    try {
      const resumed = await this.replay();
      if (this.isEnded()) return;
      this.write(sseFrame('ready', { type: 'ready', resumed }, resumed ? undefined : await this.resumePoint()));
    } catch (error) {
      // The client reconnects with the last id it got.
      this.end('error', error);
      return;
    }
    if (this.isEnded()) return;
    this.state = 'live';
    const held = this.held;
    this.held = [];
    for (const event of held) this.send(event);
    this.every(this.options.heartbeatMs, () => this.write(': ping\n\n'));
    this.every(this.options.sessionCheckMs, () => void this.checkSession());
    this.every(FORGET_REPLAYED_MS, () => this.replayed.clear());
  }

  receive(event: LiveEvent): void {
    if (this.state === 'ended') return;
    if (this.state === 'live') return this.send(event);
    this.held.push(event);
    if (this.held.length > MAX_HELD) this.end('slow');
  }

  /** The hub closes: the server is shutting down. */
  end(reason: StreamEndReason = 'server', error?: unknown): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.unsubscribe?.();
    for (const timer of this.timers) clearInterval(timer);
    this.held = [];
    if (this.sink) {
      if (reason === 'slow') this.sink.destroy();
      else this.sink.end();
    }
    this.options.onEnd?.(reason, error);
  }

  private isEnded(): boolean {
    return this.state === 'ended';
  }

  private every(ms: number, work: () => void): void {
    const timer = setInterval(work, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /**
   * The events after Last-Event-ID that this person may see; a `reset` when that event is no longer
   * kept (or never was): the client reloads what it shows. True when the stream resumed.
   */
  private async replay(): Promise<boolean> {
    const lastEventId = parseLastEventId(this.options.lastEventId);
    if (lastEventId === undefined) return false;
    const { db } = this.options.database;
    const recordedAt = lastEventId === 'invalid' ? undefined : await repository.recordedAt(db, lastEventId);
    if (lastEventId === 'invalid' || recordedAt === undefined) {
      this.write(sseFrame('reset', { type: 'reset', reason: 'Last-Event-ID is too old or unknown: reload' }));
      return false;
    }
    // Replayed rows may be committed but not yet on disk (SQLite's shared fsyncs).
    await this.options.database.durable();
    if (this.options.database.dialect === 'postgres') {
      // An event with a lower id may have committed after the last one the client got.
      const since = new Date(Date.parse(recordedAt) - LATE_COMMIT_WINDOW_MS).toISOString();
      await this.replayRows(await repository.eventsRecordedSince(db, since, lastEventId - 1, this.accountId));
    }
    for (let after = lastEventId; !this.isEnded(); ) {
      const rows = await repository.accountEventsAfter(db, this.accountId, after, REPLAY_PAGE);
      await this.replayRows(rows);
      if (rows.length < REPLAY_PAGE) break;
      after = Number(rows.at(-1)!.id);
    }
    return true;
  }

  private async replayRows(rows: LiveEventRow[]): Promise<void> {
    for (const row of rows) {
      const event = toLiveEvent(row);
      this.replayed.add(event.id);
      if (mayReceive(this.viewer, event)) this.write(event.frame);
    }
    await this.drained();
  }

  /** Waits until the client has read what was written (a replay does not outrun it). */
  private drained(): Promise<void> {
    const sink = this.sink;
    if (!sink || this.isEnded() || !this.full) return Promise.resolve();
    return new Promise((resolve) => {
      sink.once('drain', () => {
        this.full = false;
        resolve();
      });
      sink.once('close', resolve);
    });
  }

  /** Where a client that has seen nothing yet resumes from: the newest event now. */
  private async resumePoint(): Promise<number | undefined> {
    const id = await repository.lastEventId(this.options.database.db);
    return id > 0 ? id : undefined;
  }

  private send(event: LiveEvent): void {
    if (this.replayed.delete(event.id)) return;
    if (mayReceive(this.viewer, event)) this.write(event.frame);
  }

  private write(text: string): void {
    const sink = this.sink;
    if (!sink || this.isEnded()) return;
    if (!sink.write(text)) this.full = true;
    if (sink.writableLength > (this.options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES)) this.end('slow');
  }

  /** The person's role and teams may have changed, or their session ended. */
  private async checkSession(): Promise<void> {
    if (this.checking || this.isEnded()) return;
    this.checking = true;
    try {
      const viewer = await this.options.reloadViewer();
      if (this.isEnded()) return;
      if (!viewer) {
        this.write(sseFrame('signed_out', { type: 'signed_out' }));
        this.end('signed_out');
        return;
      }
      this.viewer = viewer;
    } catch {
      // The database did not answer: keep the person as they were, and look again next time.
    } finally {
      this.checking = false;
    }
  }
}
