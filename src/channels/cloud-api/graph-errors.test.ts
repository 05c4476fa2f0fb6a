import { describe, expect, it } from 'vitest';
import { classifyGraphError, classifyStatusError, parseGraphErrorBody, titleOf } from './graph-errors.js';

const body = (code: number | string, extra: Record<string, unknown> = {}) => ({
  error: { message: `(#${code}) Some title`, type: 'OAuthException', code, error_subcode: 2494010, error_data: { messaging_product: 'whatsapp', details: 'Some details' }, fbtrace_id: 'Az8', ...extra },
});

describe('parseGraphErrorBody', () => {
  it('reads every documented field', () => {
    expect(parseGraphErrorBody(body(131047))).toEqual({ code: 131047, subcode: 2494010, type: 'OAuthException', message: '(#131047) Some title', details: 'Some details', fbtraceId: 'Az8' });
    expect(parseGraphErrorBody(body('190'))?.code).toBe(190);
  });
  it('is null for answers without an error object', () => {
    for (const value of [null, {}, { error: 'x' }, { messages: [] }, 'error']) expect(parseGraphErrorBody(value)).toBeNull();
  });
});

describe('classifyGraphError', () => {
  const classify = (code: number, status = 400) => classifyGraphError(parseGraphErrorBody(body(code))!, status);
  it('maps each code the contract names', () => {
    expect(classify(131047)).toEqual({ action: 'window_closed', code: 131047, title: 'Some title', details: 'Some details' });
    expect(classify(130429).action).toBe('retry_later');
    expect(classify(131056).action).toBe('retry_later');
    expect(classify(190, 401)).toMatchObject({ action: 'disconnect', code: 190, reason: 'access token rejected by WhatsApp (code 190): Some details' });
    expect(classify(131026)).toEqual({ action: 'fail', code: 131026, title: 'Some title', details: 'Some details' });
    expect(classify(100).action).toBe('fail');
  });
  it('treats a codeless 401 as a token problem', () => {
    expect(classifyGraphError({ code: null, subcode: null, type: null, message: 'Unauthorized', details: null, fbtraceId: null }, 401).action).toBe('disconnect');
  });
});

describe('status errors and titles', () => {
  it('a failed status with 131047 closes the window; others fail', () => {
    expect(classifyStatusError({ code: 131047, title: 'Re-engagement message', message: null, details: 'd' })).toEqual({ action: 'window_closed', code: 131047, title: 'Re-engagement message', details: 'd' });
    expect(classifyStatusError({ code: 131026, title: null, message: 'Message undeliverable', details: null }).action).toBe('fail');
  });
  it('strips the (#code) prefix and falls back to the code', () => {
    expect(titleOf('(#131047) Re-engagement message', 131047)).toBe('Re-engagement message');
    expect(titleOf(null, 42)).toBe('WhatsApp error 42');
    expect(titleOf('', null)).toBe('WhatsApp request failed');
  });
});
