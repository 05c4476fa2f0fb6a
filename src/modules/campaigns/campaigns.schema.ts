import { z } from 'zod';
import { idParam, pageParam, requiredText } from '../../http/fields.js';
import { MEDIA_LINK_INVALID, isMediaLink } from '../../media/media-link.js';
import { TEMPLATE_ID_REQUIRED } from '../messages/messages.schema.js';

export const CAMPAIGN_NOT_FOUND = 'Campaign not found';
export const CAMPAIGN_ID_REQUIRED = 'Campaign id is required.';
export const NAME_REQUIRED = 'Campaign name is required.';
export const NO_RECIPIENTS = 'No recipients';
export const AUDIENCE_REQUIRED = 'Audience needs at least one selector';
export const SCHEDULE_INVALID = 'scheduled_at must be a future date and time (ISO 8601)';
export const CAMPAIGN_NOT_RUNNING = 'Only a running or scheduled campaign can be paused';
export const CAMPAIGN_NOT_PAUSED = 'Only a paused campaign can be resumed';
export const CAMPAIGN_FINISHED = 'The campaign is already completed or cancelled';
export const RECIPIENTS_PER_PAGE = 250;
export const CAMPAIGN_STATUSES = ['scheduled', 'running', 'paused', 'completed', 'cancelled'] as const;
export const RECIPIENT_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'skipped'] as const;

const labelNames = z.array(z.string().trim().min(1).max(255)).max(50);
const phones = z.array(z.union([z.string(), z.number()]).transform(String)).max(100_000);

export const audienceInput = z
  .strictObject({
    labels_any: labelNames.optional(),
    labels_all: labelNames.optional(),
    exclude_labels: labelNames.optional(),
    phones: phones.optional(),
    custom_field: z.strictObject({ name: z.string().min(1).max(64), equals: z.union([z.string().max(4096), z.number(), z.boolean()]) }).optional(),
  })
  .refine((audience) => Boolean(audience.labels_any?.length || audience.labels_all?.length || audience.phones?.length || audience.custom_field), { error: AUDIENCE_REQUIRED });
export type Audience = z.output<typeof audienceInput>;

/** A literal, or references filled per recipient: `{{customer.name|there}}`, `{{fields.city}}`. */
const values = z.array(z.union([z.string().max(1024), z.number()]).transform(String)).max(100);

export const createCampaignInput = z.object({
  name: requiredText(NAME_REQUIRED, 255),
  template_id: idParam(TEMPLATE_ID_REQUIRED),
  audience: audienceInput,
  variables: values.default([]),
  button_variables: values.default([]),
  media_link: z.string({ error: MEDIA_LINK_INVALID }).refine(isMediaLink, { error: MEDIA_LINK_INVALID }).optional(),
  scheduled_at: z.string().max(64).optional(),
  rate_per_second: z.coerce.number().int().min(1).max(1000).default(20),
});
export type CreateCampaignInput = z.output<typeof createCampaignInput>;

export const campaignIdInput = z.object({ campaign_id: idParam(CAMPAIGN_ID_REQUIRED) });
export const recipientsInput = z.object({ campaign_id: idParam(CAMPAIGN_ID_REQUIRED), page: pageParam(), status: z.enum(RECIPIENT_STATUSES, { error: 'Invalid status' }).optional() });

export const campaignCounts = z.object({ queued: z.int(), sending: z.int(), sent: z.int(), delivered: z.int(), read: z.int(), replied: z.int(), failed: z.int(), skipped: z.int() });
export const campaignRecord = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(CAMPAIGN_STATUSES),
  template_id: z.string(),
  recipients: z.int(),
  rate_per_second: z.int(),
  scheduled_at: z.string().nullable(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  created_at: z.string(),
  counts: campaignCounts.optional(),
});
export type CampaignRecord = z.output<typeof campaignRecord>;
export type CampaignCounts = z.output<typeof campaignCounts>;

export const recipientRecord = z.object({
  phone: z.string(),
  status: z.enum(RECIPIENT_STATUSES),
  message_wa_id: z.string().nullable(),
  error_code: z.int().nullable(),
  error_title: z.string().nullable(),
  reason: z.string().nullable(),
});
export type RecipientRecord = z.output<typeof recipientRecord>;
