import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startServerProcess, type ServerProcess } from './processes.js';

/**
 * The built server as a user runs it: `npm run build`, then `node dist/src/main.js` on a fresh SQLite
 * file, spoken to over real HTTP. Only the process's output and its HTTP answers are observed.
 */

const MAIN = join(ROOT, 'dist/src/main.js');
const hasCurl = spawnSync('curl', ['--version']).status === 0;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
}

/** node:http, because fetch cannot send a body with GET, and keeps header names exactly as written. */
function send(url: string, method: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { ...headers, ...(body !== undefined && { 'Content-Length': String(Buffer.byteLength(body)) }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The built server, as a user runs it after a build, with the log level a user gets. */
const startBuiltServer = (databaseUrl: string) => startServerProcess({ command: 'built', env: { DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' } });

/** Splits a shell line into words, honouring single quotes (all the curl line uses). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]);
}

/** What a first start prints: the key, and a curl line to try it with (waited for, as output may lag /healthz). */
async function firstStartWelcome(server: ServerProcess): Promise<{ key: string; curlLine: string; welcome: string }> {
  for (let attempt = 0; !/Try it:[\s\S]*curl .*\n/.test(server.output()) && attempt < 100; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const output = server.output();
  const key = /^\s+(om_[A-Za-z0-9_-]+)\s*$/m.exec(output)?.[1] ?? '';
  const curlLine = /^\s+(curl .+)$/m.exec(output)?.[1] ?? '';
  const welcome = output.slice(output.indexOf('openmumble created a default account'), output.indexOf(curlLine) + curlLine.length);
  return { key, curlLine, welcome };
}

/** The request a printed `curl -s -X METHOD URL -H 'Name: value'… -d 'body'` line makes. */
function curlRequest(line: string) {
  const words = shellWords(line);
  return {
    program: words[0],
    method: words[words.indexOf('-X') + 1],
    url: words.find((word) => word.startsWith('http'))!,
    headers: Object.fromEntries(words.flatMap((word, i) => (words[i - 1] === '-H' ? [word.split(/:\s*/, 2) as [string, string]] : []))),
    body: words[words.indexOf('-d') + 1],
  };
}

describe('black box: the built server over HTTP', () => {
  let dir: string;
  let databaseUrl: string;
  let server: ServerProcess;
  let key: string;
  let curlLine: string;
  let welcome: string;

  beforeAll(async () => {
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
    // Type errors do not stop tsc from emitting; the typecheck is CI's own step. No output at all is fatal.
    if (!existsSync(MAIN)) throw new Error(`npm run build produced no ${MAIN}:\n${build.stdout}${build.stderr}`);
    dir = mkdtempSync(join(tmpdir(), 'openmumble-blackbox-'));
    databaseUrl = `sqlite:${join(dir, 'x.db')}`;
    server = await startBuiltServer(databaseUrl);
    ({ key, curlLine, welcome } = await firstStartWelcome(server));
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = (method: string, endpoint: string, params?: Record<string, unknown>, headers: Record<string, string> = {}) =>
    send(`${server.url}/mumbleapi/${endpoint}`, method, {
      'Mumble-Api-Key': key,
      ...(params && { 'Content-Type': 'application/json' }),
      ...headers,
    }, params && JSON.stringify(params));

  it('prints the default account\'s key once on the first start, with a curl line to try it', () => {
    expect(key).toMatch(/^om_[A-Za-z0-9_-]{32,}$/);
    expect(curlLine).not.toBe('');
    expect(server.output().split(key).length - 1).toBe(2); // the key line and the curl line, nothing else
  });

  it('answers /healthz with 200 {"status":"ok"}', async () => {
    const reply = await send(`${server.url}/healthz`, 'GET');
    expect({ status: reply.status, body: reply.json() }).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('the printed curl line is a valid request that adds a customer', async () => {
    const { program, method, url, headers, body } = curlRequest(curlLine);
    expect({ program, method, url, headers }).toEqual({
      program: 'curl',
      method: 'POST',
      url: `${server.url}/mumbleapi/add-new-customer`,
      headers: { 'Mumble-Api-Key': key, 'Content-Type': 'application/json' },
    });
    const params = JSON.parse(body);
    const reply = await send(url, method, headers, body);
    expect({ status: reply.status, body: reply.json() }).toEqual({ status: 200, body: { success: true, message: 'added successfully' } });
    expect((await call('GET', 'get-customer', { customer_phone: params.customer_phone })).json().customer.phone).toBe(params.customer_phone);
    await call('DELETE', 'delete-customer', { customer_phone: params.customer_phone });
  });

  it.skipIf(!hasCurl)('the printed curl line runs as it is in a shell', () => {
    const out = execFileSync('sh', ['-c', curlLine], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ success: true, message: 'added successfully' });
  });

  it('serves the API over HTTP: JSON bodies on POST, GET and DELETE, any header case', async () => {
    const phone = '14155550123';
    const added = await send(
      `${server.url}/mumbleapi/add-new-customer`,
      'POST',
      { 'MUMBLE-API-KEY': key, 'content-type': 'application/json' },
      JSON.stringify({ customer_phone: '+1 (415) 555-0123', name: 'Black Box' }),
    );
    expect(added.status).toBe(200);
    expect(added.headers['content-type']).toMatch(/^application\/json/);

    const viaGetBody = await call('GET', 'get-customer', { customer_phone: phone });
    expect(viaGetBody.status).toBe(200);
    expect(viaGetBody.json().customer).toMatchObject({ phone, name: 'Black Box', country: 'US' });

    const viaQuery = await send(`${server.url}/mumbleapi/get-customer?customer_phone=${phone}`, 'GET', { 'mumble-api-key': key });
    expect(viaQuery.json()).toEqual(viaGetBody.json());

    const emptyJson = await send(`${server.url}/mumbleapi/get-all-customers`, 'GET', { 'mumble-api-key': key, 'Content-Type': 'application/json' }, '');
    expect(emptyJson.json()).toMatchObject({ success: true, per_page: 250, customers: expect.arrayContaining([expect.objectContaining({ phone })]) });

    const deleted = await call('DELETE', 'delete-customer', { customer_phone: phone });
    expect({ status: deleted.status, body: deleted.json() }).toEqual({ status: 200, body: { success: true, message: 'Customer deleted successfully' } });
    expect((await call('GET', 'get-customer', { customer_phone: phone })).status).toBe(404);
  });

  it.each([
    ['no key', 'GET', '/mumbleapi/get-labels', false, undefined, 401, 'Unauthorized'],
    ['malformed JSON', 'POST', '/mumbleapi/add-new-label', true, '{"label_name":', 400, 'Invalid JSON body'],
    ['an unknown route', 'GET', '/mumbleapi/nothing', true, undefined, 404, 'Route not found'],
    ['a wrong method', 'GET', '/mumbleapi/add-new-label', true, undefined, 404, 'Route not found'],
  ] as const)('answers %s in the envelope', async (_case, method, path, withKey, body, status, message) => {
    const headers = { ...(withKey && { 'mumble-api-key': key }), ...(body !== undefined && { 'content-type': 'application/json' }) };
    const reply = await send(`${server.url}${path}`, method, headers, body);
    expect({ status: reply.status, body: reply.json() }).toEqual({ status, body: { error: true, message } });
  });

  it('never logs the key after printing it', async () => {
    await call('GET', 'get-labels');
    await call('POST', 'add-new-label', { label_name: 'Logged?' });
    const rest = server.output().replace(welcome, '');
    expect(rest).not.toContain(key);
  });

  it('stops cleanly on SIGTERM; a second start on the same database prints no key and keeps the data', async () => {
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    server = await startBuiltServer(databaseUrl);
    const labels = await call('GET', 'get-labels');
    expect(labels.json().labels).toContain('Logged?');
    expect(server.output()).not.toMatch(/om_[A-Za-z0-9_-]{20,}/);
    expect(server.output()).not.toContain('curl');
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  it('the built CLI explains its commands and reads the same database', () => {
    const help = spawnSync(process.execPath, [join(ROOT, 'bin/openmumble.js'), '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const command of ['serve', 'migrate', 'accounts', 'keys', 'agents', 'teams', 'bots']) expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    const list = spawnSync(process.execPath, [join(ROOT, 'bin/openmumble.js'), 'accounts', 'list'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
    });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toContain('Default account');
  });
});

describe("black box: the README's first start", () => {
  it('`npm start` builds and starts on a fresh database, prints a key, and the printed curl request adds a customer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openmumble-npm-start-'));
    // What a newcomer runs, with a database and a port of its own; info is the server's default log level.
    const server = await startServerProcess({ command: 'npm-start', env: { DATABASE_URL: `sqlite:${join(dir, 'openmumble.db')}`, LOG_LEVEL: 'info' } });
    try {
      const { key, curlLine } = await firstStartWelcome(server);
      expect(key).toMatch(/^om_live_[A-Za-z0-9_-]{32,}$/);
      const { program, url, method, headers, body } = curlRequest(curlLine);
      expect({ program, url }).toEqual({ program: 'curl', url: `${server.url}/mumbleapi/add-new-customer` });
      const answer = hasCurl ? execFileSync('sh', ['-c', curlLine], { encoding: 'utf8' }) : (await send(url, method, headers, body)).text;
      expect(JSON.parse(answer)).toEqual({ success: true, message: 'added successfully' });
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(server.output()).toContain('"msg":"shutting down"');
    expect(server.output()).not.toContain('shutdown failed');
    expect(await fetch(`${server.url}/healthz`).then(() => 'answered', () => 'stopped')).toBe('stopped');
  }, 180_000);
});
