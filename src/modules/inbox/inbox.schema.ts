import { z } from 'zod';
import { cursorParam } from '../../http/cursor.js';
import { MediaUpload } from '../../media/upload.js';
import { CROSS_SITE_REFUSED } from '../auth/app-api.js';
import { NOT_SIGNED_IN } from '../auth/sessions.service.js';
import { CONVERSATION_STATUSES, customFieldValue } from '../customers/customers.schema.js';
import { MAX_TEXT, MESSAGE_STATUSES } from '../messages/messages.schema.js';
import { unknownVariable } from '../customers/customer-text.js';
import { CONVERSATION_TABS } from './conversations.repository.js';

/** The inbox API's inputs and replies (docs/inbox.md, "The inbox API"). */

export const CONVERSATION_NOT_FOUND = 'Conversation not found';

/** What every inbox route can answer: they are for a signed-in person (and a write must pass the CSRF check). */
export const READ_ERRORS = [{ status: 401, message: NOT_SIGNED_IN }];
export const WRITE_ERRORS = [...READ_ERRORS, { status: 403, message: CROSS_SITE_REFUSED }];
export const MEDIA_NOT_FOUND = 'Media not found';

/** Text a person types: never a NUL (PostgreSQL cannot store one), bounded. */
export function typedText(field: string, max: number) {
  return z
    .string({ error: `${field} must be a string` })
    .max(max, `${field} is too long (at most ${max} characters)`)
    .refine((text) => !text.includes('\u0000'), `${field} must not contain NUL characters`);
}

/** Text that must say something: not empty, not only spaces. */
function requiredTypedText(field: string, max: number) {
  return typedText(field, max).refine((text) => text.trim() !== '', `${field} is required`);
}

const recordId = z.string().min(1).max(255);
const optionalId = (field: string) => typedText(field, 255).min(1, `${field} must not be empty`).optional();

