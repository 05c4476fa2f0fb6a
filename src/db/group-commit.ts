/**
 * Group commit for SQLite: commits are written to the write-ahead log without an fsync each
 * (`synchronous=NORMAL`), and one fsync of the log, run on libuv's thread pool, makes every commit
 * written before it durable at once. Nobody is told about a commit before it is durable: a reply
 * waits for `durable()`, which resolves when every commit made so far has been synced.
 *
 * With `synchronous=FULL` each commit's fsync ran on the event loop (~0.4 ms on this class of disk),
 * so one process managed ~2,700 commits a second and nothing else while it waited. Here, while one
 * fsync is under way, the commits of other requests pile up and share the next one.
 */
export class GroupCommit {
  /** Commits made so far (a counter; the order of commits is the order of these numbers). */
  private committed = 0;
  /** Every commit up to this number is on stable storage. */
  private synced = 0;
  private syncing = false;
  /** Waiting for the commit of their number to be synced, in ascending order. */
  private readonly waiters: Array<{ upTo: number; resolve: () => void; reject: (error: Error) => void }> = [];
  private failure: Error | undefined;

  /** `sync` makes durable everything written to the log before it was called. */
  constructor(private readonly sync: () => Promise<void>) {}

  /** A transaction (or a statement outside one) that changed the database has committed. */
  noteCommit(): void {
    this.committed += 1;
    this.startSync();
  }

  /** Resolves once every commit made so far is durable; rejects for good after a failed sync. */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.synced >= this.committed) return RESOLVED;
    return new Promise((resolve, reject) => this.waiters.push({ upTo: this.committed, resolve, reject }));
  }

  private startSync(): void {
    if (this.syncing || this.failure) return;
    this.syncing = true;
    const upTo = this.committed;
    this.sync().then(
      () => this.markSynced(upTo),
      (error: unknown) => this.failed(error),
    );
  }

  private markSynced(upTo: number): void {
    this.syncing = false;
    this.synced = upTo;
    while (this.waiters.length > 0 && this.waiters[0].upTo <= upTo) this.waiters.shift()!.resolve();
    if (this.committed > this.synced) this.startSync();
  }

  /**
   * After a failed fsync nothing written since the last good one can be trusted to be on disk (the
   * kernel may have dropped the dirty pages), so every waiter and every later caller is refused:
   * the process must be restarted, and SQLite recovers from the log what did reach the disk.
   */
  private failed(error: unknown): void {
    this.syncing = false;
    this.failure = new DurabilityError(error);
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
  }
}

const RESOLVED = Promise.resolve();

export class DurabilityError extends Error {
  constructor(cause: unknown) {
    super(`the database log could not be synced to disk: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'DurabilityError';
  }
}
