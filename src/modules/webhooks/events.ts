import { sql, type Kysely } from 'kysely';
import { preparedQuery } from '../../db/prepared.js';
import type { DB } from '../../db/tables.js';
import { newId } from '../../ids.js';
import { enqueueJob, isPostgres } from '../../jobs/queue.js';
import { recordLiveEvent, type LiveEventDraft } from '../live/live-events.js';

/** Every event a subscription can ask for. */
export const WEBHOOK_EVENT_TYPES = [
  'message.received',
  'message.status',
  'customer.created',
  'customer.updated',
  'conversation.status_changed',
  'template.status_changed',
  'campaign.completed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WEBHOOK_DELIVERY_JOB = 'webhook.deliver';

/** The job group of a subscription's deliveries for one ordering key: delivered one at a time, in order. */
export function deliveryGroupKey(subscriptionId: string, orderingKey: string): string {
  return `webhook:${subscriptionId}:${orderingKey}`;
}

export function subscriptionGroupPrefix(subscriptionId: string): string {
  return `webhook:${subscriptionId}:`;
}

export interface RecordedEvent {
  eventId: string;
  deliveries: number;
}

/** Every recorded event asks for these first (most accounts have none): compiled once. */
const activeSubscriptions = preparedQuery((db, accountId: string) =>
  db.selectFrom('webhook_subscriptions').select(['id', 'events']).where('account_id', '=', accountId).where('status', '=', 'active').orderBy('created_at'),
);

/**
 * The outbox: records an event and one delivery job per active subscription of the account that asks
 * for its type, and the inbox's live events of the same change (`live`: every change a webhook hears
 * of, the inbox hears of too; none for template events), in the caller's transaction `trx`, so the
 * events exist exactly when the change that caused them commits. Call it after the statement that
 * changed (and so locked) the row the event is about.
 *
 * `data` uses the API's record field names. `orderingKey` (the customer's id for customer and
 * message events) orders deliveries: a subscription receives the events of one key in the order
 * they were recorded, each only after the one before succeeded or was given up. Null means
 * unordered. `occurredAt` is the event's `timestamp` (pass `deps.clock.now()`).
 *
 * Returns undefined when no subscription wants the event (nothing is stored).
 */
export async function recordEvent(
  trx: Kysely<DB>,
  accountId: string,
  type: WebhookEventType,
  data: unknown,
  orderingKey: string | null,
  occurredAt: Date,
  live: LiveEventDraft[],
): Promise<RecordedEvent | undefined> {
  return recordEventIfWanted(trx, accountId, type, () => data, orderingKey, occurredAt, live);
}

/**
 * recordEvent with the event's data built by `build` only once a subscription is known to want the
 * event: building it may read the database, and most accounts have no subscription. When `build`
 * gives undefined, there is no webhook event after all and nothing is stored for webhooks. The live
 * events are recorded whatever the subscriptions (small, built by the caller from what it has).
 */
export async function recordEventIfWanted(
  trx: Kysely<DB>,
  accountId: string,
  type: WebhookEventType,
  build: () => unknown,
  orderingKey: string | null,
  occurredAt: Date,
  live: LiveEventDraft[],
): Promise<RecordedEvent | undefined> {
  for (const event of live) await recordLiveEvent(trx, { ...event, accountId, occurredAt });
  const subscriptions = await activeSubscriptions(trx, accountId);
  const wanted = subscriptions.filter((subscription) => (JSON.parse(subscription.events) as string[]).includes(type));
  if (wanted.length === 0) return undefined;
  const data = await build();
  if (data === undefined) return undefined;
  if (orderingKey !== null && isPostgres(trx)) {
    // Jobs of a group run in id order, and ids are handed out at insert, not at commit. Holding this
    // lock to the end of the transaction makes two transactions of one key take ids in commit order.
    await sql`select pg_advisory_xact_lock(hashtextextended(${`${accountId}:${orderingKey}`}, 0))`.execute(trx);
  }
  const eventId = newId();
  const createdAt = occurredAt.toISOString();
  const payload = JSON.stringify({ type, timestamp: createdAt, data });
  await trx.insertInto('webhook_events').values({ id: eventId, account_id: accountId, type, ordering_key: orderingKey, payload, created_at: createdAt }).execute();
  for (const subscription of wanted) {
    await enqueueDelivery(trx, { accountId, subscriptionId: subscription.id, eventId, orderingKey, now: occurredAt, manual: false });
  }
  return { eventId, deliveries: wanted.length };
}

export interface NewDelivery {
  accountId: string;
  subscriptionId: string;
  eventId: string;
  orderingKey: string | null;
  now: Date;
  /** A redelivery asked for with redeliver-webhook. */
  manual: boolean;
}

/** A pending delivery and the job that makes it. */
export async function enqueueDelivery(trx: Kysely<DB>, delivery: NewDelivery): Promise<string> {
  const id = newId();
  const now = delivery.now.toISOString();
  await trx
    .insertInto('webhook_deliveries')
    .values({
      id,
      account_id: delivery.accountId,
      subscription_id: delivery.subscriptionId,
      event_id: delivery.eventId,
      status: 'pending',
      manual: delivery.manual ? 1 : 0,
      next_attempt_at: now,
      last_attempt_at: null,
      last_error: null,
      created_at: now,
      completed_at: null,
    })
    .execute();
  await enqueueJob(trx, {
    type: WEBHOOK_DELIVERY_JOB,
    payload: { delivery_id: id },
    // Without an ordering key the delivery is a group of its own: unordered, yet cancellable with its subscription.
    groupKey: deliveryGroupKey(delivery.subscriptionId, delivery.orderingKey ?? `event:${delivery.eventId}:${id}`),
    now: delivery.now,
  });
  return id;
}
