import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { enqueueJob } from '../../jobs/queue.js';

/**
 * The bot engine's jobs. A step runs one customer's event through their flow; every step of a
 * customer shares one job group, so they run one at a time, in order, on whichever instance claims
 * them. A timer is a job of its own (outside the group, which it would otherwise hold up until it is
 * due) that hands its event to the group when it runs out.
 */
export const BOT_STEP_JOB = 'bot.step';
export const BOT_TIMER_JOB = 'bot.timer';

export type StepEvent =
  /** An inbound message, by its id in `messages`. */
  | { type: 'message'; messageId: number }
  /** A wait node's time, or the session's time to answer, ran out; stale unless `generation` is the session's. */
  | { type: 'timer'; generation: number; reason: 'wait' | 'timeout' }
  /** The customer's assigned bot starts now (assign-bot with the 24-hour window open). */
  | { type: 'start' };

export interface StepPayload {
  accountId: string;
  customerId: string;
  event: StepEvent;
}

export const stepGroup = (customerId: string) => `bot:${customerId}`;

/** Pass the transaction that made the event, so the step exists exactly when the event does. */
export async function enqueueBotStep(db: Kysely<DB>, payload: StepPayload, now: Date): Promise<void> {
  await enqueueJob(db, { type: BOT_STEP_JOB, payload, groupKey: stepGroup(payload.customerId), maxAttempts: 8, now });
}

export async function enqueueBotTimer(db: Kysely<DB>, payload: StepPayload, at: Date, now: Date): Promise<void> {
  await enqueueJob(db, { type: BOT_TIMER_JOB, payload, runAt: at, now });
}
