import { z } from 'zod';
import type { RequestAccount } from '../../db/tables.js';
import type { Deps } from '../../deps.js';
import { badRequest, notFound } from '../../errors.js';
import { defineEndpoint } from '../../http/endpoint.js';
import { idParam, optionalText, phoneParam } from '../../http/fields.js';
import { PHONE_REQUIRED } from '../customers/customers.schema.js';
import { MAX_TEXT, MESSAGE_NOT_FOUND, TEMPLATE_ID_REQUIRED, TEXT_TOO_LONG, WA_ID_REQUIRED, messageRecord } from '../messages/messages.schema.js';
import { findInteractiveOption, getMessage } from '../messages/messages.service.js';
import { templateRecord } from '../templates/templates.schema.js';
import { requireTemplate, toTemplateRecord } from '../templates/templates.service.js';
import { isValidPhone } from '../../phone.js';
import type { InboundContent } from '../../channels/channel.js';
import { SandboxChannel } from '../../channels/sandbox/sandbox-channel.js';
import { extensionOf, mediaTypeOf } from '../../media/media-types.js';

const TAG = 'Sandbox';
const ROUTE_NOT_FOUND = 'Route not found';
const TEXT_REQUIRED = 'Text is required.';
const INVALID_PHONE = 'Invalid phone number.';
const INVALID_TEMPLATE_STATUS = 'Invalid template status.';
const INVALID_MESSAGE_STATUS = 'Invalid message status.';
const REPLY_ID_INVALID = 'reply_id must be the id of a button or list row.';
const NOTE = 'Only for accounts on the sandbox channel (others get 404 `Route not found`).';
const MEDIA_INVALID = 'A file needs filename and content_base64, a location latitude and longitude, contacts at least one contact, a reaction message_wa_id and emoji.';
const FILE_TYPE_INVALID = 'filename must end with an extension WhatsApp media can have (see send-media-message).';
const FILE_KINDS = ['image', 'video', 'audio', 'document', 'sticker'] as const;

/** The account's sandbox: these endpoints do not exist for an account on another channel. */
async function sandboxOf(deps: Deps, account: RequestAccount): Promise<SandboxChannel> {
  const channel = account.channel_type === 'sandbox' ? await deps.channels.forAccount(account) : undefined;
  if (!(channel instanceof SandboxChannel)) throw notFound(ROUTE_NOT_FOUND);
  return channel;
}

/** The sandbox of an account, for a customer's valid phone: what both receive endpoints start with. */
async function customerSandbox(deps: Deps, account: RequestAccount, phone: string): Promise<SandboxChannel> {
  const sandbox = await sandboxOf(deps, account);
  if (!isValidPhone(phone)) throw badRequest(INVALID_PHONE);
  return sandbox;
}

/** What both receive endpoints answer, and their refusals besides `messages`. */
const receivedOutput = z.object({ success: z.literal(true), message_wa_id: z.string() });
const receiveErrors = (...messages: string[]) => [
  ...[PHONE_REQUIRED, INVALID_PHONE, ...messages].map((message) => ({ status: 400, message })),
  { status: 404, message: ROUTE_NOT_FOUND },
];

/** The option of the customer's last interactive message with this id: a button (`button_reply`) or a list row (`list_reply`). */
async function optionTapped(deps: Deps, accountId: string, phone: string, id: string) {
  const option = await findInteractiveOption(deps, accountId, phone, id);
  return { kind: option?.kind ?? ('button_reply' as const), id, title: option?.title ?? null };
}

