/**
 * Request bodies of the WhatsApp Cloud API (Graph API), built from our own values. Pure functions:
 * every shape here is pinned by payloads.test.ts against the documented Cloud API shapes.
 *
 * - Messages: `POST /{phone-number-id}/messages`.
 * - Template submission: `POST /{waba-id}/message_templates`.
 */

export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';

/** A media object is either a public link (WhatsApp downloads it) or the id of media uploaded first. */
export type MediaSource = { link: string } | { id: string };

/**
 * Echoed by Meta as `biz_opaque_callback_data` in every status webhook of the message. We put our
 * own message id there, so a status can be tied to its message even when the send request's answer
 * (with the wamid) was lost to a timeout. Meta allows up to 512 characters.
 */
export interface SendOptions {
  callbackData?: string;
}

interface Envelope {
  messaging_product: 'whatsapp';
  recipient_type: 'individual';
  /** A phone number… */
  to?: string;
  /** …or a business-scoped user id (BSUID), for a person whose number WhatsApp withholds. */
  recipient?: string;
  type: string;
  biz_opaque_callback_data?: string;
  [key: string]: unknown;
}

const CALLBACK_DATA_MAX = 512;

function envelope(to: string, type: string, options: SendOptions): Envelope {
  const body: Envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', ...(/^\d+$/.test(to) ? { to } : { recipient: to }), type };
  if (options.callbackData !== undefined) {
    if (options.callbackData.length > CALLBACK_DATA_MAX) throw new RangeError('callback data is limited to 512 characters');
    body.biz_opaque_callback_data = options.callbackData;
  }
  return body;
}

