/** `openmumble channels connect|show|disconnect`, run as a process against a SQLite file. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, migrateToLatest } from '../src/db/database.js';
import { startServerProcess } from './processes.js';

const SECRET_KEY = 'cli-test-secret-key-with-enough-characters';
const TOKEN = 'EAAG-cli-token-never-printed';

function runCli(args: string[], env: Record<string, string>, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = "import { runCli } from './src/cli/index.ts'; await runCli(['node', 'openmumble', ...process.argv.slice(1)]);";
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(input ?? '');
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('openmumble channels', () => {
  let dir: string;
  let env: Record<string, string>;
  let accountId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmumble-cli-'));
    const url = `sqlite:${join(dir, 'cli.db')}`;
    env = { DATABASE_URL: url, OPENMUMBLE_SECRET_KEY: SECRET_KEY };
    const database = openDatabase(url);
    await migrateToLatest(database.db);
    accountId = 'acc-cli-1';
    await database.db.insertInto('accounts').values({ id: accountId, name: 'CLI', created_at: new Date().toISOString() }).execute();
    await database.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('connect reads the token from standard input, shows the channel, never prints the token', async () => {
    const connected = await runCli(
      ['channels', 'connect', '--account', accountId, '--phone-number-id', '106540352242922', '--waba-id', '102290129340398', '--display-phone-number', '+1 555 078 3881', '--access-token-file', '-'],
      env,
      `${TOKEN}\n`,
    );
    expect(connected.stderr).toBe('');
    expect(connected.code).toBe(0);
    expect(connected.stdout).toContain('channel: cloud_api (connected)');
    expect(connected.stdout).toContain('display_phone_number: 15550783881');
    expect(connected.stdout).not.toContain(TOKEN);

    const shown = await runCli(['channels', 'show', '--account', accountId], env);
    expect(shown.stdout).toContain('phone_number_id:      106540352242922');
    expect(shown.stdout).not.toContain(TOKEN);
  });

  it('the server will not start without OPENMUMBLE_SECRET_KEY while a number is connected, and says why', async () => {
    const started = startServerProcess({ env: { DATABASE_URL: env.DATABASE_URL, OPENMUMBLE_SECRET_KEY: '', OPENMUMBLE_API_KEY: `om_live_${'x'.repeat(40)}` } });
    await expect(started).rejects.toThrow(/server exited with 1: OPENMUMBLE_SECRET_KEY is not set, but 1 account\(s\) are connected to the WhatsApp Cloud API/);
  });

  it('refuses without OPENMUMBLE_SECRET_KEY, with the reason', async () => {
    const result = await runCli(
      ['channels', 'connect', '--account', accountId, '--phone-number-id', '1', '--waba-id', '2', '--display-phone-number', '15550783881', '--access-token', 'x'],
      { DATABASE_URL: env.DATABASE_URL, OPENMUMBLE_SECRET_KEY: '' },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('OPENMUMBLE_SECRET_KEY must be set (at least 32 characters) to store a WhatsApp access token');
  });

  it('disconnect returns the account to the sandbox', async () => {
    const result = await runCli(['channels', 'disconnect', '--account', accountId], env);
    expect(result.code).toBe(0);
    expect((await runCli(['channels', 'show', '--account', accountId], env)).stdout).toContain('channel: sandbox');
  });
});