export const sandboxEndpoints = [
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/sandbox/receive-message',
    tag: TAG,
    summary: 'Simulate a customer writing to you',
    description:
      `${NOTE} Stores an inbound text message as WhatsApp would deliver it: an unknown number becomes a customer (with \`name\`), ` +
      'the 24-hour window opens, and a closed or solved conversation is reopened. With `reply_id` the customer taps the reply ' +
      "button or list row of that id in a bot's last interactive message (as the Cloud API's `button_reply` / `list_reply`); " +
      '`text` is then optional (the option\'s title).',
    input: z
      .object({
        customer_phone: phoneParam(PHONE_REQUIRED),
        text: z
          .string({ error: TEXT_REQUIRED })
          .refine((text) => text.trim() !== '', { error: TEXT_REQUIRED })
          .max(MAX_TEXT, { error: TEXT_TOO_LONG })
          .optional(),
        reply_id: z.string({ error: REPLY_ID_INVALID }).min(1, { error: REPLY_ID_INVALID }).max(256, { error: REPLY_ID_INVALID }).optional(),
        name: optionalText(256),
      })
      .refine((input) => input.text !== undefined || input.reply_id !== undefined, { error: TEXT_REQUIRED, path: ['text'] }),
    invalidInput: TEXT_REQUIRED,
    output: receivedOutput,
    example: { request: { customer_phone: '972501234567', text: 'Hi, is my order on its way?', name: 'John Doe' } },
    errors: receiveErrors(TEXT_REQUIRED, REPLY_ID_INVALID),
    handler: async (input, { deps, account }) => {
      const sandbox = await customerSandbox(deps, account, input.customer_phone);
      const reply = input.reply_id === undefined ? undefined : await optionTapped(deps, account.id, input.customer_phone, input.reply_id);
      return { message_wa_id: await sandbox.receive({ from: input.customer_phone, text: input.text ?? null, profileName: input.name ?? null, reply }) };
    },
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/sandbox/receive-media',
    tag: TAG,
    summary: 'Simulate a customer sending a file, a location, contacts or a reaction',
    description:
      `${NOTE} Stores an inbound message as the Cloud API channel does once it has downloaded the file: \`image\`, \`video\`, ` +
      '`audio`, `document` and `sticker` take `filename` (its extension gives the file\'s type) and `content_base64` (at most ' +
      '5 MB here), with an optional `caption`; `location` takes `location`, `contacts` takes `contacts`, `reaction` takes ' +
      '`reaction` (the WhatsApp id of the message reacted to). The customer and the window are handled as for receive-message.',
    input: z
      .object({
        customer_phone: phoneParam(PHONE_REQUIRED),
        name: optionalText(256),
        type: z.enum([...FILE_KINDS, 'location', 'contacts', 'reaction'], { error: MEDIA_INVALID }),
        caption: z.string().max(MAX_TEXT, { error: TEXT_TOO_LONG }).optional(),
        filename: z.string().min(1).max(240).optional(),
        content_base64: z.base64().max(7_000_000).optional(),
        location: z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180), name: z.string().max(256).optional(), address: z.string().max(512).optional() }).optional(),
        contacts: z.array(z.object({ name: z.string().max(256), phones: z.array(z.string().max(32)).max(10) })).min(1).max(10).optional(),
        reaction: z.object({ message_wa_id: z.string().min(1).max(256), emoji: z.string().min(1).max(16) }).optional(),
      })
      .refine(
        (input) =>
          (FILE_KINDS as readonly string[]).includes(input.type) ? input.filename !== undefined && input.content_base64 !== undefined : input[input.type as 'location' | 'contacts' | 'reaction'] !== undefined,
        { error: MEDIA_INVALID },
      ),
    invalidInput: MEDIA_INVALID,
    output: receivedOutput,
    example: { request: { customer_phone: '972501234567', type: 'location', location: { latitude: 32.0853, longitude: 34.7818, name: 'Dizengoff Center' } } },
    errors: receiveErrors(MEDIA_INVALID, FILE_TYPE_INVALID),
    handler: async (input, { deps, account }) => {
      const sandbox = await customerSandbox(deps, account, input.customer_phone);
      let file;
      if (input.filename !== undefined && input.content_base64 !== undefined && (FILE_KINDS as readonly string[]).includes(input.type)) {
        const type = mediaTypeOf(extensionOf(input.filename));
        if (!type) throw badRequest(FILE_TYPE_INVALID);
        file = { content: Buffer.from(input.content_base64, 'base64'), extension: type.extension, mimeType: type.mimeType, filename: input.type === 'document' ? input.filename : null };
      }
      const content: InboundContent | undefined =
        input.type === 'location' ? { location: input.location! } : input.type === 'contacts' ? { contacts: input.contacts!.map((contact) => ({ name: contact.name, phones: contact.phones.map((phone) => ({ phone })) })) } : input.type === 'reaction' ? { reaction: input.reaction! } : undefined;
      const messageWaId = await sandbox.receiveMedia({ from: input.customer_phone, profileName: input.name ?? null, type: input.type, caption: input.caption ?? null, file, content });
      return { message_wa_id: messageWaId };
    },
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/sandbox/set-template-status',
    tag: TAG,
    summary: "Simulate WhatsApp's review of a template",
    description: `${NOTE} Templates wait in PENDING until this (or SANDBOX_AUTO_APPROVE_TEMPLATES) approves them.`,
    input: z.object({
      template_id: idParam(TEMPLATE_ID_REQUIRED),
      status: z.enum(['APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'], { error: INVALID_TEMPLATE_STATUS }),
      reason: optionalText(512),
    }),
    invalidInput: INVALID_TEMPLATE_STATUS,
    output: z.object({ success: z.literal(true), template: templateRecord }),
    example: { request: { template_id: 'template-uuid', status: 'APPROVED' } },
    errors: [
      { status: 400, message: TEMPLATE_ID_REQUIRED },
      { status: 400, message: INVALID_TEMPLATE_STATUS },
      { status: 404, message: 'Template not found' },
      { status: 404, message: ROUTE_NOT_FOUND },
    ],
    handler: async (input, { deps, account }) => {
      const sandbox = await sandboxOf(deps, account);
      const template = await requireTemplate(deps, account.id, input.template_id);
      await sandbox.setTemplateStatus({
        providerTemplateId: template.provider_template_id ?? template.id,
        name: template.name,
        language: template.language,
        status: input.status,
        reason: input.reason ?? null,
      });
      return { template: toTemplateRecord(await requireTemplate(deps, account.id, template.id)) };
    },
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/sandbox/set-message-status',
    tag: TAG,
    summary: 'Simulate a delivery status for a message you sent',
    description:
      `${NOTE} Applied like a status from WhatsApp: it never moves a message backwards, so the reply shows the status the message ` +
      'has now. `failed` takes `error_code` and `error_title`.',
    input: z.object({
      message_wa_id: idParam(WA_ID_REQUIRED),
      status: z.enum(['sent', 'delivered', 'read', 'failed'], { error: INVALID_MESSAGE_STATUS }),
      error_code: z.coerce.number().int().optional(),
      error_title: optionalText(512),
    }),
    invalidInput: INVALID_MESSAGE_STATUS,
    output: z.object({ success: z.literal(true), message: messageRecord }),
    example: { request: { message_wa_id: 'wamid.abc123', status: 'read' } },
    errors: [
      { status: 400, message: WA_ID_REQUIRED },
      { status: 400, message: INVALID_MESSAGE_STATUS },
      { status: 404, message: MESSAGE_NOT_FOUND },
      { status: 404, message: ROUTE_NOT_FOUND },
    ],
    handler: async (input, { deps, account }) => {
      const sandbox = await sandboxOf(deps, account);
      const message = await getMessage(deps, account.id, input.message_wa_id);
      if (message.direction !== 'outbound') throw notFound(MESSAGE_NOT_FOUND);
      const failure = input.status === 'failed' ? { code: input.error_code ?? null, title: input.error_title ?? 'Message failed' } : undefined;
      await sandbox.setMessageStatus({ messageWaId: input.message_wa_id, status: input.status, error: failure });
      return { message: await getMessage(deps, account.id, input.message_wa_id) };
    },
  }),
];
