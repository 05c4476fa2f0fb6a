import { systemClock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { loggerFor, type Deps } from './deps.js';
import { createRateLimiter } from './http/rate-limit.js';
import { jobStats } from './jobs/queue.js';
import { createMetrics, registerJobGauges } from './metrics.js';
import type { ChannelRegistry } from './channels/channel.js';
import { createCloudApiRuntime } from './channels/cloud-api/runtime.js';
import { SandboxChannel } from './channels/sandbox/sandbox-channel.js';
import { DirectoryMediaStore } from './media/media-store.js';
import { TimerScheduler } from './scheduler.js';
import { createLiveHub } from './modules/live/hub.js';
import { KeyCache } from './modules/accounts/key-cache.js';
import { ingestEvents } from './modules/messages/ingest.js';
import { cloudApiChannelFor } from './modules/whatsapp/whatsapp.channel.js';

/**
 * The composition root: builds the process's Deps from the configuration, and ties the layers
 * together where they must not import each other (the channels hear WhatsApp and report to the
 * modules' ingest path through the ports they are given).
 */

/** The channel of each account, by its channel_type. */
function createChannelRegistry(getDeps: () => Deps): ChannelRegistry {
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

export function createDeps(config: Config, overrides: Partial<Deps> = {}): Deps {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? loggerFor(config);
  const metrics = overrides.metrics ?? createMetrics();
  // Every reply waits for durable() (buildApp), so SQLite commits can share their fsyncs.
  const database =
    overrides.database ??
    openDatabase(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE, groupCommit: true, onSync: (seconds) => metrics.fsyncDuration.observe(seconds) });
  const deps: Deps = {
    config,
    database,
    clock,
    logger,
    metrics,
    rateLimiter: overrides.rateLimiter ?? createRateLimiter({ config, clock, logger, metrics }),
    scheduler: overrides.scheduler ?? new TimerScheduler(logger),
    media: overrides.media ?? new DirectoryMediaStore(config.MEDIA_DIR),
    // Channels report to the ingest path, which needs these very deps.
    channels: overrides.channels ?? createChannelRegistry(() => deps),
    whatsapp: overrides.whatsapp ?? createCloudApiRuntime(config),
    live: overrides.live ?? createLiveHub({ database, clock, logger, listenerUrl: config.DATABASE_URL }),
    keyCache: overrides.keyCache ?? new KeyCache({ database, logger, listenerUrl: config.DATABASE_URL }),
  };
  registerJobGauges(metrics, () => jobStats(deps.database.db, clock.now()));
  return deps;
}

/** Releases what createDeps opened. */
export async function closeDeps(deps: Deps): Promise<void> {
  await deps.live.close();
  await deps.keyCache.close();
  await deps.scheduler.close();
  await deps.rateLimiter.close();
  await deps.whatsapp.close();
  await deps.database.close();
}
