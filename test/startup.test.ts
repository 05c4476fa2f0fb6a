import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverLockPath } from '../src/db/server-lock.js';
import { runCliWith } from './cli-run.js';
import { createScratchDatabase, describeEachDatabase, type ScratchDatabase } from './helpers.js';
import { ROOT, freePort, startServerProcess, type ServerProcess } from './processes.js';

/**
 * What a start that cannot go ahead says: which setting to change (DATABASE_URL, PORT), and that a
 * second server on one SQLite file is refused while CLI commands still work beside the running one.
 * Real server processes, observed from outside.
 */

const API_KEY = `om_live_${'startupundertest'.repeat(3)}`;

/** `node --import tsx src/main.ts` with exactly `env` (and the system's PATH, HOME): its exit code and output, once it ends. */
function runServer(env: Record<string, string>, timeoutMs = 45_000): Promise<{ code: number | null; output: string }> {
  const system = Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'LANG'].flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]!]])));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...system, LOG_LEVEL: 'warn', HOST: '127.0.0.1', OPENMUMBLE_API_KEY: API_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The CLI on `databaseUrl`, as `openmumble <args>` runs. */
const cli = (databaseUrl: string, ...args: string[]) => runCliWith({ DATABASE_URL: databaseUrl }, ...args);

describe('one server per SQLite file', () => {
  let database: ScratchDatabase;
  const servers: ServerProcess[] = [];
  const start = async () => {
    const server = await startServerProcess({ env: { DATABASE_URL: database.url, OPENMUMBLE_API_KEY: API_KEY } });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    database = await createScratchDatabase('sqlite');
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await database?.drop();
  });

  it('a second server is refused with a clear message; CLI commands work beside the first; a killed server leaves no lock behind', async () => {
    const first = await start();
    const file = database.url.slice('sqlite:'.length);

    const second = await runServer({ DATABASE_URL: database.url, PORT: String(await freePort()) });
    expect(second.code).toBe(1);
    expect(second.output).toContain(`Another openmumble server is running on the SQLite database ${file} (it holds ${serverLockPath(file)}).`);
    expect(second.output).toContain('set DATABASE_URL to another file');

    // Short-lived commands open the same file while the server runs.
    const created = await cli(database.url, 'accounts', 'create', 'Beside the server');
    expect(created.failed, created.err).toBe(false);
    const listed = await cli(database.url, 'accounts', 'list', '--json');
    expect((JSON.parse(listed.out) as Array<{ name: string }>).map((account) => account.name)).toContain('Beside the server');
    const answered = await fetch(`${first.url}/mumbleapi/add-new-customer`, {
      method: 'POST',
      headers: { 'mumble-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ customer_phone: '972501234567' }),
    });
    expect(answered.status).toBe(200);

    // The operating system drops the lock with the process, however it ends.
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const third = await start();
    expect((await fetch(`${third.url}/healthz`)).status).toBe(200);
    await third.stop();
    const fourth = await start();
    expect((await fetch(`${fourth.url}/healthz`)).status).toBe(200);
  }, 120_000);
});

describeEachDatabase('a start that cannot go ahead says which setting to change', (kind) => {
  let database: ScratchDatabase;
  let taken: Server;
  let takenPort: number;

  beforeAll(async () => {
    database = await createScratchDatabase(kind);
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => taken?.close(resolve));
    await database?.drop();
  });

  it('a port in use names PORT', async () => {
    const result = await database.underSchemaLock(() => runServer({ DATABASE_URL: database.url, PORT: String(takenPort) }));
    expect(result.code).toBe(1);
    expect(result.output).toContain(`Port ${takenPort} on 127.0.0.1 is already in use (another openmumble, or another program). Set PORT to a free port.`);
    // It let go of the database: a server on the same database starts.
    const server = await database.underSchemaLock(() => startServerProcess({ env: { DATABASE_URL: database.url, OPENMUMBLE_API_KEY: API_KEY } }));
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  }, 90_000);

  it('a database that cannot be reached names DATABASE_URL (and never its password)', async () => {
    // SQLite: a folder that cannot be made, since a file has its name.
    const notAFolder = join(database.dir, 'not-a-folder');
    writeFileSync(notAFolder, '');
    const unreachable = kind === 'postgres' ? `postgres://openmumble:s3cret-password@127.0.0.1:${await freePort()}/openmumble` : `sqlite:${join(notAFolder, 'openmumble.db')}`;
    const result = await runServer({ DATABASE_URL: unreachable, PORT: String(await freePort()) });
    expect(result.code).toBe(1);
    if (kind === 'postgres') expect(result.output).toMatch(/could not connect to the PostgreSQL database of DATABASE_URL \(postgres:\/\/127\.0\.0\.1:\d+\/openmumble\): .*ECONNREFUSED/);
    else expect(result.output).toContain(`could not open the SQLite database of DATABASE_URL (${join(notAFolder, 'openmumble.db')}): `);
    expect(result.output).not.toContain('s3cret-password');
  }, 60_000);
});
