import type { Deps } from '../../deps.js';
import { isSealed } from '../../secrets/secret-box.js';
import { resealAiKeys } from '../ai/ai.service.js';
import { resealWebhookSecret } from '../webhooks/secret-storage.js';
import { resealAccessToken } from '../whatsapp/whatsapp.service.js';

/**
 * Secrets at rest across the tables that hold them: WhatsApp access tokens and webhook signing
 * secrets (docs/operations.md, "Secrets and key rotation").
 */

export interface ResealCount {
  accessTokens: number;
  webhookSecrets: number;
  aiKeys: number;
}

/**
 * Seals every stored secret again with OPENMUMBLE_SECRET_KEY, opening each with it or with
 * OPENMUMBLE_SECRET_KEY_PREVIOUS (a rotation), and seals secrets kept in clear. One transaction:
 * either every row moves to the new key or none does. Safe to run again.
 */
export async function resealSecrets(deps: Deps): Promise<ResealCount> {
  return deps.database.db.transaction().execute(async (trx) => {
    const channels = await trx.selectFrom('whatsapp_channels').select(['account_id', 'access_token']).execute();
    for (const row of channels) {
      await trx.updateTable('whatsapp_channels').set({ access_token: resealAccessToken(deps, row) }).where('account_id', '=', row.account_id).execute();
    }
    const webhooks = await trx.selectFrom('webhook_subscriptions').select(['id', 'account_id', 'secret']).execute();
    for (const row of webhooks) {
      await trx.updateTable('webhook_subscriptions').set({ secret: resealWebhookSecret(deps, row.account_id, row.secret) }).where('id', '=', row.id).execute();
    }
    return { accessTokens: channels.length, webhookSecrets: webhooks.length, aiKeys: await resealAiKeys(deps, trx) };
  });
}

/**
 * At start: with a key configured, webhook secrets stored in clear (added while no key was set, or
 * before secrets were sealed) are sealed; without one, the operator is told they are in clear.
 */
export async function sealPlainWebhookSecrets(deps: Deps): Promise<void> {
  const rows = await deps.database.db.selectFrom('webhook_subscriptions').select(['id', 'account_id', 'secret']).execute();
  const plain = rows.filter((row) => !isSealed(row.secret));
  if (plain.length === 0) return;
  if (!deps.config.OPENMUMBLE_SECRET_KEY) {
    deps.logger.warn({ webhooks: plain.length }, 'webhook signing secrets are stored unencrypted: set OPENMUMBLE_SECRET_KEY to seal them');
    return;
  }
  await deps.database.db.transaction().execute(async (trx) => {
    for (const row of plain) {
      await trx.updateTable('webhook_subscriptions').set({ secret: resealWebhookSecret(deps, row.account_id, row.secret) }).where('id', '=', row.id).where('secret', '=', row.secret).execute();
    }
  });
  deps.logger.info({ webhooks: plain.length }, 'sealed webhook signing secrets with OPENMUMBLE_SECRET_KEY');
}
