import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@openmumble/client';
import { CHROMIUM, hasChromium } from './browser/harness.js';
import { describeEachDatabase } from './helpers.js';
import { ROOT } from './processes.js';
import { startServerWithReceiver, type ServerWithReceiver } from './server-with-receiver.js';

/**
 * The built client, packed as npm would publish it and imported by its package name as an integrator
 * would, on each runtime the README promises: Node, Deno and Bun run one script as a process, and
 * Chromium runs it from a browser bundle (Vite) in a plain-http page. Each run creates a customer
 * against a real server process, reads it back, gets a typed error, and verifies a webhook the
 * server really delivered. A runtime whose binary is missing is skipped, and says so.
 */

const API_KEY = `om_live_${'clientruntimes'.repeat(3)}`;

const execFileAsync = promisify(execFile);

/** The first binary of `candidates` that answers `--version` (the project's own install first, then PATH). */
function findBinary(candidates: string[]): { path: string; version: string } | undefined {
  for (const path of candidates) {
    const run = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    // `deno 2.9.6 (stable, release, …)`, `1.4.5`: the version alone.
    if (run.status === 0) return { path, version: /\d+\.\d+\.\d+/.exec(run.stdout)?.[0] ?? run.stdout.trim() };
  }
  return undefined;
}

const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
// The npm packages `bun` and `deno` bring their binaries as optional dependencies; bun's own
// launcher needs its postinstall script, the binary in the optional dependency does not.
const deno = findBinary([bin('deno'), join(ROOT, 'node_modules', '@deno', 'linux-x64-glibc', 'deno'), 'deno']);
const bun = findBinary([bin('bun'), join(ROOT, 'node_modules', '@oven', 'bun-linux-x64', 'bin', 'bun'), 'bun']);
if (!deno) console.log('skipping: the client on Deno (no deno binary: add the `deno` devDependency or put deno on PATH)');
if (!bun) console.log('skipping: the client on Bun (no bun binary: add the `bun` devDependency or put bun on PATH)');

interface Input {
  baseUrl: string;
  apiKey: string;
  phone: string;
  name: string;
  webhook: { secret: string; body: string; headers: Record<string, string> };
}

/**
 * What every runtime runs: plain JavaScript (the same text in a script and in a page), given the
 * module's exports and its input, returning what the test asserts on. The client is made with its
 * default timeout, so a process kept alive by a pending timer would show as a run that never ends.
 */
const SCENARIO = `async function scenario({ createClient, OpenMumbleError, verifyWebhook, WebhookVerificationError }, input) {
  const runtime =
    typeof Deno !== 'undefined' ? 'deno ' + Deno.version.deno
    : typeof Bun !== 'undefined' ? 'bun ' + Bun.version
    : typeof document !== 'undefined' ? 'browser ' + (isSecureContext ? 'secure ' : 'insecure ') + navigator.userAgent
    : 'node ' + process.version;
  const client = createClient({ baseUrl: input.baseUrl, apiKey: input.apiKey, retry: { baseDelayMs: 10 } });
  const added = await client.customers.add({ customer_phone: input.phone, name: input.name });
  const { customer } = await client.customers.get({ customer_phone: input.phone });
  const missing = await client.customers.get({ customer_phone: '972509999999' }).catch((error) => error);
  const { secret, body, headers } = input.webhook;
  const event = verifyWebhook(secret, body, headers);
  const fromHeaders = verifyWebhook(secret, body, new Headers(headers));
  let forged = 'accepted';
  try {
    verifyWebhook(secret, body.replace('Seed', 'Forged'), headers);
  } catch (error) {
    forged = error instanceof WebhookVerificationError ? 'WebhookVerificationError' : String(error);
  }
  return {
    runtime,
    added: added.success,
    customer: { phone: customer.phone, name: customer.name },
    missing: { openMumbleError: missing instanceof OpenMumbleError, status: missing.status, message: missing.message },
    webhook: { type: event.type, data: event.data, fromHeaders: fromHeaders.type, forged },
  };
}`;

const expected = (input: Input, runtime: RegExp) => ({
  runtime: expect.stringMatching(runtime),
  added: true,
  customer: { phone: input.phone, name: input.name },
  missing: { openMumbleError: true, status: 404, message: 'Customer not found' },
  webhook: { type: 'customer.created', data: expect.objectContaining({ phone: '972501120000', name: 'Seed' }), fromHeaders: 'customer.created', forged: 'WebhookVerificationError' },
});

