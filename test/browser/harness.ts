import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createScratchDatabase, postgresUrl, type ScratchDatabase } from '../helpers.js';
import { ROOT, startServerProcess, type ServerProcess } from '../processes.js';

/**
 * The web inbox in a real browser: Debian's Chromium driven by playwright-core (which never downloads
 * a browser of its own), against the server started as a process, as a person would run it.
 */

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`skipping: browser suites (${CHROMIUM} is missing; apt-get install -y chromium)`);

export const API_KEY = `om_live_${'browsertests'.repeat(4)}`;
export const ADMIN = { email: 'admin@example.com', password: 'admin password 1' };
export const ADMIN_TOKEN = 'browser-tests-admin-token';

/** The web build the server serves, brought up to date as `npm install` would (no-op when nothing changed). */
export function ensureWebBuild(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-if-changed.mjs'), 'web'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`the web build failed:\n${result.stdout}${result.stderr}`);
}

export interface Harness {
  server: ServerProcess;
  database: ScratchDatabase;
  browser: Browser;
  accountId: string;
  /** A Mumble API call with the default account's key. */
  mumble<T = Record<string, unknown>>(path: string, body?: Record<string, unknown>): Promise<T>;
  /** An admin API call. */
  admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  /** A person of the default account who can sign in. */
  person(name: string, role?: 'admin' | 'supervisor' | 'agent'): Promise<{ id: string; email: string; password: string }>;
  /** A new browser window (its own cookies), with the language preset when given. */
  context(options?: { lang?: 'en' | 'he'; phone?: boolean }): Promise<BrowserContext>;
  signIn(page: Page, email: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

const GET_ROUTES = new Set(['get-customer', 'get-all-customers', 'get-agents', 'get-teams', 'get-bots', 'get-labels', 'get-message', 'get-conversation', 'is-active-conv', 'get-templates']);

/** `env` adds to (or overrides) the server's settings. */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  ensureWebBuild();
  const database = await createScratchDatabase(postgresUrl ? 'postgres' : 'sqlite');
  const server = await database.underSchemaLock(() =>
    startServerProcess({
      env: {
        DATABASE_URL: database.url,
        MEDIA_DIR: join(database.dir, 'media'),
        OPENMUMBLE_API_KEY: API_KEY,
        OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN,
        OPENMUMBLE_ADMIN_EMAIL: ADMIN.email,
        OPENMUMBLE_ADMIN_PASSWORD: ADMIN.password,
        SANDBOX_STATUS_DELAY_MS: '150',
        LIVE_SESSION_CHECK_INTERVAL: '500ms',
        RATE_LIMIT_PER_IP: '100000',
        SIGN_IN_LIMIT_PER_IP: '1000',
        LOG_LEVEL: 'warn',
        ...env,
      },
    }),
  );
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--font-render-hinting=none'] });

  const mumble = async <T>(path: string, body: Record<string, unknown> = {}): Promise<T> => {
    const get = GET_ROUTES.has(path);
    const query = get ? `?${new URLSearchParams(Object.entries(body).map(([key, value]): [string, string] => [key, String(value)]))}` : '';
    const response = await fetch(`${server.url}/mumbleapi/${path}${query}`, {
      method: get ? 'GET' : 'POST',
      headers: { 'mumble-api-key': API_KEY, ...(!get && { 'content-type': 'application/json' }) },
      body: get ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as T;
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${server.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as T;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const { accounts } = await admin<{ accounts: { id: string }[] }>('GET', '/accounts');
  const accountId = accounts[0]!.id;
  let people = 0;

  return {
    server,
    database,
    browser,
    accountId,
    mumble,
    admin,
    person: async (name, role = 'agent') => {
      people += 1;
      const email = `person${people}@example.com`;
      const password = `password of ${name}`;
      const { agent } = await admin<{ agent: { id: string } }>('POST', `/accounts/${accountId}/agents`, { name, email, password, role });
      return { id: agent.id, email, password };
    },
    context: async ({ lang, phone } = {}) => {
      const context = await browser.newContext({
        baseURL: server.url,
        viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
        deviceScaleFactor: 1,
        ...(phone && { isMobile: true, hasTouch: true }),
        locale: lang === 'he' ? 'he-IL' : 'en-GB',
        timezoneId: 'Asia/Jerusalem',
      });
      // Scripts for the page are strings: this project's TypeScript has no DOM types.
      if (lang) await context.addInitScript(`localStorage.setItem('openmumble.lang', ${JSON.stringify(lang)})`);
      return context;
    },
    signIn: async (page, email, password) => {
      await page.goto('/app/login');
      // By role and name in English; by type in another language.
      const english = (await page.evaluate('document.documentElement.lang')) === 'en';
      await (english ? page.getByRole('textbox', { name: 'Email' }) : page.locator('input[type=email]')).fill(email);
      await (english ? page.getByRole('textbox', { name: 'Password' }) : page.locator('input[type=password]')).fill(password);
      await (english ? page.getByRole('button', { name: 'Sign in' }) : page.locator('button[type=submit]')).click();
      await page.locator('#conversation-list').waitFor();
    },
    stop: async () => {
      await browser.close().catch(() => {});
      await server.stop();
      await database.drop();
    },
  };
}

const requireFromHere = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(requireFromHere.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string }[];
}

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.1 A and AA rules). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(tags)} } }).then((result) =>
      result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, html: n.html })) })))`,
  )) as AxeViolation[];
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}
