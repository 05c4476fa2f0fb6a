import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TemplateMessage } from '../src/channels/channel.js';
import { addCustomer, api, customerOf, expectError, newTenant, nextPhone, UNLIMITED, setUpApiSuite, type Tenant } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';
import { STATUS_DELAY_MS, changeChannel, customerWrites, disableMessaging, messageOf, refusingChannel } from './messaging.js';

const INVALID = 'Invalid template configuration';
const MEDIA_LINK = 'Media link is not valid';
const NOT_APPROVED = 'Template is not approved';
const MISMATCH = 'Variables count does not match the template';

/** The reference's create-template examples, every one of which must be accepted. */
const REFERENCE_EXAMPLES: Array<Record<string, unknown>> = [
  { name: 'welcome_message', language: 'en_US', category: 'MARKETING', body: "Welcome to our store! We're glad to have you." },
  {
    name: 'order_update',
    language: 'en_US',
    category: 'UTILITY',
    body: 'Hi {{1}}! Your order {{2}} will arrive on {{3}}.',
    body_examples: ['John', '#12345', 'Jan 30'],
  },
  {
    name: 'summer_sale',
    language: 'en_US',
    category: 'MARKETING',
    header: { format: 'IMAGE' },
    body: 'Summer Sale! Get {{1}} off.',
    body_examples: ['25%'],
    media_url: 'https://example.com/banner.jpg',
  },
  {
    name: 'invoice',
    language: 'en_US',
    category: 'UTILITY',
    header: { format: 'DOCUMENT' },
    body: 'Hi {{1}}, your invoice {{2}} is attached.',
    body_examples: ['Customer', 'INV-001'],
    media_url: 'https://example.com/invoice.pdf',
  },
  {
    name: 'order_received',
    language: 'en_US',
    category: 'UTILITY',
    body: 'We received your order {{1}}. Confirm?',
    body_examples: ['#12345'],
    buttons: [
      { type: 'QUICK_REPLY', text: 'Yes, Confirmed' },
      { type: 'QUICK_REPLY', text: 'No, Cancel' },
    ],
  },
  {
    name: 'customer_support',
    language: 'en_US',
    category: 'UTILITY',
    body: 'Need help with order {{1}}? Call us!',
    body_examples: ['#12345'],
    buttons: [{ type: 'PHONE_NUMBER', text: 'Call Support', phone_number: '+972501234567' }],
  },
  {
    name: 'order_complete',
    language: 'en_US',
    category: 'UTILITY',
    header: { format: 'IMAGE' },
    body: 'Hi {{1}}! Order {{2}} confirmed. Total: {{3}}. Delivery: {{4}}.',
    body_examples: ['John', '#12345', '$99.99', 'Jan 30'],
    footer: 'Thank you for your purchase!',
    buttons: [{ type: 'QUICK_REPLY', text: 'Contact Support' }],
    media_url: 'https://example.com/order-banner.jpg',
  },
  {
    name: 'order_confirmation',
    language: 'en_US',
    category: 'MARKETING',
    header: { format: 'IMAGE' },
    body: 'Hi {{1}}! Your order {{2}} has been confirmed. Total: {{3}}.',
    body_examples: ['John Doe', '#12345', '$99.99'],
    footer: 'Thank you for shopping!',
    buttons: [{ type: 'URL', text: 'Track Order', url: 'https://example.com/track/{{1}}', example: 'order-12345' }],
    media_url: 'https://example.com/banner.jpg',
  },
];

const BASE = { name: 'shape_check', language: 'en_US', category: 'UTILITY', body: 'Hello {{1}}!', body_examples: ['Dana'] };
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `{{${i + 1}}}`).join(' ');

