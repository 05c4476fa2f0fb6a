import { z } from 'zod';
import { idParam, pageParam } from '../../http/fields.js';
import { WEBHOOK_EVENT_TYPES } from './events.js';

export const URL_REQUIRED = 'URL is required.';
export const INVALID_URL = 'Invalid URL';
export const INVALID_EVENTS = 'Events must be a list of event types';
export const WEBHOOK_NOT_FOUND = 'Webhook not found';
export const DELIVERY_NOT_FOUND = 'Delivery not found';
export const MAX_WEBHOOKS = 10;
export const TOO_MANY_WEBHOOKS = `Cannot add more than ${MAX_WEBHOOKS} webhooks per account`;
export const DELIVERIES_PER_PAGE = 100;

const isMissing = (input: unknown) => input === undefined || input === null;

export const addWebhookInput = z.object({
  url: z
    .string({ error: (issue) => (isMissing(issue.input) ? URL_REQUIRED : INVALID_URL) })
    .trim()
    .min(1, { error: URL_REQUIRED })
    .max(2048, { error: INVALID_URL })
    .meta({ example: 'https://example.com/hooks/mumble' }),
  events: z
    .union([z.array(z.string(), { error: INVALID_EVENTS }), z.string()], { error: INVALID_EVENTS })
    .nullish()
    .meta({ description: `Event types (a list, or a comma-separated string). Absent or empty: all of ${WEBHOOK_EVENT_TYPES.join(', ')}.` }),
});

export const webhookIdInput = z.object({ webhook_id: idParam('Webhook ID is required.') });
export const deliveriesInput = z.object({ webhook_id: idParam('Webhook ID is required.'), page: pageParam() });
export const redeliverInput = z.object({ delivery_id: idParam('Delivery ID is required.') });

const eventTypes = z.array(z.enum(WEBHOOK_EVENT_TYPES));

export const newWebhookRecord = z.object({
  id: z.string(),
  url: z.string(),
  events: eventTypes,
  secret: z.string().meta({ description: 'The signing secret, `whsec_` + base64 of 32 random bytes. Shown only in this reply.' }),
});

export const webhookRecord = z.object({
  id: z.string(),
  url: z.string(),
  events: eventTypes,
  status: z.enum(['active', 'disabled']),
  disabled_reason: z.string().nullable().meta({ description: 'Why the webhook was disabled (deliveries failing for 5 days).' }),
  disabled_at: z.string().nullable(),
  failing_since: z.string().nullable().meta({ description: 'Start of the current run of failed attempts; null while deliveries succeed.' }),
  created_at: z.string(),
});

export const attemptRecord = z.object({
  number: z.number().int(),
  attempted_at: z.string(),
  response_status: z.number().int().nullable(),
  duration_ms: z.number().int(),
  error: z.string().nullable(),
});

export const deliveryRecord = z.object({
  id: z.string(),
  event_id: z.string().meta({ description: 'Also the `webhook-id` header: the same on every attempt and redelivery.' }),
  event_type: z.enum(WEBHOOK_EVENT_TYPES),
  status: z.enum(['pending', 'succeeded', 'failed']),
  redelivery: z.boolean(),
  created_at: z.string(),
  next_attempt_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  last_error: z.string().nullable(),
  attempts: z.array(attemptRecord),
});

export type WebhookRecord = z.infer<typeof webhookRecord>;
export type DeliveryRecord = z.infer<typeof deliveryRecord>;
