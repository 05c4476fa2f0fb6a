import { describe, expect, it } from 'vitest';
import { contentOf, parseWebhook, phoneNumberIdsOf, type InboundMessage } from './webhook-parser.js';

const PNID = '106540352242922';

/** A `messages` delivery as Meta sends it, with one change. */
function delivery(value: Record<string, unknown>, field = 'messages') {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [{ field, value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: PNID }, ...value } }],
      },
    ],
  };
}

function inbound(message: Record<string, unknown>, name = 'Sheena Nelson'): InboundMessage {
  const parsed = parseWebhook(
    delivery({
      contacts: [{ profile: { name }, wa_id: '16505551234' }],
      messages: [{ from: '16505551234', id: 'wamid.ABC', timestamp: '1749416383', ...message }],
    }),
  );
  expect(parsed.ignored).toEqual([]);
  expect(parsed.events).toHaveLength(1);
  const event = parsed.events[0];
  if (event.kind !== 'message') throw new Error('expected a message');
  expect(event.phoneNumberId).toBe(PNID);
  expect(event.wabaId).toBe('102290129340398');
  return event.message;
}

describe('inbound messages of every type', () => {
  it('text, with the profile name and the timestamp', () => {
    const message = inbound({ type: 'text', text: { body: 'Hello there' } });
    expect(message).toMatchObject({ wamid: 'wamid.ABC', from: '16505551234', profileName: 'Sheena Nelson', timestamp: 1749416383, type: 'text', text: 'Hello there' });
    expect(message.media).toBeNull();
  });

  it('image with caption', () => {
    const message = inbound({ type: 'image', image: { caption: 'Look', mime_type: 'image/jpeg', sha256: 'abc=', id: '1003383421387256' } });
    expect(message.type).toBe('image');
    expect(message.text).toBe('Look');
    expect(message.media).toEqual({ id: '1003383421387256', mimeType: 'image/jpeg', sha256: 'abc=', caption: 'Look', filename: null, voice: false, animated: false });
  });

  it('video, audio (voice note) and document with file name', () => {
    expect(inbound({ type: 'video', video: { mime_type: 'video/mp4', sha256: 's', id: '11' } }).media?.mimeType).toBe('video/mp4');
    const audio = inbound({ type: 'audio', audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 's', id: '12', voice: true } });
    expect(audio.media).toMatchObject({ id: '12', voice: true });
    expect(audio.text).toBeNull();
    const document = inbound({ type: 'document', document: { caption: 'Q3', filename: 'report.pdf', mime_type: 'application/pdf', sha256: 's', id: '13' } });
    expect(document.media).toMatchObject({ id: '13', filename: 'report.pdf', caption: 'Q3' });
    expect(document.text).toBe('Q3');
  });

  it('sticker, animated', () => {
    const message = inbound({ type: 'sticker', sticker: { mime_type: 'image/webp', sha256: 's', id: '14', animated: true } });
    expect(message.type).toBe('sticker');
    expect(message.media).toMatchObject({ id: '14', animated: true });
  });

  it('location', () => {
    const message = inbound({ type: 'location', location: { address: '1 Hacker Way, Menlo Park', latitude: 37.483307, longitude: -122.148981, name: 'Main Office', url: 'https://example.com' } });
    expect(message.location).toEqual({ latitude: 37.483307, longitude: -122.148981, name: 'Main Office', address: '1 Hacker Way, Menlo Park', url: 'https://example.com' });
    expect(message.text).toBe('Main Office, 1 Hacker Way, Menlo Park');
    expect(inbound({ type: 'location', location: { latitude: 1.5, longitude: 2 } }).text).toBe('1.5,2');
  });

  it('contacts', () => {
    const message = inbound({
      type: 'contacts',
      contacts: [
        {
          name: { formatted_name: 'Barbara J. Johnson', first_name: 'Barbara' },
          phones: [{ phone: '+1 (940) 555-1234', wa_id: '19405551234', type: 'HOME' }],
          emails: [{ email: 'bjohnson@example.com', type: 'HOME' }],
        },
        { name: { first_name: 'Al', last_name: 'Lee' }, phones: [] },
      ],
    });
    expect(message.contacts).toEqual([
      { name: 'Barbara J. Johnson', phones: [{ phone: '+1 (940) 555-1234', waId: '19405551234', type: 'HOME' }], emails: ['bjohnson@example.com'] },
      { name: 'Al Lee', phones: [], emails: [] },
    ]);
    expect(message.text).toBe('Barbara J. Johnson, Al Lee');
  });

  it('interactive button_reply and list_reply, with their context', () => {
    const button = inbound({ type: 'interactive', context: { from: '15550783881', id: 'wamid.OUT' }, interactive: { type: 'button_reply', button_reply: { id: 'yes-btn', title: 'Yes' } } });
    expect(button.reply).toEqual({ kind: 'button_reply', id: 'yes-btn', title: 'Yes', description: null });
    expect(button.text).toBe('Yes');
    expect(button.context).toEqual({ from: '15550783881', id: 'wamid.OUT', forwarded: false });
    const list = inbound({ type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'row-2', title: 'Tuesday', description: '10:00' } } });
    expect(list.reply).toEqual({ kind: 'list_reply', id: 'row-2', title: 'Tuesday', description: '10:00' });
  });

  it('button (template quick reply)', () => {
    const message = inbound({ type: 'button', context: { from: '15550783881', id: 'wamid.TPL' }, button: { payload: 'STOP_PROMOS', text: 'Stop promotions' } });
    expect(message.button).toEqual({ text: 'Stop promotions', payload: 'STOP_PROMOS' });
    expect(message.text).toBe('Stop promotions');
  });

  it('reaction, and a removed reaction', () => {
    const message = inbound({ type: 'reaction', reaction: { message_id: 'wamid.OUT', emoji: '👍' } });
    expect(message.reaction).toEqual({ messageId: 'wamid.OUT', emoji: '👍' });
    expect(message.text).toBe('👍');
    const removed = inbound({ type: 'reaction', reaction: { message_id: 'wamid.OUT', emoji: '' } });
    expect(removed.text).toBeNull();
    // An empty emoji takes the customer's reaction to that message back.
    expect(contentOf(removed)).toEqual({ reaction: { message_wa_id: 'wamid.OUT', emoji: '' } });
    expect(contentOf(inbound({ type: 'reaction', reaction: { message_id: 'wamid.OUT' } }))).toEqual({ reaction: { message_wa_id: 'wamid.OUT', emoji: '' } });
  });

  it('order, with its product items', () => {
    const message = inbound({
      type: 'order',
      order: {
        catalog_id: '1537228210123456',
        text: 'Please deliver on Friday',
        product_items: [
          { product_retailer_id: 'SKU-1', quantity: 2, item_price: 12.5, currency: 'USD' },
          { product_retailer_id: 'SKU-2', quantity: '1', item_price: '99', currency: 'USD' },
        ],
      },
    });
    expect(message.order).toEqual({
      catalogId: '1537228210123456',
      text: 'Please deliver on Friday',
      items: [
        { productRetailerId: 'SKU-1', quantity: 2, itemPrice: 12.5, currency: 'USD' },
        { productRetailerId: 'SKU-2', quantity: 1, itemPrice: 99, currency: 'USD' },
      ],
    });
    expect(message.text).toBe('Please deliver on Friday');
    expect(contentOf(message)).toEqual({
      order: {
        catalog_id: '1537228210123456',
        text: 'Please deliver on Friday',
        items: [
          { product_retailer_id: 'SKU-1', quantity: 2, item_price: 12.5, currency: 'USD' },
          { product_retailer_id: 'SKU-2', quantity: 1, item_price: 99, currency: 'USD' },
        ],
      },
    });
    // Without a text, the order's lines are its words.
    const bare = inbound({ type: 'order', order: { catalog_id: 'c', product_items: [{ product_retailer_id: 'SKU-9', quantity: 3, item_price: 1, currency: 'EUR' }] } });
    expect(bare.text).toBe('3 × SKU-9');
  });

  it('system: user_changed_number names the new number (wa_id, or new_wa_id of older versions)', () => {
    const message = inbound({
      type: 'system',
      system: { body: 'User Sheena Nelson changed from 16505551234 to 12195555358', wa_id: '12195555358', type: 'user_changed_number', user_id: 'US.222', previous_user_id: 'US.111' },
    });
    expect(message.system).toEqual({ type: 'user_changed_number', body: 'User Sheena Nelson changed from 16505551234 to 12195555358', newWaId: '12195555358', userId: 'US.222', previousUserId: 'US.111' });
    expect(message.text).toBe('User Sheena Nelson changed from 16505551234 to 12195555358');
    expect(contentOf(message)).toEqual({ system: { type: 'user_changed_number', new_phone: '12195555358', new_user_id: 'US.222', previous_user_id: 'US.111' } });
    const older = inbound({ type: 'system', system: { body: 'changed', new_wa_id: '+1 219 555 5358', type: 'customer_changed_number' } });
    expect(contentOf(older)).toEqual({ system: { type: 'customer_changed_number', new_phone: '12195555358' } });
  });

  it('what a message holds beyond its text: shared contacts with their numbers, a location, a reaction; nothing for plain text', () => {
    const contacts = inbound({
      type: 'contacts',
      contacts: [
        { name: { formatted_name: 'Barbara J. Johnson' }, phones: [{ phone: '+1 (940) 555-1234', wa_id: '19405551234', type: 'HOME' }, { phone: '+1 940 555 0000' }], emails: [{ email: 'b@example.com' }] },
        { name: { formatted_name: 'No Phone' } },
      ],
    });
    expect(contentOf(contacts)).toEqual({
      contacts: [
        { name: 'Barbara J. Johnson', phones: [{ phone: '+1 (940) 555-1234', wa_id: '19405551234', type: 'HOME' }, { phone: '+1 940 555 0000' }], emails: ['b@example.com'] },
        { name: 'No Phone', phones: [] },
      ],
    });
    const location = inbound({ type: 'location', location: { latitude: 37.48, longitude: -122.14, name: 'Main Office', address: '1 Hacker Way', url: 'https://example.com' } });
    expect(contentOf(location)).toEqual({ location: { latitude: 37.48, longitude: -122.14, name: 'Main Office', address: '1 Hacker Way' } });
    expect(contentOf(inbound({ type: 'location', location: { latitude: 1, longitude: 2 } }))).toEqual({ location: { latitude: 1, longitude: 2 } });
    expect(contentOf(inbound({ type: 'reaction', reaction: { message_id: 'wamid.OUT', emoji: '👍' } }))).toEqual({ reaction: { message_wa_id: 'wamid.OUT', emoji: '👍' } });
    expect(contentOf(inbound({ type: 'text', text: { body: 'hi' } }))).toBeNull();
  });

  it('referral from a click-to-WhatsApp ad', () => {
    const message = inbound({
      type: 'text',
      text: { body: 'Can I get more info?' },
      referral: {
        source_url: 'https://fb.me/3cr4Wqqkv',
        source_id: '120226305854810726',
        source_type: 'ad',
        body: 'Summer sale',
        headline: 'Chat with us',
        media_type: 'image',
        image_url: 'https://scontent.example/img.jpg',
        ctwa_clid: 'Aff-n8ZTODiE79d22KtAwQKj9e',
        welcome_message: { text: 'Hi!' },
      },
    });
    expect(message.referral).toEqual({
      source_url: 'https://fb.me/3cr4Wqqkv',
      source_id: '120226305854810726',
      source_type: 'ad',
      headline: 'Chat with us',
      body: 'Summer sale',
      media_type: 'image',
      image_url: 'https://scontent.example/img.jpg',
      video_url: null,
      thumbnail_url: null,
      ctwa_clid: 'Aff-n8ZTODiE79d22KtAwQKj9e',
    });
  });

  it('unsupported and unknown types are kept with their error', () => {
    const message = inbound({ type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', error_data: { details: 'Message type is currently not supported.' } }] });
    expect(message.type).toBe('unsupported');
    expect(message.metaType).toBe('unsupported');
    expect(message.errors).toEqual([{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', details: 'Message type is currently not supported.' }]);
    expect(message.text).toBe('Message type is currently not supported.');
    expect(inbound({ type: 'something_new', something_new: {} }).type).toBe('unsupported');
  });

  it('forwarded context, and the profile name matched by wa_id among several contacts', () => {
    const parsed = parseWebhook(
      delivery({
        contacts: [
          { profile: { name: 'Ann' }, wa_id: '111111111' },
          { profile: { name: 'Bob' }, wa_id: '222222222' },
        ],
        messages: [
          { from: '222222222', id: 'wamid.1', timestamp: '1', type: 'text', text: { body: 'a' }, context: { forwarded: true } },
          { from: '111111111', id: 'wamid.2', timestamp: '2', type: 'text', text: { body: 'b' } },
          { from: '333333333', id: 'wamid.3', timestamp: '3', type: 'text', text: { body: 'c' } },
        ],
      }),
    );
    const messages = parsed.events.map((e) => (e.kind === 'message' ? e.message : null));
    expect(messages.map((m) => m?.profileName)).toEqual(['Bob', 'Ann', null]);
    expect(messages[0]?.context?.forwarded).toBe(true);
  });
});

describe('senders', () => {
  it('a sender with a username and no number is named by their business-scoped user id', () => {
    const parsed = parseWebhook(
      delivery({
        contacts: [{ profile: { name: 'Sheena Nelson', username: '@sheena' }, user_id: 'US.13491208655302741918' }],
        messages: [{ from_user_id: 'US.13491208655302741918', id: 'wamid.U', timestamp: '1', type: 'text', text: { body: 'hi' } }],
      }),
    );
    expect(parsed.ignored).toEqual([]);
    const event = parsed.events[0];
    if (event?.kind !== 'message') throw new Error('expected a message');
    expect(event.message).toMatchObject({ from: null, userId: 'US.13491208655302741918', profileName: 'Sheena Nelson', username: '@sheena', text: 'hi' });
  });

  it('a number and a user id together; the user id from the contact when the message has none; neither: ignored', () => {
    const parsed = parseWebhook(
      delivery({
        contacts: [
          { profile: { name: 'Ann' }, wa_id: '111111111', user_id: 'US.1' },
          { profile: { name: 'Bob', username: '@bob' }, user_id: 'US.2' },
        ],
        messages: [
          { from: '111111111', id: 'wamid.1', timestamp: '1', type: 'text', text: { body: 'a' } },
          { from_user_id: 'US.2', id: 'wamid.2', timestamp: '2', type: 'text', text: { body: 'b' } },
          { id: 'wamid.3', timestamp: '3', type: 'text', text: { body: 'c' } },
        ],
      }),
    );
    const messages = parsed.events.map((e) => (e.kind === 'message' ? e.message : null));
    expect(messages.map((m) => [m?.from, m?.userId, m?.profileName, m?.username])).toEqual([
      ['111111111', 'US.1', 'Ann', null],
      [null, 'US.2', 'Bob', '@bob'],
    ]);
    expect(parsed.ignored).toEqual(['message wamid.3 without sender']);
  });
});

describe('statuses', () => {
  it('sent, delivered, read with the callback data', () => {
    const parsed = parseWebhook(
      delivery({
        statuses: ['sent', 'delivered', 'read'].map((status, i) => ({
          id: 'wamid.OUT',
          status,
          timestamp: String(1750000000 + i),
          recipient_id: '16505551234',
          biz_opaque_callback_data: 'om:42',
          conversation: { id: 'c', origin: { type: 'service' } },
          pricing: { billable: true, pricing_model: 'CBP', category: 'service' },
        })),
      }),
    );
    expect(parsed.events.map((e) => (e.kind === 'status' ? [e.status.status, e.status.timestamp, e.status.callbackData] : null))).toEqual([
      ['sent', 1750000000, 'om:42'],
      ['delivered', 1750000001, 'om:42'],
      ['read', 1750000002, 'om:42'],
    ]);
  });

  it('failed with its errors', () => {
    const parsed = parseWebhook(
      delivery({
        statuses: [
          {
            id: 'wamid.OUT',
            status: 'failed',
            timestamp: '1750000000',
            recipient_id: '16505551234',
            errors: [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message', error_data: { details: 'More than 24 hours have passed' } }],
          },
        ],
      }),
    );
    expect(parsed.events).toEqual([
      {
        kind: 'status',
        wabaId: '102290129340398',
        phoneNumberId: PNID,
        status: {
          wamid: 'wamid.OUT',
          status: 'failed',
          timestamp: 1750000000,
          recipientId: '16505551234',
          callbackData: null,
          errors: [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message', details: 'More than 24 hours have passed' }],
        },
      },
    ]);
  });

  it('untracked statuses (deleted, warning) are ignored, not thrown', () => {
    const parsed = parseWebhook(delivery({ statuses: [{ id: 'wamid.X', status: 'deleted', timestamp: '1' }] }));
    expect(parsed.events).toEqual([]);
    expect(parsed.ignored).toEqual(['status deleted of wamid.X is not tracked']);
  });
});

describe('other changes', () => {
  it('message_template_status_update', () => {
    const parsed = parseWebhook({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          time: 1751247548,
          changes: [
            {
              field: 'message_template_status_update',
              value: { event: 'REJECTED', message_template_id: 1689556908129835, message_template_name: 'abandoned_cart', message_template_language: 'en', reason: 'INVALID_FORMAT' },
            },
          ],
        },
      ],
    });
    expect(parsed.events).toEqual([
      { kind: 'template_status', wabaId: '102290129340398', update: { templateId: '1689556908129835', name: 'abandoned_cart', language: 'en', event: 'REJECTED', reason: 'INVALID_FORMAT' } },
    ]);
  });

  it('system-level errors', () => {
    const parsed = parseWebhook(delivery({ errors: [{ code: 130429, title: 'Rate limit hit', message: 'Rate limit hit', error_data: { details: 'Too many' } }] }));
    expect(parsed.events).toEqual([{ kind: 'error', wabaId: '102290129340398', phoneNumberId: PNID, errors: [{ code: 130429, title: 'Rate limit hit', message: 'Rate limit hit', details: 'Too many' }] }]);
  });

  it('several entries and changes in one delivery, and the phone number ids they name', () => {
    const one = delivery({ messages: [{ from: '1', id: 'wamid.1', timestamp: '1', type: 'text', text: { body: 'x' } }] });
    const two = delivery({ statuses: [{ id: 'wamid.2', status: 'read', timestamp: '2' }] });
    (two.entry[0].changes[0].value.metadata as { phone_number_id: string }).phone_number_id = '999';
    const parsed = parseWebhook({ object: 'whatsapp_business_account', entry: [...one.entry, ...two.entry] });
    expect(parsed.events.map((e) => e.kind)).toEqual(['message', 'status']);
    expect(phoneNumberIdsOf(parsed)).toEqual([PNID, '999']);
  });

  it('garbage never throws', () => {
    for (const payload of [null, 5, 'x', [], {}, { entry: 'x' }, { entry: [null, { changes: [null, { value: 3 }] }] }, delivery({ messages: [{ type: 'text' }, 7] })]) {
      expect(() => parseWebhook(payload)).not.toThrow();
    }
    expect(parseWebhook(delivery({ messages: [{ type: 'text' }] })).ignored).toEqual(['message without id']);
    expect(parseWebhook({ object: 'page', entry: [] }).ignored).toEqual(['object page is not whatsapp_business_account']);
    expect(parseWebhook(delivery({}, 'account_update')).ignored).toEqual(['field account_update is not handled']);
  });
});