export const conversationParams = z.object({ customerId: recordId });
export const conversationLabelParams = z.object({ customerId: recordId, label: recordId });
export const mediaParams = z.object({ messageId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
export const cannedResponseParams = z.object({ id: recordId });

const limit = (fallback: number) => z.coerce.number().int().min(1).max(100).default(fallback).meta({ description: `1-100, ${fallback} unless told` });

/** The conversation list's filters (and its counts'). */
export const conversationFiltersQuery = z.object({
  status: z.enum(CONVERSATION_STATUSES, { error: `status must be one of ${CONVERSATION_STATUSES.join(', ')}` }).optional(),
  label: optionalId('label').meta({ description: "A label's name" }),
  team_id: optionalId('team_id'),
  agent_id: optionalId('agent_id'),
  bot_active: z
    .enum(['true', 'false'], { error: 'bot_active must be true or false' })
    .transform((value) => value === 'true')
    .optional()
    .meta({ description: 'true: a bot answers (set and not paused); false: no bot, or a person took over' }),
  q: typedText('q', 200).optional().meta({ description: 'Search: name, phone or email (3 characters or more), or words of a message (by prefix)' }),
});
export type ConversationFiltersQuery = z.output<typeof conversationFiltersQuery>;

const activityCursor = z.strictObject({ at: z.string().max(40), id: z.string().max(255) });
const timelineCursor = z.strictObject({ at: z.string().max(40), kind: z.enum(['message', 'note']), id: z.string().max(255) });

export const conversationListQuery = conversationFiltersQuery.extend({
  tab: z.enum(CONVERSATION_TABS, { error: `tab must be one of ${CONVERSATION_TABS.join(', ')}` }).default('all'),
  cursor: cursorParam(activityCursor).optional(),
  limit: limit(25),
});

export const timelineQuery = z.object({ cursor: cursorParam(timelineCursor).optional(), limit: limit(50) });

export const textReplyInput = z.strictObject({ text: requiredTypedText('text', MAX_TEXT) });

/** A file uploaded as multipart/form-data (checked and staged as it streams in), or a link WhatsApp fetches. */
export const mediaReplyInput = z.strictObject({
  file: z
    .custom<MediaUpload>((value) => value instanceof MediaUpload, { error: 'file must be a file uploaded as multipart/form-data' })
    .optional()
    .meta({ type: 'string', format: 'binary', description: 'multipart/form-data only' }),
  media_url: typedText('media_url', 2048).optional().meta({ description: 'A public https link, instead of a file' }),
  caption: typedText('caption', 1024).optional(),
  filename: typedText('filename', 255).optional(),
});

const templateValues = (field: string) => z.array(typedText(field, 1024), { error: `${field} must be a list of strings` }).max(100, `${field}: at most 100 values`);

export const templateReplyInput = z.strictObject({
  template_id: requiredTypedText('template_id', 255),
  variables: templateValues('variables').default([]).meta({ description: "Values for the body's {{1}}…{{n}}, in order" }),
  button_variables: templateValues('button_variables').default([]).meta({ description: "Values for the URL buttons' {{1}}, in order" }),
  media_link: typedText('media_link', 2048).optional().meta({ description: "Replaces the template's header media" }),
});

export const noteInput = z.strictObject({ text: requiredTypedText('text', 10_000) });

const nullableId = (field: string) => typedText(field, 255).min(1, `${field} must not be empty`).nullable().optional();

export const conversationPatchInput = z
  .strictObject({
    status: z.enum(CONVERSATION_STATUSES, { error: `status must be one of ${CONVERSATION_STATUSES.join(', ')}` }).optional(),
    agent_id: nullableId('agent_id').meta({ description: 'An agent of the account, or null to unassign' }),
    team_id: nullableId('team_id').meta({ description: 'A team of the account, or null to unassign' }),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), 'Nothing to change: send status, agent_id or team_id');
export type ConversationPatch = z.output<typeof conversationPatchInput>;

export const labelInput = z.strictObject({ label: requiredTypedText('label', 255).meta({ description: "The label's name (get-labels)" }) });

/** The side panel's edit of a customer: edit-customer's fields, custom fields by name (null removes one). */
export const customerEditInput = z
  .strictObject({
    name: typedText('name', 256).nullable().optional().meta({ description: 'null or empty removes the name' }),
    email: typedText('email', 254).nullable().optional().meta({ description: 'An email address; null or empty removes it' }),
    custom_fields: z
      .record(typedText('custom field name', 64), customFieldValue)
      .optional()
      .meta({ description: 'Custom fields to set (a string, number or boolean) or remove (null); others stay. At most 15 names per account.' }),
  })
  .refine((edit) => Object.values(edit).some((value) => value !== undefined), 'Nothing to change: send name, email or custom_fields');
export type CustomerEdit = z.output<typeof customerEditInput>;

/** A shortcut: lower-cased; letters (any script), digits, `_` and `-`. */
const shortcut = typedText('shortcut', 32)
  .transform((value) => value.trim().toLowerCase())
  .refine((value) => /^[\p{L}\p{N}_-]+$/u.test(value), 'shortcut must be 1-32 letters, digits, _ or -');

const cannedText = requiredTypedText('text', MAX_TEXT).superRefine((text, ctx) => {
  const unknown = unknownVariable(text);
  if (unknown !== undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown variable {{${unknown}}}: use customer.name, customer.phone, customer.email or fields.<custom field>` });
  }
});

const cannedFields = { shortcut, title: requiredTypedText('title', 100), text: cannedText };

export const cannedResponseInput = z.strictObject(cannedFields);
export const cannedResponsePatch = z
  .strictObject({ shortcut: shortcut.optional(), title: cannedFields.title.optional(), text: cannedText.optional() })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), 'Nothing to change: send shortcut, title or text');
export const renderQuery = z.object({
  customer_id: z.string({ error: 'customer_id is required' }).min(1, 'customer_id is required').max(255).meta({ description: 'The customer whose values fill the variables' }),
});

// Replies.

const personRef = z.object({ id: z.string(), name: z.string().nullable() });

export const botStateRecord = z.object({
  bot: z.string().nullable().meta({ description: 'null, "AI" or a flow bot id' }),
  active: z.boolean().meta({ description: 'A bot is set and no person took over' }),
  paused_at: z.string().nullable(),
  paused_by: z.string().nullable().meta({ description: 'The agent who took over (or was assigned)' }),
});

const lastMessage = z.object({
  id: z.number().int(),
  type: z.string(),
  text: z.string().nullable(),
  direction: z.enum(['inbound', 'outbound']),
  status: z.enum(MESSAGE_STATUSES),
  created_at: z.string(),
});

export const conversationSummary = z.object({
  id: z.string().meta({ description: "The customer's id" }),
  name: z.string().nullable(),
  phone: z.string(),
  conversation_status: z.enum(CONVERSATION_STATUSES),
  last_activity_at: z.string().nullable().meta({ description: 'The latest message, either way (ISO 8601)' }),
  last_message: lastMessage.nullable(),
  unread: z.number().int().meta({ description: "Inbound messages after the signed-in person's read mark" }),
  agent: personRef.nullable(),
  team: personRef.nullable(),
  labels: z.array(z.string()),
  bot: botStateRecord,
  window_closes_at: z.string().nullable().meta({ description: '24 hours after the customer last wrote; free-form replies only before it' }),
});

export const conversationDetail = conversationSummary.extend({
  email: z.string().nullable(),
  country: z.string().nullable(),
  source: z.string().nullable(),
  custom_fields: z.record(z.string(), customFieldValue),
  attribution: z.record(z.string(), z.string()),
  window_open: z.boolean(),
  created_at: z.string(),
});

export const tabCounts = z.object({ mine: z.number().int(), unassigned: z.number().int(), all: z.number().int() });

export const inboxMessageRecord = z.object({
  kind: z.literal('message'),
  id: z.number().int(),
  customer_id: z.string(),
  message_wa_id: z.string().nullable(),
  direction: z.enum(['inbound', 'outbound']),
  type: z.string(),
  text: z.string().nullable(),
  status: z.enum(MESSAGE_STATUSES),
  error: z.object({ code: z.number().int().nullable(), title: z.string() }).nullable(),
  sender: z
    .union([
      z.object({ type: z.literal('agent'), id: z.string().nullable(), name: z.string().nullable() }),
      z.object({ type: z.enum(['bot', 'api', 'campaign']) }),
    ])
    .nullable()
    .meta({ description: 'Who sent an outbound message; null for inbound' }),
  media: z
    .object({ url: z.string(), mime_type: z.string().nullable(), filename: z.string().nullable() })
    .nullable()
    .meta({ description: 'A stored file at /app/api/media/:id (signed-in), or the link WhatsApp was given' }),
  content: z.record(z.string(), z.unknown()).nullable().meta({ description: 'Shared contacts, order items, a location, a reaction' }),
  created_at: z.string(),
});

export const inboxNoteRecord = z.object({
  kind: z.literal('note'),
  id: z.string(),
  customer_id: z.string(),
  text: z.string(),
  author: personRef.nullable(),
  created_at: z.string(),
});

export const cannedResponseRecord = z.object({
  id: z.string(),
  shortcut: z.string(),
  title: z.string(),
  text: z.string(),
  variables: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
