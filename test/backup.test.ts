import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliWith } from './cli-run.js';
import { createScratchDatabase, postgresUrl, type ScratchDatabase } from './helpers.js';
import { startServerProcess, type ServerProcess } from './processes.js';

/** The CLI on `databaseUrl`, as `openmumble <args>` runs. */
const cli = (databaseUrl: string, ...args: string[]) => runCliWith({ DATABASE_URL: databaseUrl }, ...args);

const API_KEY = `om_live_${'backupundertest'.repeat(3)}`;

describe('backup and restore of the embedded database', () => {
  let database: ScratchDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    database = await createScratchDatabase('sqlite');
    server = await startServerProcess({ env: { DATABASE_URL: database.url, OPENMUMBLE_API_KEY: API_KEY, RATE_LIMIT_PER_IP: '1000000', RATE_LIMIT_PER_KEY: '1000000' } });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  const addCustomer = (phone: string) =>
    fetch(`${server.url}/mumbleapi/add-new-customer`, {
      method: 'POST',
      headers: { 'mumble-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ customer_phone: phone, name: `Customer ${phone}` }),
    }).then((response) => response.status);

  it('copies, under a steady write load, every write acknowledged before it began; the copy restores and serves', async () => {
    const acknowledged: Array<{ phone: string; at: number }> = [];
    let writing = true;
    let next = 0;
    const writer = async () => {
      while (writing) {
        next += 1;
        const phone = `9725${String(10_000_000 + next)}`;
        if ((await addCustomer(phone)) === 200) acknowledged.push({ phone, at: performance.now() });
      }
    };
    const writers = [writer(), writer(), writer(), writer()];
    while (acknowledged.length < 200) await new Promise((resolve) => setTimeout(resolve, 10));

    const backupFile = join(database.dir, 'copy.db');
    const startedAt = performance.now();
    const backup = await cli(database.url, 'backup', backupFile);
    const before = acknowledged.filter((write) => write.at < startedAt).map((write) => write.phone);
    // The load went on during the backup.
    while (acknowledged.length < before.length + 50) await new Promise((resolve) => setTimeout(resolve, 10));
    writing = false;
    await Promise.all(writers);
    expect(backup.failed, backup.err).toBe(false);
    expect(backup.out).toMatch(/^backed up \d+ pages to /);

    const restoredUrl = `sqlite:${join(database.dir, 'restored', 'openmumble.db')}`;
    const restore = await cli(restoredUrl, 'restore', backupFile);
    expect(restore.failed, restore.err).toBe(false);

    const restored = new SQLite(restoredUrl.slice('sqlite:'.length), { readonly: true });
    try {
      expect(restored.pragma('integrity_check', { simple: true })).toBe('ok');
      const phones = new Set((restored.prepare('select phone from customers').all() as Array<{ phone: string }>).map((row) => row.phone));
      expect(before.filter((phone) => !phones.has(phone))).toEqual([]);
      const counted = restored.prepare('select customers_count as n from accounts').get() as { n: number };
      expect(counted.n).toBe(phones.size);
    } finally {
      restored.close();
    }

    const second = await startServerProcess({ env: { DATABASE_URL: restoredUrl, OPENMUMBLE_API_KEY: API_KEY } });
    try {
      const response = await fetch(`${second.url}/mumbleapi/get-customer?customer_phone=${before[0]}`, { headers: { 'mumble-api-key': API_KEY } });
      expect(response.status).toBe(200);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('never overwrites: an existing backup file, or a database without --force', async () => {
    const existing = join(database.dir, 'existing.db');
    writeFileSync(existing, 'keep me');
    const backup = await cli(database.url, 'backup', existing);
    expect(backup.failed).toBe(true);
    expect(backup.err).toMatch(/already exists; choose a new file/);

    const copy = join(database.dir, 'second-copy.db');
    expect((await cli(database.url, 'backup', copy)).failed).toBe(false);
    const stopped = join(database.dir, 'third-copy.db');
    expect((await cli(database.url, 'backup', stopped)).failed).toBe(false);
    const onto = await cli(`sqlite:${stopped}`, 'restore', copy);
    expect(onto.failed).toBe(true);
    expect(onto.err).toMatch(/exists; stop the server and add --force to replace it/);
  });

  it('never restores under a running server, not even with --force', async () => {
    const copy = join(database.dir, 'fourth-copy.db');
    expect((await cli(database.url, 'backup', copy)).failed).toBe(false);
    const under = await cli(database.url, 'restore', copy, '--force');
    expect(under.failed).toBe(true);
    expect(under.err).toMatch(/Another openmumble server is running on the SQLite database .*test\.db/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('refuses to restore a file that is not an openmumble database', async () => {
    const notSqlite = join(database.dir, 'not-sqlite.db');
    writeFileSync(notSqlite, 'x'.repeat(4096));
    const target = `sqlite:${join(database.dir, 'target.db')}`;
    expect((await cli(target, 'restore', notSqlite)).err).toMatch(/is not a readable SQLite database/);
    const otherApp = join(database.dir, 'other-app.db');
    new SQLite(otherApp).exec('create table notes (id integer)');
    expect((await cli(target, 'restore', otherApp)).err).toMatch(/is not an openmumble database/);
  });
});

describe.skipIf(!postgresUrl)('backup on PostgreSQL', () => {
  it('points to pg_dump instead', async () => {
    const result = await cli(postgresUrl!, 'backup', '/tmp/never-written.db');
    expect(result.failed).toBe(true);
    expect(result.err).toMatch(/for PostgreSQL use pg_dump and pg_restore \(docs\/operations\.md\)/);
  });
});
