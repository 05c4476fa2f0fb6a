import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../processes.js';
import { ADMIN, hasChromium, startHarness, type Harness } from './harness.js';

/**
 * The inbox follows the person (their language in every browser), tells about messages while the
 * tab is in the background, and shows media both ways.
 */

const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');

/**
 * Before the app's scripts: a page visibility the test sets (`__setHidden`) and a Notification that
 * records what the app raises (`__notifications`), with a permission the test sets.
 */
const BACKGROUND_AND_NOTIFICATIONS = `
  window.__notifications = [];
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event('visibilitychange')); };
  class RecordingNotification {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve(RecordingNotification.permission); }
    constructor(title, options = {}) {
      this.onclick = null;
      window.__notifications.push({ title, body: options.body, tag: options.tag, lang: options.lang });
      window.__lastNotification = this;
    }
    close() {}
  }
  window.Notification = RecordingNotification;
`;

describe.skipIf(!hasChromium)('the inbox follows the person, the background and media in Chromium', () => {
  let h: Harness;
  const contexts: BrowserContext[] = [];
  const open = async (options: Parameters<Harness['context']>[0] = {}) => {
    const context = await h.context(options);
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    return { context, page };
  };
  const htmlLang = (page: Page) => page.evaluate('[document.documentElement.lang, document.documentElement.dir]');
  const row = (page: Page, name: string) => page.getByRole('list', { name: 'Conversations' }).getByRole('listitem', { name, exact: true });

  beforeAll(async () => {
    h = await startHarness();
  }, 120_000);
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await h?.stop();
  });

  it('keeps the language a person chooses on the person: another browser of theirs opens in it, another person’s does not', async () => {
    const lea = await h.person('Lea Mizrahi', 'agent');
    const first = await open({ lang: 'en' });
    await h.signIn(first.page, lea.email, lea.password);
    expect(await htmlLang(first.page)).toEqual(['en', 'ltr']);
    await first.page.getByRole('combobox', { name: 'Language' }).selectOption('he');
    await expect.poll(() => htmlLang(first.page)).toEqual(['he', 'rtl']);
    await expect.poll(async () => (await (await first.page.request.get('/app/api/me')).json()).user.language).toBe('he');

    // A new browser (no stored choice, an English locale): signed in, the person's language wins.
    const second = await open();
    await h.signIn(second.page, lea.email, lea.password);
    await expect.poll(() => htmlLang(second.page)).toEqual(['he', 'rtl']);
    await second.page.getByRole('tablist').getByRole('tab', { name: 'הכול' }).waitFor();
    // …and a change there follows the person back to the first browser on its next load.
    await second.page.getByRole('combobox', { name: 'שפה' }).selectOption('en');
    await expect.poll(() => htmlLang(second.page)).toEqual(['en', 'ltr']);
    await expect.poll(async () => (await (await second.page.request.get('/app/api/me')).json()).user.language).toBe('en');
    await first.page.reload();
    await first.page.locator('#conversation-list').waitFor();
    await expect.poll(() => htmlLang(first.page)).toEqual(['en', 'ltr']);

    // Someone who never chose keeps their browser's language.
    const admin = await open({ lang: 'he' });
    await h.signIn(admin.page, ADMIN.email, ADMIN.password);
    expect(await htmlLang(admin.page)).toEqual(['he', 'rtl']);
    expect((await (await admin.page.request.get('/app/api/me')).json()).user.language).toBeNull();
  });

  it('counts messages in the title and raises a notification (when permitted) while the tab is in the background', async () => {
    const { context, page } = await open({ lang: 'en' });
    await context.grantPermissions(['notifications']);
    await context.addInitScript(BACKGROUND_AND_NOTIFICATIONS);
    await h.signIn(page, ADMIN.email, ADMIN.password);
    await h.mumble('sandbox/receive-message', { customer_phone: '972502220001', name: 'Noa Peretz', text: 'Are you open today?' });
    await row(page, 'Noa Peretz').waitFor();
    // In the foreground nothing is counted or raised.
    expect(await page.title()).toBe('openmumble');
    expect(await page.evaluate('window.__notifications.length')).toBe(0);

    await page.evaluate('window.__setHidden(true)');
    await h.mumble('sandbox/receive-message', { customer_phone: '972502220001', text: 'I need a table for two' });
    await expect.poll(() => page.title()).toBe('(1) openmumble');
    await expect.poll(() => page.evaluate('window.__notifications')).toEqual([
      { title: 'New message from Noa Peretz', body: 'I need a table for two', tag: expect.any(String), lang: 'en' },
    ]);
    const tag = (await page.evaluate('window.__notifications[0].tag')) as string;

    // Without permission: the title still counts, nothing is raised.
    await page.evaluate('Notification.permission = "denied"');
    await h.mumble('sandbox/receive-message', { customer_phone: '972502220002', name: 'Eli Bar', text: 'Hello?' });
    await expect.poll(() => page.title()).toBe('(2) openmumble');
    await row(page, 'Eli Bar').waitFor();
    expect(await page.evaluate('window.__notifications.length')).toBe(1);

    // Back in the foreground the count clears; the notification opens its conversation.
    await page.evaluate('window.__setHidden(false)');
    await expect.poll(() => page.title()).toBe('openmumble');
    await page.evaluate('window.__lastNotification.onclick()');
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/app/c/${tag}`);
    await page.getByRole('log', { name: 'Noa Peretz' }).getByText('I need a table for two').waitFor();
  });

  it('sends an image from the composer and shows inbound images, documents, locations, contacts and reactions', async () => {
    const { page } = await open({ lang: 'en' });
    await h.signIn(page, ADMIN.email, ADMIN.password);
    const phone = '972502220003';
    await h.mumble('sandbox/receive-message', { customer_phone: phone, name: 'Media Customer', text: 'I will send you the details' });
    await row(page, 'Media Customer').getByRole('link').click();
    const log = page.getByRole('log', { name: 'Media Customer' });
    await log.getByText('I will send you the details').waitFor();

    // An image drawn by the browser itself, sent from the composer with a caption.
    const png = Buffer.from(
      ((await page.evaluate(`(() => {
        const canvas = Object.assign(document.createElement('canvas'), { width: 240, height: 160 });
        const g = canvas.getContext('2d');
        g.fillStyle = '#2a7'; g.fillRect(0, 0, 240, 160);
        g.fillStyle = '#fff'; g.font = 'bold 28px sans-serif'; g.fillText('receipt', 60, 90);
        return canvas.toDataURL('image/png');
      })()`)) as string).split(',')[1]!,
      'base64',
    );
    await page.getByRole('textbox', { name: 'Message' }).fill('Here is your receipt');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Attach a file' }).click()]);
    await chooser.setFiles({ name: 'receipt.png', mimeType: 'image/png', buffer: png });
    const sent = page.locator('.bubble.out', { hasText: 'Here is your receipt' });
    await sent.locator('img.media').waitFor();
    await expect.poll(() => sent.locator('img.media').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(240);
    await sent.getByRole('img', { name: 'Read' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Message' }).inputValue()).toBe('');
    const conversation = await h.mumble<{ messages: { type: string; text: string | null; direction: string }[] }>('get-conversation', { customer_phone: phone });
    expect(conversation.messages).toContainEqual(expect.objectContaining({ type: 'image', text: 'Here is your receipt', direction: 'outbound' }));

    // The customer's side, live: an image, a document, a location, contacts, and a reaction on the image.
    const { message_wa_id: photo } = await h.mumble<{ message_wa_id: string }>('sandbox/receive-media', {
      customer_phone: phone,
      type: 'image',
      filename: 'photo.png',
      content_base64: png.toString('base64'),
      caption: 'The parcel as it arrived',
    });
    await h.mumble('sandbox/receive-media', { customer_phone: phone, type: 'document', filename: 'invoice.pdf', content_base64: Buffer.from('%PDF-1.4\n% openmumble test\n').toString('base64') });
    await h.mumble('sandbox/receive-media', { customer_phone: phone, type: 'location', location: { latitude: 32.0853, longitude: 34.7818, name: 'Dizengoff Center' } });
    await h.mumble('sandbox/receive-media', { customer_phone: phone, type: 'contacts', contacts: [{ name: 'Avi Cohen', phones: ['+972501234567'] }] });
    await h.mumble('sandbox/receive-media', { customer_phone: phone, type: 'reaction', reaction: { message_wa_id: photo, emoji: '👍' } });

    const inboundImage = page.locator('.bubble.in', { hasText: 'The parcel as it arrived' });
    await inboundImage.locator('img.media').waitFor();
    await expect.poll(() => inboundImage.locator('img.media').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(240);
    const document = log.getByRole('link', { name: 'invoice.pdf' });
    await document.waitFor();
    expect(await document.getAttribute('href')).toMatch(/^\/app\/api\/media\/\d+$/);
    expect(await document.getAttribute('download')).toBe('invoice.pdf');
    const pdf = await page.request.get((await document.getAttribute('href'))!);
    expect([pdf.status(), pdf.headers()['content-type'], (await pdf.body()).toString().slice(0, 8)]).toEqual([200, 'application/pdf', '%PDF-1.4']);
    const location = log.getByRole('link', { name: 'Dizengoff Center' });
    await location.waitFor();
    expect(await location.getAttribute('href')).toBe('https://www.openstreetmap.org/?mlat=32.0853&mlon=34.7818#map=16/32.0853/34.7818');
    await log.locator('.contacts li', { hasText: 'Avi Cohen' }).getByText('+972501234567').waitFor();
    // The reaction sits on the image it reacts to, not as a message of its own.
    const reaction = page.locator('.item', { has: inboundImage }).getByLabel('Reacted 👍');
    await reaction.waitFor();
    expect(await log.locator('.bubble').filter({ hasText: '👍' }).count()).toBe(0);

    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator('.timeline').evaluate((node) => ((node as unknown as { scrollTop: number; scrollHeight: number }).scrollTop = (node as unknown as { scrollHeight: number }).scrollHeight));
    await page.screenshot({ path: join(SCREENSHOTS, 'media-desktop-en.png') });
  });
});
