import { z } from 'zod';
import { ApiError } from '../../errors.js';
import { defineEndpoint } from '../../http/endpoint.js';
import { MEDIA_LINK_INVALID } from '../../media/media-link.js';
import type { FileUploads } from '../../http/uploads.js';
import { MAX_MEDIA_BYTES } from '../../media/media-types.js';
import { stageUpload, type MediaUpload } from '../../media/upload.js';
import { CUSTOMER_NOT_FOUND, PHONE_REQUIRED } from '../customers/customers.schema.js';
import {
  BUTTON_VARIABLES_MISMATCH,
  TEMPLATE_NOT_APPROVED,
  TEMPLATE_NOT_FOUND,
  VARIABLES_MISMATCH,
} from '../templates/templates.schema.js';
import {
  CAPTION_TOO_LONG,
  CONVERSATION_CLOSED,
  FILE_OR_URL_REQUIRED,
  INVALID_VARIABLES,
  MEDIA_PHONE_REQUIRED,
  MEDIA_UPLOAD_FAILED,
  MESSAGE_NOT_FOUND,
  MESSAGING_DISABLED,
  MISSING_PARAMETERS,
  SEND_MEDIA_FAILED,
  SEND_TEMPLATE_FAILED,
  SEND_TEXT_FAILED,
  TEMPLATE_ID_REQUIRED,
  TEXT_TOO_LONG,
  VARIABLES_REQUIRED,
  WA_ID_REQUIRED,
  conversationInput,
  messageRecord,
  messageWaIdInput,
  phoneInput,
  sendMediaInput,
  sendTemplateInput,
  sendTemplateTextVariableInput,
  sendTextInput,
  sentReply,
} from './messages.schema.js';
import * as messages from './messages.service.js';

const phoneRequired = { status: 400, message: PHONE_REQUIRED };
const customerNotFound = { status: 404, message: CUSTOMER_NOT_FOUND };
const conversationClosed = { status: 400, message: CONVERSATION_CLOSED };
const messagingDisabled = { status: 401, message: MESSAGING_DISABLED };
/** A new contact's fields (name, email, …) are refused as add-new-customer refuses them. */
const CONTACT_INVALID = 'Failed to add customer due to invalid input';
const WINDOW_NOTE = 'Needs an open 24-hour window (see is-active-conv); `name`, `email`, `source` and `bot_token` are accepted and ignored.';

/** Files of send-media-message: checked (name, content, size) and staged while they stream in. */
export const mediaUploads: FileUploads<MediaUpload> = {
  maxFileBytes: Math.max(...Object.values(MAX_MEDIA_BYTES)) + 1,
  receive: async (file, deps) => {
    try {
      return await stageUpload(deps.media, file.filename, file.file);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      deps.logger.error({ err: error }, 'could not store an uploaded file');
      throw new ApiError(500, MEDIA_UPLOAD_FAILED);
    }
  },
  release: (upload, deps) => deps.media.discard(upload.staged),
};

/** What a send of an approved template is refused with, whoever sends it (the Mumble API, a person in the inbox). */
export const templateSendErrors = [
  { status: 400, message: TEMPLATE_NOT_APPROVED },
  { status: 400, message: VARIABLES_MISMATCH },
  { status: 400, message: BUTTON_VARIABLES_MISMATCH },
  { status: 400, message: MEDIA_LINK_INVALID },
  { status: 404, message: TEMPLATE_NOT_FOUND },
  { status: 500, message: SEND_TEMPLATE_FAILED },
];

/** What a send of media is refused with, whoever sends it. */
export const mediaSendErrors = [
  { status: 400, message: FILE_OR_URL_REQUIRED },
  { status: 400, message: 'Unsupported file type: .xyz' },
  { status: 400, message: 'File content does not match its extension: .png' },
  { status: 400, message: MEDIA_LINK_INVALID },
  conversationClosed,
  { status: 413, message: 'File too large: image files are limited to 5 MB' },
  { status: 500, message: SEND_MEDIA_FAILED },
  { status: 500, message: MEDIA_UPLOAD_FAILED },
];

const templateErrors = [
  phoneRequired,
  { status: 400, message: TEMPLATE_ID_REQUIRED },
  { status: 400, message: INVALID_VARIABLES },
  { status: 400, message: CONTACT_INVALID },
  messagingDisabled,
  customerNotFound,
  { status: 404, message: 'Bot not found.' },
  ...templateSendErrors,
];

const TEMPLATE_NOTE =
  'Starts a conversation: needs no open window. A phone that is no customer yet becomes one, from `name`, `email`, `source` and ' +
  '`bot_token` (ignored for an existing customer). `button_variables` fill the URL buttons\' `{{1}}` in order; `media_link` replaces the header media.';

const templateSentReply = sentReply.extend({ message: z.literal('Template message sent successfully') });

