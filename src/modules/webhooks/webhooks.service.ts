import type { WebhookSubscriptionRow } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { badRequest, notFound } from '../../errors.js';
import { readPage } from '../../http/fields.js';
import { newId } from '../../ids.js';
import { cancelJobGroups } from '../../jobs/queue.js';
import { NonPublicAddressError, resolvePublicAddresses } from '../../net/public-address.js';
import { lockAccount } from '../customers/customers.repository.js';
import { WEBHOOK_EVENT_TYPES, enqueueDelivery, subscriptionGroupPrefix, type WebhookEventType } from './events.js';
import * as repository from './webhooks.repository.js';
import {
  DELIVERIES_PER_PAGE,
  DELIVERY_NOT_FOUND,
  INVALID_URL,
  MAX_WEBHOOKS,
  TOO_MANY_WEBHOOKS,
  WEBHOOK_NOT_FOUND,
  type DeliveryRecord,
  type WebhookRecord,
} from './webhooks.schema.js';
import { sealWebhookSecret } from './secret-storage.js';
import { generateWebhookSecret } from './signing.js';

export function toWebhookRecord(row: WebhookSubscriptionRow): WebhookRecord {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEventType[],
    status: row.status as WebhookRecord['status'],
    disabled_reason: row.disabled_reason,
    disabled_at: row.disabled_at,
    failing_since: row.failing_since,
    created_at: row.created_at,
  };
}

/** Event types from a list or a comma-separated string; none means all. */
export function parseEventTypes(events: string[] | string | null | undefined): WebhookEventType[] {
  const names = (typeof events === 'string' ? events.split(',') : (events ?? [])).map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) return [...WEBHOOK_EVENT_TYPES];
  for (const name of names) {
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(name)) throw badRequest(`Unknown event type: ${name}`);
  }
  return WEBHOOK_EVENT_TYPES.filter((type) => names.includes(type));
}

/**
 * An http(s) URL with a host. Unless private URLs are allowed, a host that is (or resolves to) a
 * non-public address is refused now; a name that does not resolve yet is accepted (it is checked
 * again on every delivery attempt).
 */
async function checkWebhookUrl(deps: Deps, text: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRequest(INVALID_URL);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') throw badRequest(INVALID_URL);
  if (!deps.config.WEBHOOK_ALLOW_PRIVATE_URLS) {
    try {
      await resolvePublicAddresses(url.hostname);
    } catch (error) {
      if (error instanceof NonPublicAddressError) throw badRequest(INVALID_URL);
    }
  }
  return url.toString();
}

export async function addWebhook(deps: Deps, accountId: string, input: { url: string; events?: string[] | string | null }) {
  const url = await checkWebhookUrl(deps, input.url);
  const events = parseEventTypes(input.events);
  const now = toStoredTime(deps.clock.now());
  const secret = generateWebhookSecret();
  const row: WebhookSubscriptionRow = {
    id: newId(),
    account_id: accountId,
    url,
    events: JSON.stringify(events),
    secret: sealWebhookSecret(deps, accountId, secret),
    status: 'active',
    disabled_reason: null,
    disabled_at: null,
    failing_since: null,
    created_at: now,
    updated_at: now,
  };
  await deps.database.db.transaction().execute(async (trx) => {
    await lockAccount(trx, deps.database.dialect, accountId);
    if ((await repository.countSubscriptions(trx, accountId)) >= MAX_WEBHOOKS) throw badRequest(TOO_MANY_WEBHOOKS);
    await repository.insertSubscription(trx, row);
  });
  return { id: row.id, url, events, secret };
}

export async function listWebhooks(deps: Deps, accountId: string): Promise<WebhookRecord[]> {
  return (await repository.listSubscriptions(deps.database.db, accountId)).map(toWebhookRecord);
}

async function requireSubscription(deps: Deps, accountId: string, id: string): Promise<WebhookSubscriptionRow> {
  const subscription = await repository.findSubscription(deps.database.db, accountId, id);
  if (!subscription) throw notFound(WEBHOOK_NOT_FOUND);
  return subscription;
}

/** Removes the subscription, its delivery history and its waiting deliveries. */
export async function deleteWebhook(deps: Deps, accountId: string, id: string): Promise<void> {
  await deps.database.db.transaction().execute(async (trx) => {
    const subscription = await repository.findSubscription(trx, accountId, id);
    if (!subscription) throw notFound(WEBHOOK_NOT_FOUND);
    await repository.deleteSubscription(trx, accountId, id);
    await cancelJobGroups(trx, subscriptionGroupPrefix(id));
  });
}

export async function listDeliveries(deps: Deps, accountId: string, webhookId: string, page: number) {
  const { db } = deps.database;
  const subscription = await requireSubscription(deps, accountId, webhookId);
  const { rows, total, pages } = await readPage(
    page,
    DELIVERIES_PER_PAGE,
    () => repository.countDeliveries(db, subscription.id),
    (limit, offset) => repository.listDeliveriesPage(db, subscription.id, limit, offset),
  );
  const attempts = await repository.attemptsByDelivery(db, rows.map((row) => row.id));
  const deliveries: DeliveryRecord[] = rows.map((row) => ({
    id: row.id,
    event_id: row.event_id,
    event_type: row.event_type as DeliveryRecord['event_type'],
    status: row.status as DeliveryRecord['status'],
    redelivery: row.manual === 1,
    created_at: row.created_at,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at : null,
    completed_at: row.completed_at,
    last_error: row.last_error,
    attempts: (attempts.get(row.id) ?? []).map((attempt) => ({
      number: attempt.number,
      attempted_at: attempt.attempted_at,
      response_status: attempt.response_status,
      duration_ms: attempt.duration_ms,
      error: attempt.error,
    })),
  }));
  return { deliveries, total, pages, current_page: page };
}

/**
 * Sends a delivery's event again to its webhook, as a new delivery (same event id, so the same
 * `webhook-id` header) behind the customer's other pending deliveries. Works on a disabled webhook
 * too: its success re-enables the webhook.
 */
export async function redeliver(deps: Deps, accountId: string, deliveryId: string): Promise<string> {
  return deps.database.db.transaction().execute(async (trx) => {
    const delivery = await repository.findDelivery(trx, accountId, deliveryId);
    if (!delivery) throw notFound(DELIVERY_NOT_FOUND);
    return enqueueDelivery(trx, {
      accountId,
      subscriptionId: delivery.subscription_id,
      eventId: delivery.event_id,
      orderingKey: delivery.ordering_key,
      now: deps.clock.now(),
      manual: true,
    });
  });
}
