import type { Deps } from '../../deps.js';
import { isSealed, KeyRing, WEBHOOK_SECRET } from '../../secrets/secret-box.js';

/**
 * Webhook signing secrets at rest: sealed with OPENMUMBLE_SECRET_KEY (AES-256-GCM, bound to the
 * account) when a key is configured. Without one (the embedded default needs none) a secret is kept
 * as it is and sealed at the next start with a key, or by `openmumble secrets rotate`: add-webhook
 * must keep working on a fresh install, as the Mumble API promises.
 */
const PURPOSE = 'store webhook signing secrets';

function ringFor(deps: Pick<Deps, 'config'>): KeyRing | undefined {
  return deps.config.OPENMUMBLE_SECRET_KEY ? new KeyRing(deps.config, WEBHOOK_SECRET, PURPOSE) : undefined;
}

/** The form a new secret is stored in. */
export function sealWebhookSecret(deps: Pick<Deps, 'config'>, accountId: string, secret: string): string {
  return ringFor(deps)?.encrypt(secret, accountId) ?? secret;
}

/** The secret to sign with; throws TokenDecryptionError or SecretKeyMissingError when it cannot be read. */
export function openWebhookSecret(deps: Pick<Deps, 'config'>, accountId: string, stored: string): string {
  if (!isSealed(stored)) return stored;
  return new KeyRing(deps.config, WEBHOOK_SECRET, 'sign webhooks with their stored secrets').decrypt(stored, accountId);
}

/** Every stored secret sealed again with the current key (from the previous key, or from clear text). */
export function resealWebhookSecret(deps: Pick<Deps, 'config'>, accountId: string, stored: string): string {
  return new KeyRing(deps.config, WEBHOOK_SECRET, PURPOSE).reseal(stored, accountId);
}
