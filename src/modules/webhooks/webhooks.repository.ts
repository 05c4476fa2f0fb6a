import type { Kysely } from 'kysely';
import type { DB, WebhookAttemptRow, WebhookSubscriptionRow } from '../../db/tables.js';

export function listSubscriptions(db: Kysely<DB>, accountId: string): Promise<WebhookSubscriptionRow[]> {
  return db.selectFrom('webhook_subscriptions').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
}

export async function countSubscriptions(db: Kysely<DB>, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('webhook_subscriptions')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export function findSubscription(db: Kysely<DB>, accountId: string, id: string): Promise<WebhookSubscriptionRow | undefined> {
  return db.selectFrom('webhook_subscriptions').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function insertSubscription(db: Kysely<DB>, row: WebhookSubscriptionRow): Promise<void> {
  await db.insertInto('webhook_subscriptions').values(row).execute();
}

export async function deleteSubscription(db: Kysely<DB>, accountId: string, id: string): Promise<void> {
  await db.deleteFrom('webhook_subscriptions').where('account_id', '=', accountId).where('id', '=', id).execute();
}

export async function countDeliveries(db: Kysely<DB>, subscriptionId: string): Promise<number> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('subscription_id', '=', subscriptionId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** A page of a subscription's deliveries, newest first, with their event's type. */
export function listDeliveriesPage(db: Kysely<DB>, subscriptionId: string, limit: number, offset: number) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select(['e.type as event_type', 'e.created_at as event_created_at'])
    .where('d.subscription_id', '=', subscriptionId)
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
}

export async function attemptsByDelivery(db: Kysely<DB>, deliveryIds: string[]): Promise<Map<string, WebhookAttemptRow[]>> {
  const attempts = new Map<string, WebhookAttemptRow[]>(deliveryIds.map((id) => [id, []]));
  if (deliveryIds.length === 0) return attempts;
  const rows = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', deliveryIds).orderBy('number').execute();
  for (const row of rows) attempts.get(row.delivery_id)?.push(row);
  return attempts;
}

/** A delivery of the account, with what redelivering it needs. */
export function findDelivery(db: Kysely<DB>, accountId: string, id: string) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .select(['d.id', 'd.subscription_id', 'd.event_id', 'e.ordering_key'])
    .where('d.account_id', '=', accountId)
    .where('d.id', '=', id)
    .executeTakeFirst();
}

/** Everything one delivery attempt needs. */
export function findDeliveryForAttempt(db: Kysely<DB>, id: string) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .select([
      'd.id',
      'd.status',
      'd.attempts',
      'd.manual',
      'd.subscription_id',
      'd.event_id',
      's.url',
      's.secret',
      's.account_id',
      's.status as subscription_status',
      's.failing_since',
      'e.payload',
      'e.created_at as event_created_at',
    ])
    .where('d.id', '=', id)
    .executeTakeFirst();
}
