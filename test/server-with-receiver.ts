import { join } from 'node:path';
import { createScratchDatabase, type DatabaseKind, type ScratchDatabase } from './helpers.js';
import { startServerProcess, type ServerProcess } from './processes.js';
import { startReceiver, type Receiver } from './webhooks-receiver.js';

/** A server process on a scratch database of its own, and a webhook receiver it may deliver to. */
export interface ServerWithReceiver {
  database: ScratchDatabase;
  receiver: Receiver;
  server: ServerProcess;
  /** Stops the server and the receiver, and drops the database. */
  stop(): Promise<void>;
}

/**
 * Starts a server process (under the schema lock) on a new database of `kind`, with a receiver on
 * 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE_URLS) and media in the database's folder; `env` adds to that.
 */
export async function startServerWithReceiver(kind: DatabaseKind, env: Record<string, string>): Promise<ServerWithReceiver> {
  const database = await createScratchDatabase(kind);
  const receiver = await startReceiver();
  const stopAround = async () => {
    await receiver.close();
    await database.drop();
  };
  try {
    const server = await database.underSchemaLock(() =>
      startServerProcess({ env: { DATABASE_URL: database.url, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', MEDIA_DIR: join(database.dir, 'media'), ...env } }),
    );
    const stop = async () => {
      await server.stop();
      await stopAround();
    };
    return { database, receiver, server, stop };
  } catch (error) {
    await stopAround();
    throw error;
  }
}
