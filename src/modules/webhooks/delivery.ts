import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';
import type { Deps } from '../../deps.js';
import { newId } from '../../ids.js';
import { cancelJobGroups } from '../../jobs/queue.js';
import type { JobHandler, JobOutcome } from '../../jobs/worker.js';
import { NonPublicAddressError, createPublicDispatcher, resolvePublicAddresses } from '../../net/public-address.js';
import { VERSION } from '../../version.js';
import { WEBHOOK_DELIVERY_JOB, subscriptionGroupPrefix } from './events.js';
import * as repository from './webhooks.repository.js';
import { openWebhookSecret } from './secret-storage.js';
import { webhookHeaders } from './signing.js';

/** Response bytes read (and dropped) so the connection can be reused. */
const RESPONSE_DRAIN_LIMIT = 64 * 1024;
/** Time the handler has beyond the HTTP timeout for its database work. */
const BOOKKEEPING_MS = 5_000;

export interface AttemptResult {
  status: number | null;
  error: string | null;
  durationMs: number;
}

/** The wait before retry `n` (1-based): the schedule's entry plus up to 20% jitter, never less. */
export function retryDelayMs(schedule: number[], retry: number, random: () => number = Math.random): number | undefined {
  const base = schedule[retry - 1];
  return base === undefined ? undefined : Math.round(base * (1 + random() * 0.2));
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof NonPublicAddressError) return `Refused: ${error.message}`;
  const err = error as { name?: string; code?: string; message?: string; cause?: unknown };
  if (err.name === 'TimeoutError' || err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT' || err.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `Timed out after ${formatSeconds(timeoutMs)}`;
  }
  if (err.cause instanceof NonPublicAddressError) return `Refused: ${err.cause.message}`;
  return [err.code, err.message].filter(Boolean).join(': ') || 'Request failed';
}

export interface WebhookDelivery {
  handler: JobHandler<{ delivery_id: string }>;
  close(): Promise<void>;
}

/**
 * The job that makes one delivery attempt: signed POST, 10 s timeout, no redirects followed, any 2xx
 * is success; otherwise the next attempt per WEBHOOK_RETRY_SCHEDULE (the job's group keeps the
 * customer's later events waiting), and a webhook failing for WEBHOOK_DISABLE_AFTER is disabled.
 */