export const messagingEndpoints = [
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/send-text-message',
    tag: 'Messaging',
    summary: 'Send a free-form text message',
    description: WINDOW_NOTE,
    input: sendTextInput,
    invalidInput: MISSING_PARAMETERS,
    missingParameters: MISSING_PARAMETERS,
    output: sentReply,
    messaging: true,
    example: { request: { customer_phone: '972501234567', text: 'Hello!' }, response: { success: true, id: 1, message_wa_id: 'wamid.abc123' } },
    errors: [
      { status: 400, message: MISSING_PARAMETERS },
      { status: 400, message: TEXT_TOO_LONG },
      conversationClosed,
      messagingDisabled,
      { status: 500, message: SEND_TEXT_FAILED },
    ],
    handler: async (input, { deps, account }) => messages.sendText(deps, account, input),
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/send-media-message',
    tag: 'Messaging',
    summary: 'Send a media message (image, video, audio, document)',
    description:
      `${WINDOW_NOTE} Either upload \`file\` as multipart/form-data, or give \`media_url\` in JSON (handed to WhatsApp as a link). ` +
      'An upload must be what its extension says (its first bytes are checked); images up to 5 MB, audio and video 16 MB, documents 100 MB.',
    input: sendMediaInput,
    invalidInput: FILE_OR_URL_REQUIRED,
    output: sentReply,
    uploads: mediaUploads,
    example: {
      request: { customer_phone: '972501234567', media_url: 'https://example.com/photo.jpg', caption: 'Check this out!', filename: 'photo.jpg' },
      response: { success: true, id: 1, message_wa_id: 'wamid.abc123' },
    },
    errors: [...mediaSendErrors, { status: 400, message: MEDIA_PHONE_REQUIRED }, { status: 400, message: CAPTION_TOO_LONG }, messagingDisabled],
    handler: async (input, { deps, account }) => messages.sendMedia(deps, account, input),
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/send-template',
    tag: 'Messaging',
    summary: 'Send an approved message template',
    description: `${TEMPLATE_NOTE} \`variable\` may fill body variables here too.`,
    input: sendTemplateInput,
    invalidInput: CONTACT_INVALID,
    output: templateSentReply,
    messaging: true,
    example: {
      request: { customer_phone: '972501234567', template_id: 'template-uuid', button_variables: ['offer25'], media_link: 'https://example.com/banner.jpg' },
      response: { success: true, message: 'Template message sent successfully', id: 1, message_wa_id: 'wamid.abc123' },
    },
    errors: templateErrors,
    handler: async (input, { deps, account }) => ({ message: 'Template message sent successfully', ...(await messages.sendTemplate(deps, account, input)) }),
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/send-template-text-variable',
    tag: 'Messaging',
    summary: 'Send an approved template that has body variables ({{1}}, {{2}}, …)',
    description: `${TEMPLATE_NOTE} \`variable\` fills \`{{1}}…{{n}}\` in order and must have exactly n values; \`text_variable\` is read when \`variable\` is absent.`,
    input: sendTemplateTextVariableInput,
    invalidInput: CONTACT_INVALID,
    output: templateSentReply,
    messaging: true,
    example: {
      request: { customer_phone: '972501234567', template_id: 'template-uuid', variable: ['John Doe', '#12345'], button_variables: ['offer25'] },
      response: { success: true, message: 'Template message sent successfully', id: 1, message_wa_id: 'wamid.abc123' },
    },
    errors: [...templateErrors, { status: 400, message: VARIABLES_REQUIRED }],
    handler: async (input, { deps, account }) => ({ message: 'Template message sent successfully', ...(await messages.sendTemplate(deps, account, input)) }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-message',
    tag: 'Messaging',
    summary: 'Fetch a single message by its WhatsApp ID',
    description: 'The message_wa_id returned when sending (or of a received message). A failed message carries `error_code` and `error_title`.',
    input: messageWaIdInput,
    invalidInput: WA_ID_REQUIRED,
    output: z.object({ success: z.literal(true), message: messageRecord }),
    example: { request: { message_wa_id: 'wamid.abc123' } },
    errors: [
      { status: 400, message: WA_ID_REQUIRED },
      { status: 404, message: MESSAGE_NOT_FOUND },
    ],
    handler: async (input, { deps, account }) => ({ message: await messages.getMessage(deps, account.id, input.message_wa_id) }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-conversation',
    tag: 'Conversations',
    summary: 'Paginated conversation history for a customer',
    description: '100 messages per page, newest first. `from` and `to` are the customer\'s number and the business\'s WhatsApp number.',
    input: conversationInput,
    invalidInput: 'Invalid page',
    output: z.object({
      success: z.literal(true),
      messages: z.array(messageRecord),
      total: z.number().int(),
      pages: z.number().int(),
      current_page: z.number().int(),
    }),
    example: { request: { customer_phone: '972501234567', page: 1 } },
    errors: [phoneRequired, { status: 400, message: 'Invalid page' }, customerNotFound],
    handler: async (input, { deps, account }) => messages.getConversation(deps, account.id, input.customer_phone, input.page),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/is-active-conv',
    tag: 'Conversations',
    summary: "Check whether a customer's 24-hour conversation window is currently open",
    description: 'Open while less than 24 hours have passed since the customer last wrote. When closed, only an approved template reaches them.',
    input: phoneInput,
    invalidInput: PHONE_REQUIRED,
    output: z.object({ success: z.literal(true), is_active: z.boolean() }),
    example: { request: { customer_phone: '972501234567' }, response: { success: true, is_active: true } },
    errors: [phoneRequired, customerNotFound],
    handler: async (input, { deps, account }) => ({ is_active: await messages.isActiveConversation(deps, account.id, input.customer_phone) }),
  }),
];
