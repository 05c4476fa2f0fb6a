import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isValidWebhookSignature, signWebhookBody } from './signature.js';

const secret = 'app-secret';
const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');

describe('X-Hub-Signature-256', () => {
  it('accepts the HMAC-SHA256 of the raw body, computed independently', () => {
    const header = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    expect(signWebhookBody(body, secret)).toBe(header);
    expect(isValidWebhookSignature(body, header, secret)).toBe(true);
    expect(isValidWebhookSignature(body, header.toUpperCase().replace('SHA256=', 'sha256='), secret)).toBe(true);
  });

  it('refuses a missing, malformed, truncated or wrong signature', () => {
    const good = signWebhookBody(body, secret);
    for (const header of [undefined, '', 'sha256=', 'sha1=abc', good.slice(0, -2), `${good}00`, 'sha256=zz' + good.slice(9), signWebhookBody(body, 'other')]) {
      expect(isValidWebhookSignature(body, header, secret)).toBe(false);
    }
    expect(isValidWebhookSignature(body, [good], secret)).toBe(false);
  });

  it('refuses a body changed by one byte, including re-serialized JSON', () => {
    const good = signWebhookBody(body, secret);
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
    expect(isValidWebhookSignature(reserialized, good, secret)).toBe(false);
    const flipped = Buffer.from(body);
    flipped[5] ^= 1;
    expect(isValidWebhookSignature(flipped, good, secret)).toBe(false);
  });
});
