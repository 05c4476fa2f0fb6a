import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.js';
import * as messaging from './0002_messaging.js';
import * as webhooksJobs from './0003_webhooks_jobs.js';
import * as cloudApi from './0004_cloud_api.js';
import * as customersCount from './0005_customers_count.js';
import * as peopleInbox from './0006_people_inbox.js';
import * as messageFidelity from './0007_message_fidelity.js';
import * as inboxSearch from './0008_inbox_search.js';
import * as flowBots from './0009_flow_bots.js';
import * as aiBot from './0010_ai_bot.js';
import * as campaigns from './0011_campaigns.js';
import * as personLanguage from './0012_person_language.js';
import * as campaignLimits from './0013_campaign_limits.js';
import * as authEpoch from './0014_auth_epoch.js';
import * as inboxIndexes from './0015_inbox_indexes.js';

/** Every migration, in order. One set serves SQLite and PostgreSQL. */
export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_messaging': messaging,
  '0003_webhooks_jobs': webhooksJobs,
  '0004_cloud_api': cloudApi,
  '0005_customers_count': customersCount,
  '0006_people_inbox': peopleInbox,
  '0007_message_fidelity': messageFidelity,
  '0008_inbox_search': inboxSearch,
  '0009_flow_bots': flowBots,
  '0010_ai_bot': aiBot,
  '0011_campaigns': campaigns,
  '0012_person_language': personLanguage,
  '0013_campaign_limits': campaignLimits,
  '0014_auth_epoch': authEpoch,
  '0015_inbox_indexes': inboxIndexes,
};