/**
 * A project of an integrator, with `@openmumble/client` installed from the tarball `npm pack` makes
 * of packages/client (what npm would publish: its `files`, its package.json `exports`), not the
 * workspace's symlink to the source; its dependencies are the repository's. Made once per file.
 */
let projectMade: string | undefined;
function project(): string {
  if (projectMade) return projectMade;
  const dir = mkdtempSync(join(tmpdir(), 'openmumble-client-runtimes-'));
  const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: join(ROOT, 'packages', 'client'), encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const installed = join(dir, 'node_modules', '@openmumble', 'client');
  mkdirSync(installed, { recursive: true });
  const untar = spawnSync('tar', ['-xzf', join(dir, pack.stdout.trim()), '-C', installed, '--strip-components=1'], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== '@openmumble' && name !== '.bin') symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module', dependencies: { '@openmumble/client': '*' } }));
  return (projectMade = dir);
}

afterAll(() => {
  if (projectMade) rmSync(projectMade, { recursive: true, force: true });
});

/** Runs a runtime in the project, with only the environment it needs; returns its standard output. */
async function runIn(command: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(command, args, {
    cwd: project(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? project(), NO_COLOR: '1', DENO_DIR: join(project(), '.deno'), DENO_NO_UPDATE_CHECK: '1' },
    encoding: 'utf8',
    // Seconds are enough: a run that lasts longer hangs (on a timer of the client, for instance).
    timeout: 20_000,
  });
  return stdout;
}

/** Runs the scenario as a script on a runtime, and returns what it printed. */
async function runScript(input: Input, command: string, args: string[]): Promise<unknown> {
  const script = join(project(), `scenario-${input.phone}.mjs`);
  writeFileSync(script, `import * as client from '@openmumble/client';\n${SCENARIO}\nconsole.log(JSON.stringify(await scenario(client, ${JSON.stringify(input)})));\n`);
  return JSON.parse((await runIn(command, [...args, script])).trim().split('\n').at(-1)!);
}

