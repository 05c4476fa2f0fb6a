import { z } from 'zod';
import { idParam, optionalText, pageParam, phoneParam, requiredText } from '../../http/fields.js';

export const PHONE_REQUIRED = 'Phone number is required.';
export const CUSTOMER_NOT_FOUND = 'Customer not found';
export const PER_PAGE = 250;
export const MAX_CUSTOM_FIELD_NAMES = 15;

/** The reference's conversation statuses, exactly. */
export const CONVERSATION_STATUSES = [
  'new', 'open', 'closed', 'waiting', 'waiting_for_agent', 'reopened', 'solved', 'in_progress', 'in_process',
  'spam', 'being_handled', 'not_relevant', 'appointment_scheduled', 'pending_customer', 'escalated',
  'follow_up', 'duplicate', 'require_review',
] as const;

/** The reference's 33 marketing attribution fields. */
export const ATTRIBUTION_FIELDS = [
  'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'placement', 'adset_id', 'ga_id',
  'ga_session_id', 'campaign_id', 'keyword_id', 'gclid', 'wbraid', 'gbraid', 'fbclid', 'msclickid', 'ttcid',
  'yclid', 'obcid', 'li_fat_id', 'tblci', 'twclid', 'current_url', 'user_agent', 'ip', 'fbc', 'fbp', 'cid',
  'matchtype', 'device', 'layer', 'network', 'form',
] as const;

export const STANDARD_FIELDS = ['customer_phone', 'name', 'email', 'source', 'bot_token'] as const;

const KNOWN_FIELDS = new Set<string>([...STANDARD_FIELDS, ...ATTRIBUTION_FIELDS]);

export function isKnownField(name: string): boolean {
  return KNOWN_FIELDS.has(name);
}

/** A custom field name: an identifier, and never one that means something to a JS object. */
export function isValidCustomFieldName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) && !['__proto__', 'constructor', 'prototype'].includes(name);
}

export const customFieldValue = z.union([z.string().max(4096), z.number(), z.boolean(), z.null()]);

/** An email address when given; empty or null clears it. */
const email = z
  .union([z.email().max(254), z.literal(''), z.null()])
  .optional()
  .transform((value) => (value === '' ? null : value));

/** Attribution values are text; click and campaign ids may arrive as JSON numbers. */
const attributionValue = z
  .union([z.string().max(4096), z.number()])
  .nullish()
  .transform((value) => (value === undefined || value === null ? value : String(value)));

const attributionShape = Object.fromEntries(ATTRIBUTION_FIELDS.map((field) => [field, attributionValue])) as Record<
  (typeof ATTRIBUTION_FIELDS)[number],
  typeof attributionValue
>;

/** add-new-customer and edit-customer: standard and attribution fields; any other key is a custom field. */
export const customerFieldsInput = z
  .object({
    customer_phone: phoneParam(PHONE_REQUIRED, { wrongType: 'invalid-input' }),
    name: optionalText(256),
    email,
    source: optionalText(256),
    bot_token: z.union([z.string().max(255), z.number()]).nullish().transform((v) => (v === undefined || v === null ? v : String(v))),
    ...attributionShape,
  })
  .catchall(z.unknown());

export type CustomerFieldsInput = z.output<typeof customerFieldsInput>;

export const phoneOnlyInput = z.object({ customer_phone: phoneParam(PHONE_REQUIRED) });

export const pageInput = z.object({ page: pageParam() });

export const conversationStatusInput = z.object({
  customer_phone: phoneParam(PHONE_REQUIRED),
  status: z.enum(CONVERSATION_STATUSES, { error: 'Invalid conversation status.' }),
});

export const assignAgentInput = z.object({
  customer_phone: phoneParam(PHONE_REQUIRED),
  agent_id: idParam('Agent ID is required.'),
});

export const assignTeamInput = z.object({
  customer_phone: phoneParam(PHONE_REQUIRED),
  team_id: idParam('Team ID is required.'),
});

export const customerRecord = z.object({
  id: z.string().meta({ example: '0b4f8a5e-2a7c-4f43-9d8e-5a3c1e0f7b21' }),
  name: z.string().nullable(),
  phone: z.string().meta({ example: '972501234567' }),
  email: z.string().nullable(),
  country: z.string().nullable().meta({ description: 'ISO 3166 alpha-2 from the calling code', example: 'IL' }),
  conversation_status: z.enum(CONVERSATION_STATUSES),
  last_interaction: z.string().nullable().meta({ description: 'UTC, YYYY-MM-DDTHH:MM:SS', example: '2026-06-29T00:00:00' }),
  source: z.string().nullable(),
  custom_fields: z.record(z.string(), customFieldValue),
  attribution: z.record(z.string(), z.string()),
  labels: z.array(z.string()),
  agent_id: z.string().nullable(),
  team_id: z.string().nullable(),
  bot: z.string().nullable().meta({ description: 'null, "AI" or a flow bot id' }),
  created_at: z.string(),
});

export type CustomerRecord = z.infer<typeof customerRecord>;

export const messageReply = z.object({ success: z.literal(true), message: z.string() });
