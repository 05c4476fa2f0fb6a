/**
 * Campaigns survive kill -9: a real server sends a campaign, is killed mid-campaign twice, and a
 * restart finishes it. Every recipient has exactly one message, however the kills fell.
 */
import { expect, it } from 'vitest';
import { UNLIMITED } from './api.js';
import { KILLED, crashServers } from './crash-servers.js';
import { describeEachDatabase, until } from './helpers.js';
import type { ServerProcess } from './processes.js';

const API_KEY = `om_live_${'c'.repeat(43)}`;
const RECIPIENTS = 60;

describeEachDatabase('campaigns survive kill -9 (server child processes)', (kind) => {
  const servers = crashServers(kind, { OPENMUMBLE_API_KEY: API_KEY, SANDBOX_STATUS_DELAY_MS: '100000', ...UNLIMITED });
  const start = () => servers.start();

  async function call(server: ServerProcess, endpoint: string, body: unknown) {
    const response = await fetch(`${server.url}/mumbleapi/${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json', 'mumble-api-key': API_KEY }, body: JSON.stringify(body) });
    const json = (await response.json()) as Record<string, any>;
    expect(response.status, JSON.stringify(json)).toBeLessThan(300);
    return json;
  }

  /** Campaign messages per customer, read from the database by this process. */
  async function messagesPerCustomer(phonePrefix = '9725012'): Promise<number[]> {
    const rows = await servers.reader().db
      .selectFrom('customers')
      .leftJoin('messages', (join) => join.onRef('messages.customer_id', '=', 'customers.id').on('messages.sender_type', '=', 'campaign'))
      .select(['customers.phone', (eb) => eb.fn.count<number | string>('messages.id').as('sent')])
      .where('customers.phone', 'like', `${phonePrefix}%`)
      .groupBy('customers.phone')
      .execute();
    return rows.map((row) => Number(row.sent));
  }

  /**
   * A recipient is taken in the transaction that records its message: every taken recipient has its
   * own message, of its customer, and every campaign message belongs to exactly one taken recipient.
   */
  async function expectClaimsMatchMessages(): Promise<void> {
    const { db } = servers.reader();
    const recipients = await db.selectFrom('campaign_recipients').select(['state', 'message_id', 'customer_id']).execute();
    const messages = await db.selectFrom('messages').select(['id', 'customer_id']).where('sender_type', '=', 'campaign').execute();
    const messageCustomer = new Map(messages.map((message) => [Number(message.id), message.customer_id]));
    const taken = recipients.filter((recipient) => recipient.state === 'sent');
    expect(taken.filter((recipient) => recipient.message_id === null || messageCustomer.get(Number(recipient.message_id)) !== recipient.customer_id)).toEqual([]);
    expect(recipients.filter((recipient) => recipient.state !== 'sent' && recipient.message_id !== null)).toEqual([]);
    expect(new Set(taken.map((recipient) => Number(recipient.message_id))).size).toBe(messages.length);
    expect(taken).toHaveLength(messages.length);
  }

  it('sends every recipient exactly one message across kills mid-campaign', async () => {
    const first = await start();
    const template = (await call(first, 'create-template', { name: 'crash_test', language: 'en_US', category: 'MARKETING', body: 'Hi {{1}}', body_examples: ['Ann'] })).data.id;
    await call(first, 'sandbox/set-template-status', { template_id: template, status: 'APPROVED' });
    await call(first, 'add-new-label', { label_name: 'All' });
    for (let i = 0; i < RECIPIENTS; i += 1) {
      const phone = `9725012${String(i).padStart(5, '0')}`;
      await call(first, 'add-new-customer', { customer_phone: phone, name: `C${i}` });
      await call(first, 'add-customer-to-label', { customer_phone: phone, label_name: 'All' });
    }
    const { campaign } = await call(first, 'create-campaign', { name: 'Crash', template_id: template, audience: { labels_any: ['All'] }, variables: ['{{customer.name}}'], rate_per_second: 25 });
    // Killed once some (not all) have gone out, twice.
    await until(async () => (await messagesPerCustomer()).filter((n) => n > 0).length >= 10, 'the campaign under way', { limitMs: 30_000, everyMs: 20 });
    expect(await first.stop('SIGKILL')).toEqual(KILLED);
    await expectClaimsMatchMessages();
    await servers.leasesRunOut();
    const second = await start();
    await until(async () => (await messagesPerCustomer()).filter((n) => n > 0).length >= 30, 'more sent', { limitMs: 30_000, everyMs: 20 });
    expect(await second.stop('SIGKILL')).toEqual(KILLED);
    await expectClaimsMatchMessages();
    await servers.leasesRunOut();
    const last = await start();
    await until(async () => (await call(last, 'get-campaign', { campaign_id: campaign.id })).campaign.status === 'completed', 'the campaign completed', { limitMs: 60_000, everyMs: 100 });
    const perCustomer = await messagesPerCustomer();
    expect(perCustomer).toHaveLength(RECIPIENTS);
    expect(perCustomer.every((n) => n === 1)).toBe(true);
    await expectClaimsMatchMessages();
    expect(await last.stop('SIGKILL')).toEqual(KILLED);
  }, 180_000);

  it('keeps claims and messages together when killed in the middle of batched rounds (200/s: slices of 20)', async () => {
    const batched = 300;
    const first = await start();
    const template = (await call(first, 'create-template', { name: 'crash_batch', language: 'en_US', category: 'MARKETING', body: 'Hi {{1}}', body_examples: ['Ann'] })).data.id;
    await call(first, 'sandbox/set-template-status', { template_id: template, status: 'APPROVED' });
    const phones = Array.from({ length: batched }, (_, i) => `9725014${String(i).padStart(5, '0')}`);
    for (const phone of phones) await call(first, 'add-new-customer', { customer_phone: phone, name: `B${phone.slice(-3)}` });
    const { campaign } = await call(first, 'create-campaign', { name: 'Batched', template_id: template, audience: { phones }, variables: ['{{customer.name}}'], rate_per_second: 200 });
    const sentSoFar = async () => (await messagesPerCustomer('9725014')).filter((n) => n > 0).length;
    await until(async () => (await sentSoFar()) >= 30, 'the campaign under way', { limitMs: 30_000, everyMs: 10 });
    expect(await first.stop('SIGKILL')).toEqual(KILLED);
    await expectClaimsMatchMessages();
    await servers.leasesRunOut();
    const second = await start();
    await until(async () => (await sentSoFar()) >= 150, 'more sent', { limitMs: 30_000, everyMs: 10 });
    expect(await second.stop('SIGKILL')).toEqual(KILLED);
    await expectClaimsMatchMessages();
    await servers.leasesRunOut();
    const last = await start();
    await until(async () => (await call(last, 'get-campaign', { campaign_id: campaign.id })).campaign.status === 'completed', 'the campaign completed', { limitMs: 60_000, everyMs: 100 });
    const perCustomer = await messagesPerCustomer('9725014');
    expect(perCustomer).toHaveLength(batched);
    expect(perCustomer.every((n) => n === 1)).toBe(true);
    await expectClaimsMatchMessages();
    expect(await last.stop('SIGKILL')).toEqual(KILLED);
  }, 180_000);
});
