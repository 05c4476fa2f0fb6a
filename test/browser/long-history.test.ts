import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../processes.js';
import { ADMIN, hasChromium, startHarness, type Harness } from './harness.js';

/**
 * A 10,000-message history in a real browser: how long the newest messages take to show, and how
 * smooth scrolling up through older pages is (frame times from requestAnimationFrame). The figures
 * are printed (and written to docs/inbox.md by hand), never asserted: they depend on the machine.
 */

const MESSAGES = 10_000;
const DAYS = 100;
const PHONE = '972503330001';
const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');

const WORDS = ['order', 'delivery', 'thanks', 'tomorrow', 'invoice', 'מחר', 'תודה', 'הזמנה', 'the', 'is', 'on', 'its', 'way', 'please', 'check'];
/** A message text of 1 to 4 lines, deterministic per index. */
function textOf(index: number): string {
  const words = 3 + ((index * 7919) % 40);
  return `message #${index + 1}: ${Array.from({ length: words }, (_v, w) => WORDS[(index + w * 13) % WORDS.length]).join(' ')}`;
}

/** Installed before the app: the time the newest message first appears (ms since navigation start). */
const FIRST_RENDER_PROBE = `
  window.__firstRender = null;
  /** How far back the reader has come: messages from the newest to the oldest one in the page. */
  window.__loaded = () => {
    const texts = document.querySelectorAll('[role=log] .bubble .text');
    const oldest = /#(\\d+):/.exec(texts[0]?.textContent ?? '');
    return oldest ? ${MESSAGES} - Number(oldest[1]) + 1 : 0;
  };
  new MutationObserver((_records, observer) => {
    if (document.querySelector('[role=log]')?.textContent?.includes('message #${MESSAGES}:')) {
      window.__firstRender = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
`;

/**
 * Scrolls the timeline up by `step` px a frame for up to `seconds` (or until `items` messages are
 * loaded), recording every frame's duration; the older pages load as the top comes into view.
 */
const SCROLL_UP = (step: number, seconds: number, items: number) => `new Promise((resolve) => {
  const log = document.querySelector('[role=log]');
  const frames = [];
  const start = performance.now();
  let last = start;
  const tick = (now) => {
    frames.push(now - last);
    last = now;
    log.scrollTop = Math.max(0, log.scrollTop - ${step});
    const loaded = window.__loaded();
    if (now - start > ${seconds * 1000} || loaded >= ${items}) {
      resolve({ frames: frames.slice(1), loaded, ms: now - start, nodes: document.getElementsByTagName('*').length });
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})`;

interface ScrollRun {
  frames: number[];
  loaded: number;
  ms: number;
  nodes: number;
}

function summary(run: ScrollRun) {
  const sorted = [...run.frames].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
  return {
    seconds: Math.round(run.ms / 100) / 10,
    frames: run.frames.length,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: Math.round(sorted[sorted.length - 1]! * 10) / 10,
    over50ms: run.frames.filter((frame) => frame > 50).length,
    scrolledBackMessages: run.loaded,
    domNodes: run.nodes,
  };
}