/** Broken shapes and the contract message each is refused with. */
const BROKEN: Array<[string, Record<string, unknown>, string]> = [
  ['no name', { ...BASE, name: undefined }, 'Template name is required'],
  ['an empty name', { ...BASE, name: '  ' }, 'Template name is required'],
  ['a name with capitals and spaces', { ...BASE, name: 'Order Update' }, INVALID],
  ['a name with a dash', { ...BASE, name: 'order-update' }, INVALID],
  ['no body', { ...BASE, body: undefined }, 'Body text is required'],
  ['a blank body', { ...BASE, body: '   ' }, 'Body text is required'],
  ['a body of 1025 characters', { ...BASE, body: 'x'.repeat(1025), body_examples: [] }, INVALID],
  ['{{0}}', { ...BASE, body: 'Hi {{0}}', body_examples: ['a'] }, INVALID],
  ['{{1}}{{3}}', { ...BASE, body: 'Hi {{1}}{{3}}', body_examples: ['a', 'b'] }, INVALID],
  ['1,000 variables', { ...BASE, body: numbered(1000), body_examples: Array.from({ length: 1000 }, () => 'x') }, INVALID],
  ['a named variable', { ...BASE, body: 'Hi {{name}}', body_examples: ['a'] }, INVALID],
  ['a lone brace pair', { ...BASE, body: 'Hi {{1}} and {{', body_examples: ['a'] }, INVALID],
  ['fewer examples than variables', { ...BASE, body: 'Hi {{1}} {{2}}', body_examples: ['a'] }, INVALID],
  ['examples without variables', { ...BASE, body: 'Hi', body_examples: ['a'] }, INVALID],
  ['variables without examples', { ...BASE, body_examples: undefined }, INVALID],
  ['no language', { ...BASE, language: undefined }, INVALID],
  ['a language that is no code', { ...BASE, language: 'English' }, INVALID],
  ['no category', { ...BASE, category: undefined }, INVALID],
  ['an unknown category', { ...BASE, category: 'PROMOTION' }, INVALID],
  ['an unsupported template type', { ...BASE, template_type: 'carousel' }, INVALID],
  ['a TEXT header', { ...BASE, header: { format: 'TEXT', text: 'Hi {{1}}' } }, INVALID],
  ['a header with other keys', { ...BASE, header: { format: 'IMAGE', example: 'x' }, media_url: 'https://example.com/a.jpg' }, INVALID],
  ['a media header without media_url', { ...BASE, header: { format: 'IMAGE' } }, MEDIA_LINK],
  ['a media_url that is no link', { ...BASE, header: { format: 'VIDEO' }, media_url: 'banner.mp4' }, MEDIA_LINK],
  ['an image header with a PDF', { ...BASE, header: { format: 'IMAGE' }, media_url: 'https://example.com/a.pdf' }, MEDIA_LINK],
  ['media_url without a header', { ...BASE, media_url: 'https://example.com/a.jpg' }, INVALID],
  ['a footer of 61 characters', { ...BASE, footer: 'x'.repeat(61) }, INVALID],
  ['a footer with a variable', { ...BASE, footer: 'Bye {{1}}' }, INVALID],
  ['buttons that are no list', { ...BASE, buttons: { type: 'QUICK_REPLY', text: 'Yes' } }, INVALID],
  ['an unknown button type', { ...BASE, buttons: [{ type: 'COPY_CODE', text: 'Copy' }] }, INVALID],
  ['a button with an unknown key', { ...BASE, buttons: [{ type: 'QUICK_REPLY', text: 'Yes', payload: 'y' }] }, INVALID],
  ['a button text of 26 characters', { ...BASE, buttons: [{ type: 'QUICK_REPLY', text: 'x'.repeat(26) }] }, INVALID],
  ['11 buttons', { ...BASE, buttons: Array.from({ length: 11 }, (_, i) => ({ type: 'QUICK_REPLY', text: `Option ${i}` })) }, INVALID],
  ['a URL button without url', { ...BASE, buttons: [{ type: 'URL', text: 'Go' }] }, INVALID],
  ['a URL button with a variable and no example', { ...BASE, buttons: [{ type: 'URL', text: 'Go', url: 'https://example.com/{{1}}' }] }, INVALID],
  ['a URL button with {{2}}', { ...BASE, buttons: [{ type: 'URL', text: 'Go', url: 'https://example.com/{{2}}', example: 'a' }] }, INVALID],
  ['a URL button with a variable in the middle', { ...BASE, buttons: [{ type: 'URL', text: 'Go', url: 'https://example.com/{{1}}/x', example: 'a' }] }, INVALID],
  ['a URL button that is no link', { ...BASE, buttons: [{ type: 'URL', text: 'Go', url: 'example.com' }] }, INVALID],
  ['three URL buttons', { ...BASE, buttons: [1, 2, 3].map((i) => ({ type: 'URL', text: `Go ${i}`, url: `https://example.com/${i}` })) }, INVALID],
  ['two phone buttons', { ...BASE, buttons: [1, 2].map((i) => ({ type: 'PHONE_NUMBER', text: `Call ${i}`, phone_number: '+972501234567' })) }, INVALID],
  ['a phone button with no phone number', { ...BASE, buttons: [{ type: 'PHONE_NUMBER', text: 'Call', phone_number: '123' }] }, INVALID],
];

