import { createHash } from 'node:crypto';
import { parseWebhook, type ParsedWebhook } from '../../channels/cloud-api/webhook-parser.js';
import { toStoredTime } from '../../db/time.js';
import type { Database } from '../../db/database.js';
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
 * side by side. A delivery names its customer in `messages[].from_user_id` (their business-scoped
 * user id, the one name WhatsApp gives whether or not it withholds the number), `messages[].from`
 * or `statuses[].recipient_id`; template updates are grouped by WhatsApp Business Account.
 */
export function groupKeyOf(parsed: ParsedWebhook): string | null {
  for (const event of parsed.events) {
    if (event.kind === 'message') return `whatsapp:${event.phoneNumberId}:${event.message.userId ?? event.message.from}`;
    if (event.kind === 'status' && event.status.recipientId) return `whatsapp:${event.phoneNumberId}:${event.status.recipientId.replace(/\D+/g, '')}`;
    if (event.kind === 'template_status' && event.wabaId) return `whatsapp-templates:${event.wabaId}`;
  }
  return null;
}

/** A delivery checked and parsed, waiting to be stored. */
interface Delivery {
  row: { id: string; body_sha256: string; body: string; received_at: string };
  groupKey: string | null;
  now: Date;
  resolve(result: ReceivedWebhook): void;
  reject(error: unknown): void;
}

/** Per database, the deliveries that the next turn of the event loop stores together. */
const nextBatch = new WeakMap<Database, Delivery[]>();

/**
 * Durable before acknowledged: the raw delivery and the job that will process it are committed in
 * one transaction before the caller answers 200. The same body delivered again is stored once.
 *
 * On SQLite, the deliveries that arrive in the same turn of the event loop share one transaction:
 * one commit instead of one each, and fewer log pages written (the inbox's and the jobs table's last
 * pages once per batch). SQLite runs one writer at a time anyway; on PostgreSQL each delivery commits
 * on its own, in parallel on the pool.
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
  const row = { id: newId(), body_sha256: bodySha256, body: text, received_at: toStoredTime(now) };
  return new Promise((resolve, reject) => {
    const delivery = { row, groupKey, now, resolve, reject };
    if (deps.database.dialect === 'sqlite') joinNextBatch(deps, delivery);
    else void storeBatch(deps, [delivery]);
  });
}

function joinNextBatch(deps: Deps, delivery: Delivery): void {
  const waiting = nextBatch.get(deps.database);
  if (waiting) {
    waiting.push(delivery);
    return;
  }
  const batch = [delivery];
  nextBatch.set(deps.database, batch);
  setImmediate(() => {
    nextBatch.delete(deps.database);
    void storeBatch(deps, batch);
  });
}

/** Stores the deliveries in one transaction; if it fails, none is stored and every caller gets the error. */
async function storeBatch(deps: Deps, batch: Delivery[]): Promise<void> {
  try {
    const results = await deps.database.db.transaction().execute(async (trx) => {
      const stored: ReceivedWebhook[] = [];
      for (const { row, groupKey, now } of batch) {
        const id = await repository.insertInboxEvent(trx, row);
        if (id) await enqueueJob(trx, { type: WEBHOOK_JOB, payload: { inboxId: id }, groupKey, maxAttempts: WEBHOOK_JOB_MAX_ATTEMPTS, now });
        stored.push(id ? { kind: 'stored', id } : { kind: 'duplicate', id: null });
      }
      return stored;
    });
    batch.forEach((delivery, n) => delivery.resolve(results[n]));
  } catch (error) {
    for (const delivery of batch) delivery.reject(error);
  }
}
