/**
 * The client's fetch: a timeout per attempt, and retries with exponential backoff (honouring
 * `Retry-After`) only where a retry cannot do anything twice.
 *
 * - Reads are retried on 429, 5xx and network failures.
 * - Writes carry an `Idempotency-Key` (the same on every attempt), so a retry of one the server
 *   already completed replays its first reply instead of running again. They are retried on 429
 *   (refused before anything ran), 409 `Request in progress` (the first attempt is still running),
 *   502/503/504 and network failures (the attempt may not have reached the server). Not on 500: the
 *   server ran the request and says it failed (a send WhatsApp may or may not have taken), and the
 *   server does not store failures under the key, so a retry could send a customer a second message.
 */
export interface RetryPolicy {
  /** Attempts after the first (default 3). */
  maxRetries: number;
  /** The first backoff; it doubles each time, with jitter (default 250 ms). */
  baseDelayMs: number;
  /** The longest wait before a retry, Retry-After included (default 20 s). */
  maxDelayMs: number;
}

export interface TransportOptions {
  timeoutMs: number;
  retry: RetryPolicy;
  fetch: typeof fetch;
  /** Waits `ms` (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
}

const RETRYABLE_WRITE_STATUSES = new Set([409, 429, 502, 503, 504]);

export function isRetryable(status: number, write: boolean): boolean {
  return write ? RETRYABLE_WRITE_STATUSES.has(status) : status === 429 || status >= 500;
}

/** Seconds or an HTTP date, as Retry-After may say; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** attempt;
  return Math.min(policy.maxDelayMs, exponential / 2 + random() * (exponential / 2));
}

/**
 * A random (v4) UUID, for Idempotency-Keys. Browsers have `crypto.randomUUID` only in secure
 * contexts (https, localhost), not on a plain-http page of an intranet server;
 * `crypto.getRandomValues` they have everywhere.
 */
export function randomUuid(source: Pick<Crypto, 'getRandomValues'> & Partial<Pick<Crypto, 'randomUUID'>> = crypto): string {
  if (typeof source.randomUUID === 'function') return source.randomUUID();
  const bytes = source.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A 409 is retried only when it says the first attempt is still running. */
async function isInProgress(response: Response): Promise<boolean> {
  const body = (await response.clone().json().catch(() => undefined)) as { message?: unknown } | undefined;
  return body?.message === 'Request in progress';
}

/** A fetch for openapi-fetch that retries as described above; writes are the requests with an Idempotency-Key. */
export function retryingFetch(options: TransportOptions): typeof fetch {
  const sleep = options.sleep ?? defaultSleep;
  return async (input, init) => {
    const original = new Request(input, init);
    const write = original.headers.has('idempotency-key');
    for (let attempt = 0; ; attempt++) {
      const request = original.clone();
      const last = attempt >= options.retry.maxRetries;
      let response: Response;
      try {
        response = await options.fetch(request, { signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (error) {
        if (last) throw error;
        await sleep(backoffMs(attempt, options.retry));
        continue;
      }
      if (last || !isRetryable(response.status, write) || (response.status === 409 && !(await isInProgress(response)))) return response;
      const wait = retryAfterMs(response.headers.get('retry-after')) ?? backoffMs(attempt, options.retry);
      if (wait > options.retry.maxDelayMs) return response;
      await response.body?.cancel();
      await sleep(wait);
    }
  };
}