describe.skipIf(!hasChromium)('a 10,000-message history in Chromium', () => {
  let h: Harness;
  let customerId: string;

  beforeAll(async () => {
    h = await startHarness();
    // The newest message through the sandbox (the customer, their window), the rest in bulk, older.
    await h.mumble('sandbox/receive-message', { customer_phone: PHONE, name: 'Long History', text: textOf(MESSAGES - 1) });
    const database = h.database.open();
    try {
      const { db } = database;
      const customer = await db.selectFrom('customers').select(['id', 'account_id']).where('phone', '=', PHONE).executeTakeFirstOrThrow();
      const agent = await db.selectFrom('agents').select('id').where('email_normalized', '=', ADMIN.email).executeTakeFirstOrThrow();
      customerId = customer.id;
      const newest = Date.now() - 60_000;
      const spacing = Math.floor((DAYS * 86_400_000) / MESSAGES);
      const rows = Array.from({ length: MESSAGES - 1 }, (_v, index) => {
        const at = new Date(newest - (MESSAGES - 1 - index) * spacing).toISOString();
        const outbound = index % 3 === 2;
        return {
          account_id: customer.account_id,
          customer_id: customer.id,
          message_wa_id: `wamid.history-${index}`,
          direction: outbound ? 'outbound' : 'inbound',
          type: 'text',
          text: textOf(index),
          media_url: null,
          media_key: null,
          media_mime_type: null,
          media_filename: null,
          template_id: null,
          sender_type: outbound ? 'agent' : null,
          sender_agent_id: outbound ? agent.id : null,
          content: null,
          business_phone: '15550000000',
          status: outbound ? 'read' : 'received',
          error_code: null,
          error_title: null,
          created_at: at,
          updated_at: at,
        };
      });
      for (let start = 0; start < rows.length; start += 500) await db.insertInto('messages').values(rows.slice(start, start + 500)).execute();
      const count = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('customer_id', '=', customer.id).executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(MESSAGES);
    } finally {
      await database.close();
    }
  }, 180_000);
  afterAll(() => h?.stop());

  const openHistory = async () => {
    const context = await h.context({ lang: 'en' });
    await context.addInitScript(FIRST_RENDER_PROBE);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await h.signIn(page, ADMIN.email, ADMIN.password);
    return page;
  };

  const measureOpen = async (page: Page) => {
    await page.goto(`/app/c/${customerId}`);
    await page.getByRole('log', { name: 'Long History' }).getByText(`message #${MESSAGES}:`).waitFor();
    await page.waitForFunction('window.__firstRender !== null');
    return Math.round((await page.evaluate('window.__firstRender')) as number);
  };

  it('opens at the newest messages, and scrolls up through older pages', async () => {
    const page = await openHistory();
    const firstRenders: number[] = [];
    for (let run = 0; run < 3; run += 1) firstRenders.push(await measureOpen(page));
    // The newest message is in view, at the bottom.
    const log = page.getByRole('log', { name: 'Long History' });
    const fromBottom = () => log.evaluate((node) => { const el = node as unknown as { scrollHeight: number; scrollTop: number; clientHeight: number }; return el.scrollHeight - el.scrollTop - el.clientHeight; });
    await expect.poll(fromBottom).toBeLessThan(80);
    expect(await log.getByText(`message #${MESSAGES}:`).isVisible()).toBe(true);

    const steady = (await page.evaluate(SCROLL_UP(40, 10, 2_000))) as ScrollRun;
    const fast = (await page.evaluate(SCROLL_UP(400, 20, 3_000))) as ScrollRun;
    // Far back in the history, the page holds only the rows near the view…
    expect(fast.loaded).toBeGreaterThan(500);
    expect(await log.locator('.bubble').count()).toBeLessThan(100);
    // …and the reader stays on what they were reading while older pages load and rows are measured above.
    const place = () => log.evaluate((node) => {
      const root = node as unknown as { getBoundingClientRect(): { top: number }; querySelectorAll(s: string): ArrayLike<{ getBoundingClientRect(): { top: number }; textContent: string | null }> };
      const top = root.getBoundingClientRect().top;
      const first = Array.from(root.querySelectorAll('.bubble .text')).find((text) => text.getBoundingClientRect().top >= top);
      return { text: first?.textContent?.slice(0, 16), top: Math.round((first?.getBoundingClientRect().top ?? 0) - top) };
    });
    const before = await place();
    await page.waitForTimeout(1_500);
    expect(await place()).toEqual(before);
    await page.screenshot({ path: join(SCREENSHOTS, 'long-history-desktop-en.png') });

    const figures = { firstRenderMs: firstRenders, steadyScroll40pxPerFrame10s: summary(steady), fastScroll400pxPerFrameTo3000: summary(fast) };
    console.log(`long history figures (${process.env.TEST_DATABASE_URL ? 'postgres' : 'sqlite'}): ${JSON.stringify(figures)}`);
  }, 180_000);
});
