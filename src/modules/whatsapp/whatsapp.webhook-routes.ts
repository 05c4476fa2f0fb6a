import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isValidWebhookSignature } from '../../channels/cloud-api/signature.js';
import type { Deps } from '../../deps.js';
import { receiveWebhook } from './whatsapp.inbox.js';

/** Meta's webhook bodies are small; a batch of changes stays far below this. */
export const WEBHOOK_BODY_LIMIT = 3 * 1024 * 1024;
export const WEBHOOK_PATH = '/webhooks/whatsapp';

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function queryValue(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Meta's webhook endpoint: not under /mumbleapi, no API key (the signature authenticates). Registered
 * in its own plugin scope so its content parser (the raw bytes, whatever the Content-Type) applies to
 * this route only: the signature is over the exact bytes, so nothing may parse them first.
 */
export async function registerWhatsAppWebhookRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => done(null, body));

    // The subscription handshake: echo hub.challenge when the verify token matches. The access log
    // is off for it (logLevel warn): its URL carries the verify token.
    scope.get(WEBHOOK_PATH, { logLevel: 'warn' }, async (request: FastifyRequest, reply: FastifyReply) => {
      const expected = deps.config.WHATSAPP_VERIFY_TOKEN;
      const mode = queryValue(request.query, 'hub.mode');
      const token = queryValue(request.query, 'hub.verify_token');
      const challenge = queryValue(request.query, 'hub.challenge');
      if (!expected || mode !== 'subscribe' || token === undefined || challenge === undefined || !sameSecret(token, expected)) {
        request.log.warn({ mode }, 'WhatsApp webhook verification refused');
        return reply.status(403).send({ error: true, message: 'Forbidden' });
      }
      return reply.type('text/plain').send(challenge);
    });

    scope.post(WEBHOOK_PATH, { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request: FastifyRequest, reply: FastifyReply) => {
      const secret = deps.config.WHATSAPP_APP_SECRET;
      if (!secret) {
        // Not acknowledged, so Meta keeps the delivery and retries once the operator sets the secret.
        request.log.error('WHATSAPP_APP_SECRET is not set: WhatsApp webhooks cannot be verified');
        return reply.status(503).send({ error: true, message: 'WhatsApp webhooks are not configured' });
      }
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (!isValidWebhookSignature(raw, request.headers['x-hub-signature-256'], secret)) {
        request.log.warn({ hasSignature: request.headers['x-hub-signature-256'] !== undefined, bytes: raw.length }, 'WhatsApp webhook signature invalid');
        return reply.status(401).send({ error: true, message: 'Invalid signature' });
      }
      const received = await receiveWebhook(deps, raw);
      if (received.kind === 'invalid') return reply.status(400).send({ error: true, message: 'Invalid JSON body' });
      request.log.info({ inboxId: received.id, duplicate: received.kind === 'duplicate' }, 'WhatsApp webhook stored');
      return reply.status(200).send({ success: true });
    });
  });
}
