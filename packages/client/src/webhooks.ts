import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export { WebhookVerificationError };

/** An event openmumble delivered, once its signature checked out. */
export interface VerifiedWebhook {
  type: string;
  timestamp: string;
  data: unknown;
}

/**
 * Checks an outbound webhook of openmumble (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature`) with the reference library, and returns the event. `body` must be the raw
 * body exactly as received; `secret` is the `whsec_…` secret add-webhook returned. Throws
 * WebhookVerificationError for a wrong signature or a timestamp more than 5 minutes off.
 */
export function verifyWebhook(secret: string, body: string, headers: Record<string, string | string[] | undefined> | Headers): VerifiedWebhook {
  const plain: Record<string, string> = {};
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  for (const [name, value] of entries) if (value !== undefined) plain[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return new Webhook(secret).verify(body, plain) as VerifiedWebhook;
}
