import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../src/db/database.js';
import { createScratchDatabase, type DatabaseKind, type ScratchDatabase } from './helpers.js';
import { startServerProcess, type ServerProcess } from './processes.js';

/** How a kill -9 ends a server process. */
export const KILLED = { code: null, signal: 'SIGKILL' };

/**
 * Real server processes on one scratch database, to be killed and started again (kill -9 suites):
 * `start` runs one with `env` over the suite's settings; `reader` reads the database from the test;
 * `leasesRunOut` expires the dead workers' job claims, as their leases would later.
 */
export function crashServers(kind: DatabaseKind, settings: Record<string, string>) {
  let database: ScratchDatabase;
  let reader: Database | undefined;
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    database = await createScratchDatabase(kind);
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await reader?.close();
    await database?.drop();
  });
  return {
    async start(env: Record<string, string> = {}): Promise<ServerProcess> {
      const server = await database.underSchemaLock(() => startServerProcess({ env: { DATABASE_URL: database.url, JOBS_POLL_INTERVAL: '50ms', ...settings, ...env } }));
      servers.push(server);
      return server;
    },
    reader(): Database {
      reader ??= database.open();
      return reader;
    },
    async leasesRunOut(): Promise<void> {
      await this.reader().db.updateTable('jobs').set({ locked_until: null, locked_by: null }).where('locked_until', 'is not', null).execute();
    },
  };
}
