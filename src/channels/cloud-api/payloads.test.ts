import { describe, expect, it } from 'vitest';
import { mediaKindForMime, mediaMessage, templateMessage, templateSubmission, textMessage } from './payloads.js';

const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '972501234567' };

describe('message payloads', () => {
  it('text, with a link preview only when the text has a link, and the callback data', () => {
    expect(textMessage('972501234567', 'Hello')).toEqual({ ...base, type: 'text', text: { preview_url: false, body: 'Hello' } });
    expect(textMessage('972501234567', 'See https://example.com', { callbackData: 'om:42' })).toEqual({
      ...base,
      type: 'text',
      text: { preview_url: true, body: 'See https://example.com' },
      biz_opaque_callback_data: 'om:42',
    });
    expect(() => textMessage('1', 'x', { callbackData: 'x'.repeat(513) })).toThrow(RangeError);
  });

  it('a customer known by WhatsApp user id (BSUID) only is addressed as `recipient`, never `to`', () => {
    const { to: _number, ...withoutNumber } = base;
    expect(textMessage('US.13491208655302741918', 'Hello')).toEqual({ ...withoutNumber, recipient: 'US.13491208655302741918', type: 'text', text: { preview_url: false, body: 'Hello' } });
  });

  it('image and video by link and by uploaded id, with caption', () => {
    expect(mediaMessage('972501234567', { kind: 'image', source: { link: 'https://cdn.example.com/a.jpg' }, caption: 'Look' })).toEqual({
      ...base,
      type: 'image',
      image: { link: 'https://cdn.example.com/a.jpg', caption: 'Look' },
    });
    expect(mediaMessage('972501234567', { kind: 'video', source: { id: '1234567890' }, caption: 'Clip' })).toEqual({
      ...base,
      type: 'video',
      video: { id: '1234567890', caption: 'Clip' },
    });
  });

  it('audio and sticker carry no caption (WhatsApp has none for them)', () => {
    expect(mediaMessage('972501234567', { kind: 'audio', source: { id: '55' }, caption: 'ignored' })).toEqual({ ...base, type: 'audio', audio: { id: '55' } });
    expect(mediaMessage('972501234567', { kind: 'sticker', source: { link: 'https://x.example/s.webp' }, caption: 'no' })).toEqual({
      ...base,
      type: 'sticker',
      sticker: { link: 'https://x.example/s.webp' },
    });
  });

  it('document with caption and file name; empty caption left out', () => {
    expect(mediaMessage('972501234567', { kind: 'document', source: { link: 'https://x.example/r.pdf' }, caption: 'Report', filename: 'r.pdf' })).toEqual({
      ...base,
      type: 'document',
      document: { link: 'https://x.example/r.pdf', caption: 'Report', filename: 'r.pdf' },
    });
    expect(mediaMessage('972501234567', { kind: 'document', source: { id: '9' }, caption: '' })).toEqual({ ...base, type: 'document', document: { id: '9' } });
  });

  it('template with no parameters has no components', () => {
    expect(templateMessage('972501234567', { name: 'hello_world', language: 'en_US' })).toEqual({
      ...base,
      type: 'template',
      template: { name: 'hello_world', language: { code: 'en_US' } },
    });
  });

  it('template with media header, body variables and URL and quick-reply buttons', () => {
    const payload = templateMessage(
      '972501234567',
      {
        name: 'order_update',
        language: 'en',
        header: { type: 'image', source: { link: 'https://cdn.example.com/h.png' } },
        body: ['John', '#1234'],
        buttons: [
          { subType: 'url', index: 0, text: 'track/1234' },
          { subType: 'quick_reply', index: 1, payload: 'stop' },
        ],
      },
      { callbackData: 'om:7' },
    );
    expect(payload).toEqual({
      ...base,
      type: 'template',
      biz_opaque_callback_data: 'om:7',
      template: {
        name: 'order_update',
        language: { code: 'en' },
        components: [
          { type: 'header', parameters: [{ type: 'image', image: { link: 'https://cdn.example.com/h.png' } }] },
          { type: 'body', parameters: [{ type: 'text', text: 'John' }, { type: 'text', text: '#1234' }] },
          { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'track/1234' }] },
          { type: 'button', sub_type: 'quick_reply', index: '1', parameters: [{ type: 'payload', payload: 'stop' }] },
        ],
      },
    });
  });

  it('template header by uploaded id, document with file name, and text header', () => {
    const doc = templateMessage('1', { name: 't', language: 'en', header: { type: 'document', source: { id: '77' }, filename: 'invoice.pdf' } });
    expect((doc.template as { components: unknown[] }).components).toEqual([
      { type: 'header', parameters: [{ type: 'document', document: { id: '77', filename: 'invoice.pdf' } }] },
    ]);
    const text = templateMessage('1', { name: 't', language: 'en', header: { type: 'text', text: 'Hi' }, body: [] });
    expect((text.template as { components: unknown[] }).components).toEqual([{ type: 'header', parameters: [{ type: 'text', text: 'Hi' }] }]);
  });
});

describe('template submission payload', () => {
  it('body with examples, media header handle, footer and every button type', () => {
    expect(
      templateSubmission({
        name: 'spring_sale',
        language: 'en_US',
        category: 'MARKETING',
        header: { format: 'IMAGE', handle: '4::aW1hZ2UvcG5n:ARb' },
        body: 'Hi {{1}}, {{2}} off today',
        bodyExamples: ['Ann', '20%'],
        footer: 'Reply STOP to opt out',
        buttons: [
          { type: 'URL', text: 'Shop', url: 'https://shop.example.com/{{1}}', example: 'https://shop.example.com/spring' },
          { type: 'URL', text: 'Home', url: 'https://shop.example.com' },
          { type: 'QUICK_REPLY', text: 'Stop' },
          { type: 'PHONE_NUMBER', text: 'Call us', phoneNumber: '+15550001111' },
        ],
      }),
    ).toEqual({
      name: 'spring_sale',
      language: 'en_US',
      category: 'MARKETING',
      components: [
        { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1hZ2UvcG5n:ARb'] } },
        { type: 'BODY', text: 'Hi {{1}}, {{2}} off today', example: { body_text: [['Ann', '20%']] } },
        { type: 'FOOTER', text: 'Reply STOP to opt out' },
        {
          type: 'BUTTONS',
          buttons: [
            { type: 'URL', text: 'Shop', url: 'https://shop.example.com/{{1}}', example: ['https://shop.example.com/spring'] },
            { type: 'URL', text: 'Home', url: 'https://shop.example.com' },
            { type: 'QUICK_REPLY', text: 'Stop' },
            { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+15550001111' },
          ],
        },
      ],
    });
  });

  it('a body without variables has no example, and a text header is plain', () => {
    expect(templateSubmission({ name: 'hi', language: 'en', category: 'UTILITY', header: { format: 'TEXT', text: 'Hello' }, body: 'Welcome' })).toEqual({
      name: 'hi',
      language: 'en',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Hello' },
        { type: 'BODY', text: 'Welcome' },
      ],
    });
  });
});

describe('mediaKindForMime', () => {
  it('groups MIME types as WhatsApp does', () => {
    expect(mediaKindForMime('image/jpeg')).toBe('image');
    expect(mediaKindForMime('video/mp4')).toBe('video');
    expect(mediaKindForMime('audio/ogg; codecs=opus')).toBe('audio');
    expect(mediaKindForMime('application/pdf')).toBe('document');
    expect(mediaKindForMime('text/plain')).toBe('document');
  });
});
