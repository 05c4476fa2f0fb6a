import type { Deps } from './deps.js';
import { JobWorker, type JobHandler } from './jobs/worker.js';
import { botJobHandlers } from './modules/bots/bot-runner.js';
import { campaignJobHandlers } from './modules/campaigns/campaigns.service.js';
import { ensureRetentionJob, retentionJobHandler } from './modules/retention/retention.js';
import { createWebhookDelivery } from './modules/webhooks/delivery.js';
import { sendRetryJobHandler, webhookJobHandler } from './modules/whatsapp/whatsapp.jobs.js';

export interface BackgroundWork {
  worker: JobWorker | undefined;
  /** Stops claiming jobs, waits for those running (drain), and closes what they used. */
  stop(): Promise<void>;
}

/**
 * The process's background work: the jobs worker with every job type's handler (add new job types
 * here), housekeeping among them. JOBS_WORKER=false leaves this instance to serve HTTP only.
 */
export function startBackgroundWork(deps: Deps): BackgroundWork {
  const webhookDelivery = createWebhookDelivery(deps);
  const handlers: Array<JobHandler<any>> = [
    webhookDelivery.handler,
    // WhatsApp Cloud API: stored webhook deliveries from Meta, and sends waiting out a rate limit.
    webhookJobHandler(deps, deps.whatsapp),
    sendRetryJobHandler(deps, deps.whatsapp),
    // Flow bots: one customer's events in order, and their timers (docs/bots.md).
    ...botJobHandlers(deps),
    // Campaigns: one sender per campaign, at its rate (docs/campaigns.md).
    ...campaignJobHandlers(deps),
    // Housekeeping (docs/operations.md): a durable job that schedules itself.
    retentionJobHandler(deps),
  ];
  const worker = deps.config.JOBS_WORKER
    ? new JobWorker(deps, handlers, { concurrency: deps.config.JOBS_CONCURRENCY, pollIntervalMs: deps.config.JOBS_POLL_INTERVAL })
    : undefined;
  worker?.start();
  ensureRetentionJob(deps).catch((error: unknown) => deps.logger.warn({ err: error }, 'could not schedule the retention job; the next start will'));

  return {
    worker,
    stop: async () => {
      await worker?.stop();
      await webhookDelivery.close();
    },
  };
}