export function createWebhookDelivery(deps: Deps, options: { dispatcher?: Dispatcher; random?: () => number } = {}): WebhookDelivery {
  const { config, clock, logger } = deps;
  const timeoutMs = config.WEBHOOK_TIMEOUT;
  const allowPrivate = config.WEBHOOK_ALLOW_PRIVATE_URLS;
  const dispatcher = options.dispatcher ?? createPublicDispatcher({ allowPrivate, connectTimeoutMs: timeoutMs });
  const random = options.random ?? Math.random;

  async function post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      // A clear refusal before connecting; the dispatcher checks again the address it connects to.
      if (!allowPrivate) await resolvePublicAddresses(new URL(url).hostname);
      const response = await request(url, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', 'user-agent': `openmumble-webhooks/${VERSION}`, ...headers },
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.body.dump({ limit: RESPONSE_DRAIN_LIMIT }).catch(() => {});
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { status, error: null, durationMs: elapsed() };
      const error = status >= 300 && status < 400 ? `Redirect not followed (HTTP ${status})` : `HTTP ${status}`;
      return { status, error, durationMs: elapsed() };
    } catch (error) {
      return { status: null, error: describeFailure(error, timeoutMs), durationMs: elapsed() };
    }
  }

  /** Posts the event, signed with the subscription's secret; a secret that cannot be read is a failed attempt. */
  async function attempt(delivery: { url: string; secret: string; account_id: string; event_id: string; payload: string }, timestamp: number, signal: AbortSignal): Promise<AttemptResult> {
    let secret: string;
    try {
      secret = openWebhookSecret(deps, delivery.account_id, delivery.secret);
    } catch (error) {
      return { status: null, error: (error as Error).message, durationMs: 0 };
    }
    return post(delivery.url, webhookHeaders(secret, delivery.event_id, timestamp, delivery.payload), delivery.payload, signal);
  }

  type AttemptOutcome = 'succeeded' | 'retrying' | 'failed' | 'disabled';

  const handler: JobHandler<{ delivery_id: string }> = {
    type: WEBHOOK_DELIVERY_JOB,
    timeoutMs: timeoutMs + BOOKKEEPING_MS,
    async run({ delivery_id: deliveryId }, { signal }): Promise<JobOutcome> {
      const { db } = deps.database;
      const delivery = await repository.findDeliveryForAttempt(db, deliveryId);
      // Deleted with its webhook, already delivered, or given up.
      if (!delivery || delivery.status !== 'pending') return;
      if (delivery.subscription_status !== 'active' && delivery.manual !== 1) {
        await db
          .updateTable('webhook_deliveries')
          .set({ status: 'failed', last_error: 'Webhook disabled', completed_at: clock.now().toISOString(), next_attempt_at: null })
          .where('id', '=', deliveryId)
          .where('status', '=', 'pending')
          .execute();
        return;
      }

      const attemptedAt = clock.now();
      const timestamp = Math.floor(attemptedAt.getTime() / 1000);
      const result = await attempt(delivery, timestamp, signal);
      const number = delivery.attempts + 1;
      const now = clock.now();
      const nowText = now.toISOString();

      const outcome = await db.transaction().execute(async (trx): Promise<{ result: JobOutcome; outcome: AttemptOutcome }> => {
        await trx
          .insertInto('webhook_attempts')
          .values({ id: newId(), delivery_id: deliveryId, number, attempted_at: attemptedAt.toISOString(), response_status: result.status, duration_ms: result.durationMs, error: result.error })
          .execute();
        const pending = trx.updateTable('webhook_deliveries').where('id', '=', deliveryId).where('status', '=', 'pending');

        if (result.error === null) {
          await pending.set({ status: 'succeeded', attempts: number, last_attempt_at: attemptedAt.toISOString(), last_error: null, next_attempt_at: null, completed_at: nowText }).execute();
          // A success ends a run of failures, and re-enables a webhook a redelivery was testing.
          await trx
            .updateTable('webhook_subscriptions')
            .set({ failing_since: null, status: 'active', disabled_reason: null, disabled_at: null, updated_at: nowText })
            .where('id', '=', delivery.subscription_id)
            .execute();
          return { result: undefined, outcome: 'succeeded' };
        }

        const failingSince = delivery.failing_since ?? attemptedAt.toISOString();
        if (delivery.subscription_status === 'active' && now.getTime() - Date.parse(failingSince) >= config.WEBHOOK_DISABLE_AFTER) {
          const reason = `Disabled after deliveries failed continuously since ${failingSince}; last error: ${result.error}`;
          await trx
            .updateTable('webhook_subscriptions')
            .set({ status: 'disabled', disabled_reason: reason, disabled_at: nowText, failing_since: failingSince, updated_at: nowText })
            .where('id', '=', delivery.subscription_id)
            .execute();
          await pending.set({ attempts: number, last_attempt_at: attemptedAt.toISOString(), last_error: result.error }).execute();
          await trx
            .updateTable('webhook_deliveries')
            .set({ status: 'failed', completed_at: nowText, next_attempt_at: null })
            .where('subscription_id', '=', delivery.subscription_id)
            .where('status', '=', 'pending')
            .execute();
          await cancelJobGroups(trx, subscriptionGroupPrefix(delivery.subscription_id));
          logger.warn({ webhookId: delivery.subscription_id }, 'webhook disabled after failing deliveries');
          return { result: undefined, outcome: 'disabled' };
        }
        if (delivery.failing_since === null) {
          await trx.updateTable('webhook_subscriptions').set({ failing_since: failingSince, updated_at: nowText }).where('id', '=', delivery.subscription_id).execute();
        }

        const delay = retryDelayMs(config.WEBHOOK_RETRY_SCHEDULE, number, random);
        if (delay === undefined) {
          await pending.set({ status: 'failed', attempts: number, last_attempt_at: attemptedAt.toISOString(), last_error: result.error, next_attempt_at: null, completed_at: nowText }).execute();
          return { result: undefined, outcome: 'failed' };
        }
        const retryAt = new Date(now.getTime() + delay);
        await pending.set({ attempts: number, last_attempt_at: attemptedAt.toISOString(), last_error: result.error, next_attempt_at: retryAt.toISOString() }).execute();
        return { result: { retryAt, error: result.error }, outcome: 'retrying' };
      });
      deps.metrics.webhookAttempts.inc({ outcome: outcome.outcome });
      if (outcome.outcome === 'succeeded') deps.metrics.webhookLag.observe(Math.max(0, now.getTime() - Date.parse(delivery.event_created_at)) / 1000);
      return outcome.result;
    },
  };

  let closed: Promise<void> | undefined;
  return { handler, close: () => (closed ??= dispatcher.close()) };
}
