import type { Deps } from './deps.js';
import { purgeExpiredIdempotencyKeys } from './http/idempotency.js';
import { JobWorker, type JobHandler } from './jobs/worker.js';
import { createWebhookDelivery } from './modules/webhooks/delivery.js';
import { sendRetryJobHandler, webhookJobHandler } from './modules/whatsapp/whatsapp.jobs.js';

/** How often each instance forgets expired idempotency keys. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

export interface BackgroundWork {
  worker: JobWorker | undefined;
  /** Stops claiming jobs, waits for those running (drain), and closes what they used. */
  stop(): Promise<void>;
}

/**
 * The process's background work: the jobs worker with every job type's handler (add new job types
 * here), and periodic housekeeping. JOBS_WORKER=false leaves this instance to serve HTTP only.
 */
export function startBackgroundWork(deps: Deps): BackgroundWork {
  const webhookDelivery = createWebhookDelivery(deps);
  const handlers: Array<JobHandler<any>> = [
    webhookDelivery.handler,
    // WhatsApp Cloud API: stored webhook deliveries from Meta, and sends waiting out a rate limit.
    webhookJobHandler(deps, deps.whatsapp),
    sendRetryJobHandler(deps, deps.whatsapp),
  ];
  const worker = deps.config.JOBS_WORKER
    ? new JobWorker(deps, handlers, { concurrency: deps.config.JOBS_CONCURRENCY, pollIntervalMs: deps.config.JOBS_POLL_INTERVAL })
    : undefined;
  worker?.start();

  const purge = setInterval(() => {
    purgeExpiredIdempotencyKeys(deps.database.db, deps.clock.now()).catch((error: unknown) => {
      deps.logger.warn({ err: error }, 'could not purge expired idempotency keys');
    });
  }, PURGE_INTERVAL_MS);
  purge.unref();

  return {
    worker,
    stop: async () => {
      clearInterval(purge);
      await worker?.stop();
      await webhookDelivery.close();
    },
  };
}