describeEachDatabase('templates', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let restoreChannel: (() => void) | undefined;

  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });
  afterEach(async () => {
    restoreChannel?.();
    restoreChannel = undefined;
    await ctx.scheduler.advance(10 * STATUS_DELAY_MS);
  });

  const create = (template: Record<string, unknown>) => t.call('POST', api('create-template'), template);
  const templates = async () => (await t.call('GET', api('get-templates'))).json().templates as Array<Record<string, any>>;
  const setStatus = (templateId: string, status: string) => t.call('POST', api('sandbox/set-template-status'), { template_id: templateId, status });

  /** Creates and approves a template; returns its id. */
  async function approved(template: Record<string, unknown>): Promise<string> {
    const response = await create(template);
    expect(response.statusCode, response.body).toBe(200);
    const { id } = response.json().data;
    expect((await setStatus(id, 'APPROVED')).statusCode).toBe(200);
    return id;
  }

  describe('create-template', () => {
    it.each(REFERENCE_EXAMPLES.map((example) => [example.name, example]))('accepts the reference example %s, PENDING', async (_name, example) => {
      const response = await create(example);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({ success: true, error: false, message: 'Template created successfully', data: { id: expect.any(String), status: 'PENDING' } });
      const [listed] = await templates();
      expect(listed).toMatchObject({
        id: response.json().data.id,
        name: example.name,
        language: 'en_US',
        category: example.category,
        status: 'PENDING',
        body: example.body,
        header: example.header ?? null,
        footer: example.footer ?? null,
        buttons: example.buttons ?? [],
        variables: ((example.body_examples as string[] | undefined) ?? []).length,
        media_url: example.media_url ?? null,
      });
    });

    it.each(BROKEN)('refuses %s', async (_case, template, message) => {
      expectError(await create(template), 400, message);
      expect(await templates()).toEqual([]);
    });

    it('refuses a second template of the same name and language, not of another language', async () => {
      const template = REFERENCE_EXAMPLES[1];
      expect((await create(template)).statusCode).toBe(200);
      expectError(await create(template), 409, 'Template name already exists');
      ctx.clock.advance(1000);
      expect((await create({ ...template, language: 'he' })).statusCode).toBe(200);
      expect((await templates()).map((listed) => listed.language)).toEqual(['en_US', 'he']);
    });

    it('keeps nothing when the channel cannot submit it, so it can be tried again', async () => {
      restoreChannel = refusingChannel(ctx);
      expectError(await create(REFERENCE_EXAMPLES[0]), 500, 'An unexpected error occurred');
      restoreChannel();
      expect(await templates()).toEqual([]);
      expect((await create(REFERENCE_EXAMPLES[0])).statusCode).toBe(200);
    });

    it('never shows another account\'s templates', async () => {
      await create(REFERENCE_EXAMPLES[0]);
      const other = await newTenant(ctx);
      expect((await other.call('GET', api('get-templates'))).json()).toEqual({ success: true, templates: [] });
      expect((await other.call('POST', api('create-template'), REFERENCE_EXAMPLES[0])).statusCode).toBe(200);
    });
  });

  describe('review', () => {
    it('waits in PENDING until the sandbox sets a status', async () => {
      const { id } = (await create(REFERENCE_EXAMPLES[0])).json().data;
      await ctx.scheduler.advance(24 * 60 * 60 * 1000);
      expect((await templates())[0].status).toBe('PENDING');
      for (const status of ['REJECTED', 'APPROVED', 'PAUSED', 'DISABLED']) {
        const response = await setStatus(id, status);
        expect(response.json().template).toMatchObject({ id, status });
      }
    });

    it('refuses an unknown template, another account\'s, and an unknown status', async () => {
      const { id } = (await create(REFERENCE_EXAMPLES[0])).json().data;
      expectError(await setStatus(id, 'PENDING'), 400, 'Invalid template status.');
      expectError(await t.call('POST', api('sandbox/set-template-status'), { status: 'APPROVED' }), 400, 'Template ID is required.');
      expectError(await setStatus('no-such-template', 'APPROVED'), 404, 'Template not found');
      const other = await newTenant(ctx);
      expectError(await other.call('POST', api('sandbox/set-template-status'), { template_id: id, status: 'APPROVED' }), 404, 'Template not found');
    });

    it('approves by itself after SANDBOX_AUTO_APPROVE_TEMPLATES seconds', async () => {
      const automatic = await createTestContext(kind, { ...UNLIMITED, SANDBOX_AUTO_APPROVE_TEMPLATES: '60' });
      try {
        await automatic.call('POST', api('create-template'), REFERENCE_EXAMPLES[0]);
        const status = async () => (await automatic.call('GET', api('get-templates'))).json().templates[0].status;
        await automatic.scheduler.advance(59_999);
        expect(await status()).toBe('PENDING');
        await automatic.scheduler.advance(1);
        expect(await status()).toBe('APPROVED');
      } finally {
        await automatic.close();
      }
    });
  });

  describe('send-template and send-template-text-variable', () => {
    let phone: string;
    beforeEach(() => {
      phone = nextPhone();
    });

    const send = (endpoint: 'send-template' | 'send-template-text-variable', params: Record<string, unknown>) =>
      t.call('POST', api(endpoint), { customer_phone: phone, ...params });

    /** Records what the channel is asked to send, and sends it. */
    function recordTemplateSends(): TemplateMessage[] {
      const sends: TemplateMessage[] = [];
      restoreChannel = changeChannel(ctx, (channel) => ({
        sendTemplate: (message) => {
          sends.push(message);
          return channel.sendTemplate(message);
        },
      }));
      return sends;
    }

    it('send a template to a new contact, creating the customer from name, email and source', async () => {
      const id = await approved(REFERENCE_EXAMPLES[0]);
      const response = await send('send-template', { template_id: id, name: 'Dana', email: 'dana@example.com', source: 'campaign' });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({ success: true, message: 'Template message sent successfully', id: expect.any(Number), message_wa_id: expect.stringMatching(/^wamid\./) });
      expect(await customerOf(t.call, phone)).toMatchObject({ name: 'Dana', email: 'dana@example.com', source: 'campaign', last_interaction: ctx.clock.now().toISOString().slice(0, 19) });
      expect(await messageOf(t, response.json().message_wa_id)).toMatchObject({ type: 'template', text: "Welcome to our store! We're glad to have you.", status: 'pending' });
      await ctx.scheduler.advance(3 * STATUS_DELAY_MS);
      expect((await messageOf(t, response.json().message_wa_id)).status).toBe('read');
    });

    it('ignore the contact fields for an existing customer, and do not open the window', async () => {
      const id = await approved(REFERENCE_EXAMPLES[0]);
      await addCustomer(t.call, phone, { name: 'Original' });
      expect((await send('send-template', { template_id: id, name: 'Changed' })).statusCode).toBe(200);
      expect((await customerOf(t.call, phone)).name).toBe('Original');
      expect((await t.call('GET', api('is-active-conv'), { customer_phone: phone })).json().is_active).toBe(false);
    });

    it('fill the body variables in order and store the rendered body', async () => {
      const id = await approved(REFERENCE_EXAMPLES[1]);
      const response = await send('send-template-text-variable', { template_id: id, variable: ['Dana', '#777', 'Monday'] });
      expect(response.statusCode, response.body).toBe(200);
      expect((await messageOf(t, response.json().message_wa_id)).text).toBe('Hi Dana! Your order #777 will arrive on Monday.');
    });

    it('read text_variable when variable is absent, and numbers as text', async () => {
      const id = await approved(REFERENCE_EXAMPLES[1]);
      const response = await send('send-template-text-variable', { template_id: id, text_variable: ['Dana', 777, 'Monday'] });
      expect(response.statusCode, response.body).toBe(200);
      expect((await messageOf(t, response.json().message_wa_id)).text).toBe('Hi Dana! Your order 777 will arrive on Monday.');
    });

    it('fill URL buttons from button_variables and replace the header media with media_link', async () => {
      const sends = recordTemplateSends();
      const id = await approved(REFERENCE_EXAMPLES[7]);
      const response = await send('send-template-text-variable', {
        template_id: id,
        variable: ['Dana', '#777', '$5'],
        button_variables: ['order-777'],
        media_link: 'https://example.com/dana.jpg',
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(sends).toEqual([
        expect.objectContaining({
          to: phone,
          name: 'order_confirmation',
          language: 'en_US',
          bodyParameters: ['Dana', '#777', '$5'],
          urlButtonParameters: [{ index: 0, value: 'order-777' }],
          headerMedia: { format: 'IMAGE', link: 'https://example.com/dana.jpg' },
        }),
      ]);
      expect((await messageOf(t, response.json().message_wa_id)).media_url).toBe('https://example.com/dana.jpg');
    });

    it('send the template\'s own header media without media_link', async () => {
      const sends = recordTemplateSends();
      const id = await approved(REFERENCE_EXAMPLES[2]);
      expect((await send('send-template-text-variable', { template_id: id, variable: ['30%'] })).statusCode).toBe(200);
      expect(sends[0].headerMedia).toEqual({ format: 'IMAGE', link: 'https://example.com/banner.jpg' });
    });

    it('refuse a variable count that does not match the template', async () => {
      const withVariables = await approved(REFERENCE_EXAMPLES[1]);
      expectError(await send('send-template-text-variable', { template_id: withVariables, variable: ['Dana'] }), 400, MISMATCH);
      expectError(await send('send-template-text-variable', { template_id: withVariables, variable: ['a', 'b', 'c', 'd'] }), 400, MISMATCH);
      expectError(await send('send-template', { template_id: withVariables }), 400, MISMATCH);
      const withButton = await approved(REFERENCE_EXAMPLES[7]);
      expectError(
        await send('send-template-text-variable', { template_id: withButton, variable: ['a', 'b', 'c'] }),
        400,
        'Button variables count does not match the template',
      );
    });

    it('refuse missing variables', async () => {
      const id = await approved(REFERENCE_EXAMPLES[1]);
      expectError(await send('send-template-text-variable', { template_id: id }), 400, 'Variables are required.');
      expectError(await send('send-template-text-variable', { template_id: id, variable: [] }), 400, 'Variables are required.');
      expectError(await send('send-template-text-variable', { template_id: id, variable: [{ nested: true }] }), 400, 'Invalid template variables');
    });

    it('refuse an unknown template and one that is not approved', async () => {
      expectError(await send('send-template', { template_id: 'no-such-template' }), 404, 'Template not found');
      const { id } = (await create(REFERENCE_EXAMPLES[0])).json().data;
      expectError(await send('send-template', { template_id: id }), 400, NOT_APPROVED);
      for (const status of ['REJECTED', 'PAUSED', 'DISABLED']) {
        await setStatus(id, status);
        expectError(await send('send-template', { template_id: id }), 400, NOT_APPROVED);
      }
      const other = await newTenant(ctx);
      await setStatus(id, 'APPROVED');
      expectError(await other.call('POST', api('send-template'), { customer_phone: phone, template_id: id }), 404, 'Template not found');
    });

    it('refuse a missing phone or template id, and an invalid phone as no customer, creating nobody', async () => {
      const id = await approved(REFERENCE_EXAMPLES[0]);
      for (const endpoint of ['send-template', 'send-template-text-variable'] as const) {
        ctx.clock.advance(1000); // the messaging limit: 5 a second
        expectError(await t.call('POST', api(endpoint), { template_id: id, variable: ['x'] }), 400, 'Phone number is required.');
        expectError(await send(endpoint, { variable: ['x'] }), 400, 'Template ID is required.');
        expectError(await t.call('POST', api(endpoint), { customer_phone: '0123', template_id: id, variable: ['x'] }), 404, 'Customer not found');
      }
      expect((await t.call('GET', api('get-all-customers'))).json().total).toBe(0);
    });

    it('refuse an invalid media_link, an unknown bot and an invalid email', async () => {
      const id = await approved(REFERENCE_EXAMPLES[2]);
      expectError(await send('send-template-text-variable', { template_id: id, variable: ['x'], media_link: 'not a link' }), 400, MEDIA_LINK);
      expectError(await send('send-template-text-variable', { template_id: id, variable: ['x'], bot_token: 'no-such-bot' }), 404, 'Bot not found.');
      expectError(await send('send-template-text-variable', { template_id: id, variable: ['x'], email: 'not-an-email' }), 400, 'Failed to add customer due to invalid input');
    });

    it('refuse a disabled account and report a channel failure', async () => {
      const id = await approved(REFERENCE_EXAMPLES[0]);
      await customerWrites(t, phone);
      restoreChannel = refusingChannel(ctx);
      expectError(await send('send-template', { template_id: id }), 500, 'Failed to send template message.');
      await disableMessaging(ctx, t.accountId);
      expectError(await send('send-template', { template_id: id }), 401, 'User not authorized to send text messages.');
    });
  });
});
