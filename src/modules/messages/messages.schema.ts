import { z } from 'zod';
import { idParam, pageParam, phoneParam } from '../../http/fields.js';
import { isMediaLink } from '../../media/media-link.js';
import { MEDIA_EXTENSIONS } from '../../media/media-types.js';
import { MediaUpload } from '../../media/upload.js';
import { PHONE_REQUIRED, customerFieldsInput } from '../customers/customers.schema.js';
import { MEDIA_LINK_INVALID } from '../../media/media-link.js';

export const MISSING_PARAMETERS = 'Missing required parameters.';
export const CONVERSATION_CLOSED = 'Conversation is closed (send a template instead)';
export const MESSAGING_DISABLED = 'User not authorized to send text messages.';
export const SEND_TEXT_FAILED = 'Failed to send text message.';
export const SEND_MEDIA_FAILED = 'Failed to send media message.';
export const SEND_TEMPLATE_FAILED = 'Failed to send template message.';
export const MEDIA_UPLOAD_FAILED = 'Failed to upload media file.';
export const FILE_OR_URL_REQUIRED = 'Either file upload or media_url is required.';
export const MEDIA_PHONE_REQUIRED = 'Missing required parameter: customer_phone';
export const TEMPLATE_ID_REQUIRED = 'Template ID is required.';
export const VARIABLES_REQUIRED = 'Variables are required.';
export const INVALID_VARIABLES = 'Invalid template variables';
export const WA_ID_REQUIRED = 'Message WhatsApp Id is required';
export const MESSAGE_NOT_FOUND = 'Message not found';
export const PER_PAGE = 100;

/** WhatsApp's limits: a text message's body, a media caption. */
export const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
export const TEXT_TOO_LONG = `Text is too long (at most ${MAX_TEXT} characters)`;
export const CAPTION_TOO_LONG = `Caption is too long (at most ${MAX_CAPTION} characters)`;

export const MESSAGE_STATUSES = ['pending', 'sent', 'delivered', 'read', 'failed', 'received'] as const;

/**
 * The reference lists these on every send. A template to a phone that is no customer yet creates the
 * customer from them; otherwise (and always for free-form messages, which need an existing customer)
 * they change nothing.
 */
const { name, email, source, bot_token } = customerFieldsInput.shape;
const contactFields = { name, email, source, bot_token };

export const sendTextInput = z.object({
  customer_phone: phoneParam(MISSING_PARAMETERS),
  text: z
    .string({ error: MISSING_PARAMETERS })
    .refine((text) => text.trim() !== '', { error: MISSING_PARAMETERS })
    .max(MAX_TEXT, { error: TEXT_TOO_LONG }),
  ...contactFields,
});

export type SendTextInput = z.output<typeof sendTextInput>;

/** A multipart upload, already checked and staged (see media/upload.ts); JSON cannot carry one. */
const uploadedFile = z.custom<MediaUpload>((value) => value instanceof MediaUpload, {
  error: FILE_OR_URL_REQUIRED,
});

export const sendMediaInput = z.object({
  file: uploadedFile.optional().meta({ type: 'string', format: 'binary', description: 'multipart/form-data only' }),
  media_url: z
    .string({ error: FILE_OR_URL_REQUIRED })
    .optional()
    .meta({ description: `A public link; its extension (or \`filename\`'s) one of ${MEDIA_EXTENSIONS.join(', ')}` }),
  // Optional here so that a missing file or link is reported first, as the reference lists it.
  customer_phone: phoneParam(MEDIA_PHONE_REQUIRED).optional(),
  caption: z.string().max(MAX_CAPTION, { error: CAPTION_TOO_LONG }).nullish(),
  filename: z.string().max(255).nullish().meta({ description: "The document's name; gives the type when media_url's path has no extension" }),
  ...contactFields,
});

export type SendMediaInput = z.output<typeof sendMediaInput>;

/** A list of values from JSON (an array) or a query string or form (one value, or a repeated key). */
const valueList = (message: string) =>
  z
    .union([z.array(z.union([z.string(), z.number()])), z.string(), z.number()], { error: message })
    .transform((value) => (Array.isArray(value) ? value : [value]).map(String))
    .refine((values) => values.every((value) => value.length <= MAX_CAPTION), { error: message });

const templateSendFields = {
  customer_phone: phoneParam(PHONE_REQUIRED),
  template_id: idParam(TEMPLATE_ID_REQUIRED),
  button_variables: valueList(INVALID_VARIABLES).optional().meta({ description: "Values for the URL buttons' `{{1}}`, in order" }),
  media_link: z
    .string({ error: MEDIA_LINK_INVALID })
    .refine(isMediaLink, { error: MEDIA_LINK_INVALID })
    .optional()
    .meta({ description: "Replaces the template's header media" }),
  ...contactFields,
};

const variableList = valueList(INVALID_VARIABLES).optional().meta({ description: "Values for the body's `{{1}}…{{n}}`, in order" });

export const sendTemplateInput = z.object({ ...templateSendFields, variable: variableList }).transform(({ variable, ...rest }) => ({ ...rest, variables: variable ?? [] }));

/** `text_variable` is another name for `variable`, read when `variable` is absent. */
export const sendTemplateTextVariableInput = z
  .object({ ...templateSendFields, variable: variableList, text_variable: variableList })
  .transform(({ variable, text_variable, ...rest }, ctx) => {
    const variables = variable ?? text_variable ?? [];
    if (variables.length === 0) ctx.addIssue({ code: 'custom', message: VARIABLES_REQUIRED });
    return { ...rest, variables };
  });

export type SendTemplateInput = z.output<typeof sendTemplateInput>;

export const messageWaIdInput = z.object({ message_wa_id: idParam(WA_ID_REQUIRED) });
export const conversationInput = z.object({ customer_phone: phoneParam(PHONE_REQUIRED), page: pageParam() });
export const phoneInput = z.object({ customer_phone: phoneParam(PHONE_REQUIRED) });

export const sentReply = z.object({
  success: z.literal(true),
  id: z.number().int(),
  message_wa_id: z
    .string()
    .nullable()
    .meta({ description: "WhatsApp's id of the message; null while a WhatsApp rate limit holds it back (it is sent by a background job and gets its id then)" }),
});

export const messageRecord = z.object({
  id: z.number().int(),
  message_wa_id: z.string().nullable(),
  direction: z.enum(['inbound', 'outbound']),
  type: z.string().meta({ description: 'text, image, video, audio, document, template, sticker, location, …' }),
  from: z.string(),
  to: z.string(),
  text: z.string().nullable().meta({ description: "The text, a media message's caption, or a template's rendered body" }),
  is_img: z.boolean(),
  is_video: z.boolean(),
  is_audio: z.boolean(),
  is_pdf: z.boolean(),
  is_sticker: z.boolean(),
  is_geo_location: z.boolean(),
  media_url: z.string().nullable(),
  mime_type: z.string().nullable(),
  filename: z.string().nullable(),
  timestamp: z.number().int().meta({ description: 'Unix seconds' }),
  status: z.enum(MESSAGE_STATUSES),
  error_code: z.number().int().nullable(),
  error_title: z.string().nullable(),
});

export type MessageRecord = z.infer<typeof messageRecord>;