/** Links are previewed only when the text has one: WhatsApp shows the first URL's preview. */
export function textMessage(to: string, body: string, options: SendOptions = {}): Envelope {
  return { ...envelope(to, 'text', options), text: { preview_url: /https?:\/\//i.test(body), body } };
}

export interface MediaMessageInput {
  kind: MediaKind;
  source: MediaSource;
  /** Shown under images, videos and documents; WhatsApp has no caption for audio or stickers. */
  caption?: string | null;
  /** Documents only: the file name the recipient sees. */
  filename?: string | null;
}

export function mediaMessage(to: string, input: MediaMessageInput, options: SendOptions = {}): Envelope {
  const media: Record<string, string> = 'link' in input.source ? { link: input.source.link } : { id: input.source.id };
  const captioned = input.kind === 'image' || input.kind === 'video' || input.kind === 'document';
  if (captioned && input.caption) media.caption = input.caption;
  if (input.kind === 'document' && input.filename) media.filename = input.filename;
  return { ...envelope(to, input.kind, options), [input.kind]: media };
}

export type InteractiveInput =
  | { body: string; buttons: Array<{ id: string; title: string }> }
  | { body: string; button: string; sections: Array<{ title?: string; rows: Array<{ id: string; title: string; description?: string }> }> };

/** Reply buttons (`type: button`) or a list (`type: list`); WhatsApp returns the tap as `button_reply` / `list_reply`. */
export function interactiveMessage(to: string, input: InteractiveInput, options: SendOptions = {}): Envelope {
  const action =
    'buttons' in input
      ? { buttons: input.buttons.map(({ id, title }) => ({ type: 'reply', reply: { id, title } })) }
      : { button: input.button, sections: input.sections.map(({ title, rows }) => ({ ...(title && { title }), rows })) };
  return { ...envelope(to, 'interactive', options), interactive: { type: 'buttons' in input ? 'button' : 'list', body: { text: input.body }, action } };
}

export type TemplateHeaderParameter =
  | { type: 'image' | 'video' | 'document'; source: MediaSource; filename?: string | null }
  | { type: 'text'; text: string };

export type TemplateButtonParameter =
  /** The text that replaces the `{{1}}` at the end of a URL button's url. */
  | { subType: 'url'; index: number; text: string }
  /** The payload WhatsApp returns in the `button` webhook when the recipient taps the quick reply. */
  | { subType: 'quick_reply'; index: number; payload: string };

export interface TemplateMessageInput {
  name: string;
  language: string;
  header?: TemplateHeaderParameter | null;
  /** Values for the body's `{{1}}…{{n}}`, in order. */
  body?: string[];
  buttons?: TemplateButtonParameter[];
}

function headerParameter(header: TemplateHeaderParameter): Record<string, unknown> {
  if (header.type === 'text') return { type: 'text', text: header.text };
  const media: Record<string, string> = 'link' in header.source ? { link: header.source.link } : { id: header.source.id };
  if (header.type === 'document' && header.filename) media.filename = header.filename;
  return { type: header.type, [header.type]: media };
}

export function templateMessage(to: string, input: TemplateMessageInput, options: SendOptions = {}): Envelope {
  const components: Record<string, unknown>[] = [];
  if (input.header) components.push({ type: 'header', parameters: [headerParameter(input.header)] });
  if (input.body && input.body.length > 0) {
    components.push({ type: 'body', parameters: input.body.map((text) => ({ type: 'text', text })) });
  }
  for (const button of input.buttons ?? []) {
    components.push({
      type: 'button',
      sub_type: button.subType,
      // The Cloud API takes the button's position as a string ("0".."9").
      index: String(button.index),
      parameters: [button.subType === 'url' ? { type: 'text', text: button.text } : { type: 'payload', payload: button.payload }],
    });
  }
  const template: Record<string, unknown> = { name: input.name, language: { code: input.language } };
  if (components.length > 0) template.components = components;
  return { ...envelope(to, 'template', options), template };
}

export type TemplateHeaderFormat = 'TEXT' | 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'AUDIO';

export type TemplateButtonDefinition =
  | { type: 'URL'; text: string; url: string; example?: string | null }
  | { type: 'QUICK_REPLY'; text: string }
  | { type: 'PHONE_NUMBER'; text: string; phoneNumber: string };

export interface TemplateSubmissionInput {
  name: string;
  language: string;
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
  /** A media header carries the handle returned by the Resumable Upload API as its sample. */
  header?: { format: Exclude<TemplateHeaderFormat, 'TEXT'>; handle: string } | { format: 'TEXT'; text: string } | null;
  body: string;
  /** One example per body variable, in order. */
  bodyExamples?: string[];
  footer?: string | null;
  buttons?: TemplateButtonDefinition[];
}

export function templateSubmission(input: TemplateSubmissionInput): Record<string, unknown> {
  const components: Record<string, unknown>[] = [];
  if (input.header?.format === 'TEXT') components.push({ type: 'HEADER', format: 'TEXT', text: input.header.text });
  else if (input.header) components.push({ type: 'HEADER', format: input.header.format, example: { header_handle: [input.header.handle] } });
  const body: Record<string, unknown> = { type: 'BODY', text: input.body };
  if (input.bodyExamples && input.bodyExamples.length > 0) body.example = { body_text: [input.bodyExamples] };
  components.push(body);
  if (input.footer) components.push({ type: 'FOOTER', text: input.footer });
  if (input.buttons && input.buttons.length > 0) {
    components.push({
      type: 'BUTTONS',
      buttons: input.buttons.map((button) => {
        if (button.type === 'QUICK_REPLY') return { type: 'QUICK_REPLY', text: button.text };
        if (button.type === 'PHONE_NUMBER') return { type: 'PHONE_NUMBER', text: button.text, phone_number: button.phoneNumber };
        return button.example ? { type: 'URL', text: button.text, url: button.url, example: [button.example] } : { type: 'URL', text: button.text, url: button.url };
      }),
    });
  }
  return { name: input.name, language: input.language, category: input.category, components };
}

/** Our media kind for a MIME type, as WhatsApp groups them. */
export function mediaKindForMime(mime: string): Exclude<MediaKind, 'sticker'> {
  const type = mime.toLowerCase();
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  return 'document';
}
