/**
 * Flow bots on the WhatsApp Cloud API, against the Graph API simulator: the interactive payloads Meta
 * receives, taps coming back as `button_reply` / `list_reply` webhooks, Meta's redeliveries, and the
 * bot's messages stored as the bot's.
 */
import { beforeAll, expect, it } from 'vitest';
import { JobWorker } from '../src/jobs/worker.js';
import { botJobHandlers } from '../src/modules/bots/bot-runner.js';
import { createBot } from '../src/modules/bots/bots.service.js';
import { sendRetryJobHandler, webhookJobHandler } from '../src/modules/whatsapp/whatsapp.jobs.js';
import { addCustomer, nextPhone } from './api.js';
import { LIST_FLOW, ORDER_FLOW, customerIdOf, storedMessages } from './bots-helpers.js';
import { setUpCloudApiSuite, type CloudApiFixture } from './cloud-api-fixture.js';
import { inboundDelivery } from './graph-simulator.js';
import { describeEachDatabase } from './helpers.js';

describeEachDatabase('flow bots on the Cloud API', (kind) => {
  let f: CloudApiFixture;
  /** Meta's webhooks and the bot engine's jobs, as the server's one worker runs them. */
  let worker: JobWorker;
  setUpCloudApiSuite(kind, { fixture: (value) => (f = value) });

  beforeAll(async () => {
    const { deps } = f.ctx;
    worker = new JobWorker(deps, [webhookJobHandler(deps, deps.whatsapp), sendRetryJobHandler(deps, deps.whatsapp), ...botJobHandlers(deps)], { name: 'bots-cloud' });
    // Its keyword trigger ("order") starts it for any customer without a bot.
    await createBot(deps, f.ctx.accountId, { name: 'Orders', flow: ORDER_FLOW });
  });

  const now = () => Math.floor(f.ctx.clock.now().getTime() / 1000);

  /** Meta delivers a message (a signed webhook), then every due job runs; returns the delivery (to deliver it again). */
  async function customerSends(phone: string, message: Record<string, unknown>, wamid?: string) {
    const delivery = inboundDelivery(f.ids, { phone, name: 'John' }, message, { timestamp: now(), ...(wamid && { wamid }) });
    await deliver(delivery.payload);
    return delivery;
  }

  async function deliver(payload: object) {
    const response = await f.webhook(payload);
    expect(response.statusCode, response.body).toBe(200);
    await worker.runDue();
  }

  const text = (body: string) => ({ type: 'text', text: { body } });
  const sentTo = (phone: string) => f.simulator.sentMessages().filter((body) => body.to === phone);

  it('sends the order-status menu as reply buttons, exactly as Meta takes them', async () => {
    const phone = nextPhone();
    await customerSends(phone, text('Where is my order?'));
    const [greeting, menu, ...rest] = sentTo(phone);
    expect(rest).toEqual([]);
    expect(greeting).toMatchObject({ messaging_product: 'whatsapp', recipient_type: 'individual', to: phone, type: 'text', text: { body: 'Hi John! How can we help?' } });
    const { biz_opaque_callback_data: callback, ...payload } = menu;
    expect(typeof callback).toBe('string');
    expect(payload).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: phone,
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Choose one' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'track', title: 'Track order' } },
            { type: 'reply', reply: { id: 'human', title: 'Talk to us' } },
          ],
        },
      },
    });
  });

  it('a button_reply webhook moves the flow; the bot messages are stored as the bot’s', async () => {
    const phone = nextPhone();
    await customerSends(phone, text('order please'));
    f.simulator.reset();
    await customerSends(phone, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'track', title: 'Track order' } } });
    expect(sentTo(phone).map((body) => body.text?.body)).toEqual(['What is your order number?']);
    await customerSends(phone, text('#4321'));
    expect(sentTo(phone).map((body) => body.text?.body)).toEqual(['What is your order number?', 'Thanks! Order #4321 is on its way.']);

    const customerId = await customerIdOf(f.ctx.deps.database.db, f.ctx.accountId, phone);
    const messages = await storedMessages(f.ctx.deps.database.db, customerId);
    const outbound = messages.filter((m) => m.direction === 'outbound');
    expect(outbound.map((m) => [m.type, m.text, m.sender_type])).toEqual([
      ['text', 'Hi John! How can we help?', 'bot'],
      ['interactive', 'Choose one', 'bot'],
      ['text', 'What is your order number?', 'bot'],
      ['text', 'Thanks! Order #4321 is on its way.', 'bot'],
    ]);
    // Each went to Meta and got its wamid.
    expect(outbound.every((m) => m.status !== 'failed')).toBe(true);
    expect(messages.find((m) => m.direction === 'inbound' && m.type === 'interactive')?.text).toBe('Track order');
  });

  it('a tap on "Talk to us" hands the customer over; the bot then stays silent', async () => {
    const phone = nextPhone();
    await customerSends(phone, text('my order'));
    await customerSends(phone, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'human', title: 'Talk to us' } } });
    await customerSends(phone, text('order?'));
    expect(sentTo(phone).map((body) => body.text?.body ?? body.interactive?.body.text)).toEqual(['Hi John! How can we help?', 'Choose one', 'Connecting you to a person…']);
  });

  it('sends a list node as an interactive list, and a list_reply webhook picks its row', async () => {
    const phone = nextPhone();
    const bot = await createBot(f.ctx.deps, f.ctx.accountId, { name: 'Call back', flow: LIST_FLOW });
    await addCustomer(f.ctx.call, phone, { name: 'John', bot_token: bot.id });
    await customerSends(phone, text('hello'));
    const [list, ...rest] = sentTo(phone);
    expect(rest).toEqual([]);
    const { biz_opaque_callback_data: _callback, ...payload } = list;
    expect(payload).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: phone,
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'When should we call?' },
        action: {
          button: 'Pick a time',
          sections: [
            { title: 'Morning', rows: [{ id: 'mon-am', title: 'Monday morning', description: '9:00 to 12:00' }, { id: 'tue-am', title: 'Tuesday morning' }] },
            { title: 'Evening', rows: [{ id: 'mon-pm', title: 'Monday evening' }] },
          ],
        },
      },
    });
    await customerSends(phone, { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'mon-pm', title: 'Monday evening' } } });
    expect(sentTo(phone).slice(1).map((body) => body.text?.body)).toEqual(['See you in the evening']);
  });

  it('the same webhook (same wamid) delivered twice gets one bot answer, before or after the first is processed', async () => {
    const phone = nextPhone();
    // Redelivered before the first delivery's jobs ran…
    const first = inboundDelivery(f.ids, { phone, name: 'John' }, text('where is my order'), { timestamp: now() });
    expect((await f.webhook(first.payload)).statusCode).toBe(200);
    expect((await f.webhook(first.payload)).statusCode).toBe(200);
    await worker.runDue();
    expect(sentTo(phone)).toHaveLength(2);
    // …and after it was answered, in another body (another entry id), as Meta may.
    await deliver(first.payload);
    const again = inboundDelivery(f.ids, { phone, name: 'John' }, text('where is my order'), { timestamp: now(), wamid: first.wamid });
    (again.payload as any).entry[0].id = 'another-entry-id';
    await deliver(again.payload);
    expect(sentTo(phone)).toHaveLength(2);
    // The tap is redelivered too: the flow moves once.
    const tap = await customerSends(phone, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'track', title: 'Track order' } } });
    await deliver(tap.payload);
    expect(sentTo(phone).map((body) => body.text?.body ?? body.interactive?.body.text)).toEqual(['Hi John! How can we help?', 'Choose one', 'What is your order number?']);
    const customerId = await customerIdOf(f.ctx.deps.database.db, f.ctx.accountId, phone);
    expect((await storedMessages(f.ctx.deps.database.db, customerId)).filter((m) => m.direction === 'inbound')).toHaveLength(2);
  });
});
