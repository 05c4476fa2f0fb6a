import { createHash } from 'node:crypto';
import { parseWebhook, type ParsedWebhook } from '../../channels/cloud-api/webhook-parser.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { newId } from '../../ids.js';
import { enqueueJob } from '../../jobs/queue.js';
import * as repository from './whatsapp.repository.js';

/** The job that processes one stored webhook delivery. */
export const WEBHOOK_JOB = 'whatsapp.webhook';
/** Backoff doubles up to an hour: about two days of attempts before a delivery is given up (and kept). */
const WEBHOOK_JOB_MAX_ATTEMPTS = 60;

export type ReceivedWebhook = { kind: 'stored' | 'duplicate'; id: string | null } | { kind: 'invalid' };

/**
 * Jobs of one customer run in order (their messages, then their statuses); different customers run
 * side by side. A delivery names its customer in `messages[].from` or `statuses[].recipient_id`;
 * template updates are grouped by WhatsApp Business Account.
 */
export function groupKeyOf(parsed: ParsedWebhook): string | null {
  for (const event of parsed.events) {
    if (event.kind === 'message') return `whatsapp:${event.phoneNumberId}:${event.message.from}`;
    if (event.kind === 'status' && event.status.recipientId) return `whatsapp:${event.phoneNumberId}:${event.status.recipientId.replace(/\D+/g, '')}`;
    if (event.kind === 'template_status' && event.wabaId) return `whatsapp-templates:${event.wabaId}`;
  }
  return null;
}

/**
 * Durable before acknowledged: the raw delivery and the job that will process it are committed in
 * one transaction before the caller answers 200. The same body delivered again is stored once.
 */
export async function receiveWebhook(deps: Deps, raw: Buffer): Promise<ReceivedWebhook> {
  const text = raw.toString('utf8');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return { kind: 'invalid' };
  }
  const now = deps.clock.now();
  const bodySha256 = createHash('sha256').update(raw).digest('hex');
  const groupKey = groupKeyOf(parseWebhook(payload));
  return deps.database.db.transaction().execute(async (trx) => {
    const id = await repository.insertInboxEvent(trx, { id: newId(), body_sha256: bodySha256, body: text, received_at: toStoredTime(now) });
    if (!id) return { kind: 'duplicate', id: null };
    await enqueueJob(trx, { type: WEBHOOK_JOB, payload: { inboxId: id }, groupKey, maxAttempts: WEBHOOK_JOB_MAX_ATTEMPTS, now });
    return { kind: 'stored', id };
  });
}
