import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from './helpers.js';
import { startServerProcess, type ServerProcess } from './processes.js';

/** LOG_FORMAT=pretty: lines for a person at a terminal, with the same redactions as the JSON ones. */
describe('LOG_FORMAT=pretty', () => {
  let database: ScratchDatabase;
  let server: ServerProcess;
  const key = `om_live_${'prettylogformat'.repeat(3)}`;

  beforeAll(async () => {
    database = await createScratchDatabase('sqlite');
    server = await startServerProcess({ env: { DATABASE_URL: database.url, LOG_FORMAT: 'pretty', LOG_LEVEL: 'info', OPENMUMBLE_API_KEY: key } });
    await fetch(`${server.url}/mumbleapi/get-labels`, { headers: { 'mumble-api-key': key } });
    await server.stop();
  }, 60_000);
  afterAll(() => database?.drop());

  it('writes one readable line per entry instead of JSON, and never the key', () => {
    const lines = server.output().split('\n').filter((line) => line.includes('request completed'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: request completed/);
    expect(server.output()).not.toMatch(/^\{"level"/m);
    expect(server.output()).not.toContain(key);
  });
});
