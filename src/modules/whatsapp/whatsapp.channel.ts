import { CloudApiChannel, SEND_RETRY_JOB, sendRetryDelayMs, type SendRetryPayload } from '../../channels/cloud-api/cloud-api-channel.js';
import type { Deps } from '../../deps.js';
import { enqueueJob } from '../../jobs/queue.js';
import { findChannelByAccount } from './whatsapp.repository.js';
import { credentialsOrDisconnected, markChannelDisconnected } from './whatsapp.service.js';

/** A send WhatsApp's rate limits refused, sent again by a durable job: one customer's messages leave in the order they were sent. */
export async function enqueueSendRetry(deps: Deps, payload: SendRetryPayload, attempt: number): Promise<void> {
  const to = typeof payload.body.to === 'string' ? payload.body.to : '';
  const now = deps.clock.now();
  await enqueueJob(deps.database.db, {
    type: SEND_RETRY_JOB,
    payload,
    groupKey: `whatsapp-send:${payload.accountId}:${to}`,
    runAt: new Date(now.getTime() + sendRetryDelayMs(attempt)),
    now,
  });
}

/**
 * The Cloud API channel of an account whose channel_type is cloud_api, with the ports it reports
 * through. A token that cannot be decrypted (OPENMUMBLE_SECRET_KEY changed or missing) makes a
 * channel that refuses every send with that reason, rather than an unexpected error.
 */
export async function cloudApiChannelFor(deps: Deps, accountId: string): Promise<CloudApiChannel> {
  const row = await findChannelByAccount(deps.database.db, accountId);
  if (!row) throw new Error(`account ${accountId} is on the cloud_api channel but has no WhatsApp number connected`);
  return new CloudApiChannel(
    {
      runtime: deps.whatsapp,
      media: deps.media,
      logger: deps.logger,
      appId: deps.config.WHATSAPP_APP_ID,
      markDisconnected: (id, reason) => markChannelDisconnected(deps, id, reason),
      queueSendRetry: (payload, attempt) => enqueueSendRetry(deps, payload, attempt),
    },
    credentialsOrDisconnected(deps, row),
  );
}
