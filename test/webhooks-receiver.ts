import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A webhook receiver on 127.0.0.1 for the tests: records every request, answers as told. */

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  /** Wait this long before answering; `hang` never answers (until close). */
  delayMs?: number;
  hang?: boolean;
}

export interface Receiver {
  url: string;
  received: ReceivedRequest[];
  /** Decides each answer (default 200); `index` counts requests from 0. */
  answer: (request: ReceivedRequest, index: number) => Answer;
  /** Resolves when `count` requests have arrived. */
  waitFor(count: number, limitMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: '',
    received: [],
    answer: () => ({ status: 200 }),
    waitFor: (count, limitMs = 20_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + limitMs;
        const check = () => {
          if (receiver.received.length >= count) return resolve();
          if (Date.now() > deadline) return reject(new Error(`receiver got ${receiver.received.length} of ${count} requests`));
          setTimeout(check, 20);
        };
        check();
      }),
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: ReceivedRequest = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
      const index = receiver.received.length;
      receiver.received.push(received);
      const answer = receiver.answer(received, index);
      if (answer.hang) {
        hanging.add(response);
        return;
      }
      const send = () => {
        if (response.destroyed) return;
        response.writeHead(answer.status ?? 200, { 'content-type': 'text/plain', ...answer.headers });
        response.end('ok');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

/**
 * Standard Webhooks verification written from the specification, independently of the server's
 * signing code: HMAC-SHA256 keyed with the base64-decoded secret (after `whsec_`) over
 * `${webhook-id}.${webhook-timestamp}.${body}`, compared with each `v1,` signature.
 */
export function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',');
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