describeEachDatabase('@openmumble/client on Node, Deno, Bun and Chromium', (kind) => {
  let started: ServerWithReceiver;
  let webhook: Input['webhook'];
  let phones = 0;
  const input = (): Input => ({ baseUrl: started.server.url, apiKey: API_KEY, phone: `97250112${String(++phones).padStart(4, '0')}`, name: `Runtime ${phones}`, webhook });

  beforeAll(async () => {
    started = await startServerWithReceiver(kind, { OPENMUMBLE_API_KEY: API_KEY });
    const { server, receiver } = started;
    // One delivery the server signed, for every runtime to verify.
    const client = createClient({ baseUrl: server.url, apiKey: API_KEY, retry: { baseDelayMs: 10 } });
    const added = await client.webhooks.add({ url: `${receiver.url}/hook`, events: ['customer.created'] });
    await client.customers.add({ customer_phone: '972501120000', name: 'Seed' });
    await receiver.waitFor(1);
    const delivery = receiver.received[0]!;
    const headers = Object.fromEntries(Object.entries(delivery.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    webhook = { secret: (added as { webhook: { secret: string } }).webhook.secret, body: delivery.body, headers };
  }, 120_000);

  afterAll(async () => {
    await started?.stop();
  });

  it('runs on Node as plain ESM (no loader, no bundler)', async () => {
    const run = input();
    expect(await runScript(run, process.execPath, [])).toEqual(expected(run, /^node v/));
  });

  it.skipIf(!deno)(`runs on Deno (${deno?.version ?? 'absent'}) with no permission but the network`, async () => {
    const run = input();
    const args = ['run', '--quiet', '--no-prompt', `--allow-net=${new URL(started.server.url).host}`];
    expect(await runScript(run, deno!.path, args)).toEqual(expected(run, /^deno \d/));
  });

  it.skipIf(!bun)(`runs on Bun (${bun?.version ?? 'absent'})`, async () => {
    const run = input();
    expect(await runScript(run, bun!.path, [])).toEqual(expected(run, /^bun \d/));
  });

  it.skipIf(!hasChromium)('runs in Chromium from a browser bundle, in a plain-http page of the server’s origin', async () => {
    const { browser, bundle } = await chromium();
    // The server under a name (mapped to 127.0.0.1 by Chromium): plain http that is not localhost is
    // not a secure context, as on an intranet, where browsers have no crypto.randomUUID.
    const origin = `http://${BROWSER_HOST}:${new URL(started.server.url).port}`;
    const run = { ...input(), baseUrl: origin };
    const page = await browser.newPage();
    let printed: string;
    try {
      // The server sends no CORS headers (a key in a header needs a preflight it never grants), so
      // the page is one of the server's own (the document of /healthz: Chromium lets a page it got
      // from elsewhere call a loopback address no more than a public site), and the client's module
      // is served at the same origin by the test.
      await page.route(`${origin}/client-runtime/client.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: bundle }));
      await page.goto(`${origin}/healthz`);
      printed = (await page.evaluate(`(async () => {
        const client = await import('/client-runtime/client.js');
        ${SCENARIO}
        return JSON.stringify(await scenario(client, ${JSON.stringify(run)}));
      })()`)) as string;
    } finally {
      await page.close();
    }
    expect(JSON.parse(printed)).toEqual(expected(run, /^browser insecure .*Chrom/));
  });
});

/**
 * A TypeScript program of an integrator, checked by Deno against the installed package's
 * declarations. Were they unreadable (types of `any`), the expected errors would not happen and
 * `deno check` would fail on the unused `@ts-expect-error`s.
 */
const TYPED_PROGRAM = `import { createClient, OpenMumbleError, verifyWebhook, type VerifiedWebhook } from '@openmumble/client';

const client = createClient({ baseUrl: 'https://crm.example.com', apiKey: 'om_live_key', timeoutMs: 5_000 });
export async function nameOf(phone: string): Promise<string | null> {
  try {
    return (await client.customers.get({ customer_phone: phone })).customer.name;
  } catch (error) {
    if (error instanceof OpenMumbleError && error.status === 404) return null;
    throw error;
  }
}
export async function wrong() {
  // @ts-expect-error: get-customer takes customer_phone
  await client.customers.get({ phone: '972501234567' });
  // @ts-expect-error: a name may be null
  const name: string = (await client.customers.get({ customer_phone: '972501234567' })).customer.name;
  return name;
}
export const event: VerifiedWebhook = verifyWebhook('whsec_c2VjcmV0', '{}', new Headers());
`;

describe.skipIf(!deno)('@openmumble/client’s types on Deno', () => {
  it('type-checks a program that uses the installed package (deno check)', async () => {
    writeFileSync(join(project(), 'typed.ts'), TYPED_PROGRAM);
    await runIn(deno!.path, ['check', '--quiet', 'typed.ts']);
  });
});

const BROWSER_HOST = 'openmumble.test';

/** One Chromium and one bundle for both databases, made on first use. */
let chromiumStarted: Promise<{ browser: Browser; bundle: string }> | undefined;
function chromium() {
  chromiumStarted ??= (async () => {
    const bundle = await bundleForBrowsers();
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', `--host-resolver-rules=MAP ${BROWSER_HOST} 127.0.0.1`] });
    return { browser, bundle };
  })();
  return chromiumStarted;
}

afterAll(async () => {
  if (chromiumStarted) await (await chromiumStarted.catch(() => undefined))?.browser.close().catch(() => {});
});

/**
 * The client bundled for browsers as an integrator's bundler would (Vite, resolving the package's
 * `exports` with browser conditions). A Node built-in in the client would be replaced by Vite's
 * empty browser stub with a warning, so the build must warn about nothing.
 */
async function bundleForBrowsers(): Promise<string> {
  const { build, createLogger } = await import('vite');
  const entry = join(project(), 'entry.js');
  writeFileSync(entry, "export * from '@openmumble/client';\n");
  const warnings: string[] = [];
  const logger = createLogger('warn', { allowClearScreen: false });
  logger.warn = (message) => void warnings.push(message);
  logger.warnOnce = logger.warn;
  const result = await build({
    configFile: false,
    root: project(),
    customLogger: logger,
    build: { write: false, minify: false, target: 'es2022', lib: { entry, formats: ['es'], fileName: 'client' } },
  });
  expect(warnings).toEqual([]);
  const outputs = (Array.isArray(result) ? result : [result]) as { output: { type: string; code?: string }[] }[];
  const chunks = outputs.flatMap((output) => output.output).filter((file) => file.type === 'chunk');
  expect(chunks).toHaveLength(1);
  return chunks[0]!.code!;
}
