import type { Deps } from '../deps.js';
import { ingestEvents } from '../modules/messages/ingest.js';
import type { ChannelRegistry } from './channel.js';
import { cloudApiChannelFor } from './cloud-api/cloud-api-channel.js';
import { SandboxChannel } from './sandbox/sandbox-channel.js';

/** The channel of each account, by its channel_type. */
export function createChannelRegistry(getDeps: () => Deps): ChannelRegistry {
  return {
    async forAccount(account) {
      const deps = getDeps();
      switch (account.channel_type) {
        case 'sandbox':
          return new SandboxChannel(
            account.id,
            { statusDelayMs: deps.config.SANDBOX_STATUS_DELAY_MS, autoApproveSeconds: deps.config.SANDBOX_AUTO_APPROVE_TEMPLATES },
            { events: ingestEvents(deps, 'sandbox'), scheduler: deps.scheduler, clock: deps.clock, media: deps.media },
          );
        case 'cloud_api':
          return cloudApiChannelFor(deps, account.id);
        default:
          throw new Error(`account ${account.id} has an unknown channel type: ${account.channel_type}`);
      }
    },
  };
}
