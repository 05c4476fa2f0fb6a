import { describe, expect, it } from 'vitest';
import { backoffMs, isRetryable, randomUuid, retryAfterMs, retryingFetch } from './transport.js';

const policy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 20_000 };

/** A fetch that answers from a script, one entry per attempt, and records what it was sent. */
function scripted(answers: Array<Response | Error>) {
  const seen: Request[] = [];
  const fetch = (async (input: Request) => {
    seen.push(input);
    const answer = answers.shift();
    if (!answer) throw new Error('no more answers');
    if (answer instanceof Error) throw answer;
    return answer;
  }) as unknown as typeof globalThis.fetch;
  return { fetch, seen };
}

function client(answers: Array<Response | Error>) {
  const waits: number[] = [];
  const { fetch, seen } = scripted(answers);
  const wrapped = retryingFetch({ timeoutMs: 1000, retry: policy, fetch, sleep: async (ms) => void waits.push(ms) });
  return { wrapped, seen, waits };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const write = (body = '{"text":"hi"}') => new Request('http://server/mumbleapi/send-text-message', { method: 'POST', body, headers: { 'idempotency-key': 'k1' } });
const read = () => new Request('http://server/mumbleapi/get-labels', { method: 'POST', body: '{}' });

describe('retryingFetch', () => {
  it('retries a read on 5xx and 429, honouring Retry-After, and resends the same body', async () => {
    const { wrapped, seen, waits } = client([json(503, {}), json(429, {}, { 'retry-after': '2' }), json(200, { success: true })]);
    const response = await wrapped(read());
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(await seen[2]!.text()).toBe('{}');
    expect(waits[1]).toBe(2000);
  });

  it('retries a write on 429 and a gateway failure with the same Idempotency-Key, never on 500', async () => {
    const retried = client([json(429, {}, { 'retry-after': '1' }), json(502, {}), json(200, { success: true })]);
    expect((await retried.wrapped(write())).status).toBe(200);
    expect(retried.seen.map((request) => request.headers.get('idempotency-key'))).toEqual(['k1', 'k1', 'k1']);
    expect(await retried.seen[2]!.text()).toBe('{"text":"hi"}');

    const failed = client([json(500, { error: true, message: 'Failed to send text message.' }), json(200, {})]);
    expect((await failed.wrapped(write())).status).toBe(500);
    expect(failed.seen).toHaveLength(1);
  });

  it('retries a 409 only while the first attempt is in progress', async () => {
    const inProgress = client([json(409, { error: true, message: 'Request in progress' }), json(200, { success: true })]);
    expect((await inProgress.wrapped(write())).status).toBe(200);
    const conflict = client([json(409, { error: true, message: 'Customer already exists' }), json(200, {})]);
    const response = await conflict.wrapped(write());
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ error: true, message: 'Customer already exists' });
    expect(conflict.seen).toHaveLength(1);
  });

  it('retries network failures, and gives up after maxRetries with the last answer or error', async () => {
    const recovered = client([new TypeError('fetch failed'), json(200, {})]);
    expect((await recovered.wrapped(write())).status).toBe(200);
    const down = client([new TypeError('a'), new TypeError('b'), new TypeError('c'), new TypeError('d')]);
    await expect(down.wrapped(read())).rejects.toThrow('d');
    expect(down.seen).toHaveLength(4);
    const busy = client([json(503, {}), json(503, {}), json(503, {}), json(503, { last: true })]);
    expect(await (await busy.wrapped(read())).json()).toEqual({ last: true });
  });

  it('does not wait longer than maxDelayMs: a long Retry-After is handed back', async () => {
    const { wrapped, seen } = client([json(429, {}, { 'retry-after': '3600' }), json(200, {})]);
    expect((await wrapped(read())).status).toBe(429);
    expect(seen).toHaveLength(1);
  });
});

describe('retry rules', () => {
  it('classifies statuses for reads and writes', () => {
    expect([429, 500, 502, 503, 504].map((status) => isRetryable(status, false))).toEqual([true, true, true, true, true]);
    expect([400, 404, 409].map((status) => isRetryable(status, false))).toEqual([false, false, false]);
    expect([409, 429, 502, 503, 504].map((status) => isRetryable(status, true))).toEqual([true, true, true, true, true]);
    expect([400, 404, 500].map((status) => isRetryable(status, true))).toEqual([false, false, false]);
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(10_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(0, policy, () => 0)).toBe(50);
    expect(backoffMs(0, policy, () => 1)).toBe(100);
    expect(backoffMs(3, policy, () => 1)).toBe(800);
    expect(backoffMs(20, policy, () => 1)).toBe(20_000);
  });
});

describe('randomUuid', () => {
  it('makes v4 UUIDs from getRandomValues where randomUUID is missing (a browser page over plain http)', () => {
    const keys = Array.from({ length: 50 }, () => randomUuid({ getRandomValues: (array) => crypto.getRandomValues(array) }));
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
