import type { RequestAccount } from '../db/tables.js';
import type { MediaKind } from '../media/media-types.js';

/**
 * The only way the rest of the code talks to WhatsApp. Outbound: the methods of `Channel`. Inbound:
 * a channel hands what WhatsApp tells it (messages, delivery statuses, template reviews) to
 * `ChannelEvents`, the one ingest path (src/modules/messages/ingest.ts), whether it heard it from a
 * webhook (Cloud API) or made it up (sandbox).
 */

export type ChannelType = 'sandbox' | 'cloud_api';

export type TemplateStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'PAUSED' | 'DISABLED';
export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
export type TemplateHeaderFormat = 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'AUDIO';

/** Statuses WhatsApp reports for a message we sent. */
export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

interface Outbound {
  /** Our message id: a channel may hand it to WhatsApp to be echoed back with every status. */
  messageId: number;
  /** The customer's number, international digits; or their WhatsApp user id (BSUID) when no number is known. */
  to: string;
}

export interface TextMessage extends Outbound {
  text: string;
}

/** A file kept in the media store (the channel uploads it), or a public link WhatsApp fetches itself. */
export type MediaSource = { link: string } | { stored: { key: string; mimeType: string } };

export interface MediaMessage extends Outbound {
  kind: MediaKind;
  source: MediaSource;
  caption: string | null;
  /** The name a document is shown with. */
  filename: string | null;
}

export interface TemplateMessage extends Outbound {
  name: string;
  language: string;
  /** The id WhatsApp gave the template when it was submitted. */
  providerTemplateId: string | null;
  /** The body's `{{1}}…{{n}}`, in order. */
  bodyParameters: string[];
  /** The `{{1}}` of each URL button that has one; `index` is the button's position among all buttons. */
  urlButtonParameters: Array<{ index: number; value: string }>;
  /** The media of a media header: the template's own, or the sender's `media_link`. */
  headerMedia: { format: TemplateHeaderFormat; link: string } | null;
}

/** Reply buttons (1–3) or a list (rows in sections): the customer's tap comes back as an inbound `reply`. */
export type InteractiveAction =
  | { buttons: Array<{ id: string; title: string }> }
  | { button: string; sections: Array<{ title?: string; rows: Array<{ id: string; title: string; description?: string }> }> };

export interface InteractiveMessage extends Outbound {
  body: string;
  action: InteractiveAction;
}

export type TemplateButton =
  | { type: 'QUICK_REPLY'; text: string }
  | { type: 'URL'; text: string; url: string; example?: string }
  | { type: 'PHONE_NUMBER'; text: string; phone_number: string };

export interface TemplateDefinition {
  name: string;
  language: string;
  category: TemplateCategory;
  body: string;
  bodyExamples: string[];
  /** A media header and its sample. */
  header: { format: TemplateHeaderFormat; mediaUrl: string } | null;
  footer: string | null;
  buttons: TemplateButton[];
}

export interface SendResult {
  /** WhatsApp's id of the message (`wamid.…`): its statuses refer to it. */
  messageWaId: string;
}

export interface TemplateSubmission {
  providerTemplateId: string;
  status: TemplateStatus;
}

/**
 * What became of a send the channel could not complete at once:
 * - `failed`: refused; the message is failed with `code` and `title`;
 * - `window_closed`: refused because the customer's 24-hour window is closed (WhatsApp's 131047);
 * - `queued`: nothing was sent yet (a rate limit); the channel sends it later from a durable job, so
 *   the message stays `pending` and the send is accepted without a WhatsApp id yet;
 * - `unknown`: the request may have reached WhatsApp (it timed out); it is never sent again blindly.
 *   The message stays `pending` until a status tells (statuses carry our message id), and the
 *   endpoint answers its failure message.
 */
export type ChannelErrorDisposition = 'failed' | 'window_closed' | 'queued' | 'unknown';

/** WhatsApp refused or could not take a request. `code` and `title` are kept on the message. */
export class ChannelError extends Error {
  constructor(
    readonly title: string,
    readonly code: number | null = null,
    readonly disposition: ChannelErrorDisposition = 'failed',
  ) {
    super(title);
    this.name = 'ChannelError';
  }
}

export interface Channel {
  readonly type: ChannelType;
  /** The business's WhatsApp number, international digits: `from` of what we send, `to` of what we receive. */
  readonly phoneNumber: string;
  sendText(message: TextMessage): Promise<SendResult>;
  sendMedia(message: MediaMessage): Promise<SendResult>;
  sendTemplate(message: TemplateMessage): Promise<SendResult>;
  sendInteractive(message: InteractiveMessage): Promise<SendResult>;
  /** Submits a template for WhatsApp's review; its verdict arrives later as a template status update. */
  submitTemplate(template: TemplateDefinition): Promise<TemplateSubmission>;
}

export interface InboundMessage {
  messageWaId: string;
  /** The customer's number; null when WhatsApp withholds it (a person with a username: see `fromUserId`). */
  from: string | null;
  /** The customer's business-scoped user id (BSUID, `US.13491208655302741918`), when WhatsApp gives it. */
  fromUserId?: string | null;
  /** The customer's WhatsApp username, when they have one. */
  username?: string | null;
  /** The business number it was sent to. */
  to: string;
  /** The name the customer gave WhatsApp; names a customer we did not know. */
  profileName: string | null;
  /** text, image, video, audio, document, sticker, location, … */
  type: string;
  /** The text, or a media message's caption. */
  text: string | null;
  /** Media, once kept in the media store. */
  media: { key: string; mimeType: string; filename: string | null } | null;
  /** When the customer sent it. */
  timestamp: Date;
  /** What the message holds beyond its text (kept as `messages.content`, JSON). */
  content?: InboundContent | null;
}

/** A contact card the customer shared. */
export interface SharedContactContent {
  name: string | null;
  phones: Array<{ phone: string | null; wa_id?: string; type?: string }>;
  emails?: string[];
}

export interface OrderItemContent {
  product_retailer_id: string | null;
  quantity: number | null;
  item_price: number | null;
  currency: string | null;
}

/**
 * Structured content of an inbound message, stored as JSON in `messages.content` (read by the inbox).
 * A reaction with an empty `emoji` removes the customer's reaction to that message; a `system`
 * notice of type `user_changed_number` moves the customer to `new_phone`.
 */
export type InboundContent =
  | { contacts: SharedContactContent[] }
  | { order: { catalog_id: string | null; text: string | null; items: OrderItemContent[] } }
  | { location: { latitude: number; longitude: number; name?: string; address?: string } }
  | { reaction: { message_wa_id: string; emoji: string } }
  /** The customer tapped a reply button or a list row of an interactive message. */
  | { reply: { kind: 'button_reply' | 'list_reply'; id: string; title: string | null } }
  | { system: { type: string; new_phone?: string; new_user_id?: string; previous_user_id?: string } };

export interface StatusUpdate {
  messageWaId: string;
  status: DeliveryStatus;
  timestamp: Date;
  /** Our message id when WhatsApp echoed it back: ties a status to a send whose answer was lost. */
  messageId?: number;
  /** Why a message failed. */
  error?: { code: number | null; title: string };
}

export interface TemplateStatusUpdate {
  providerTemplateId: string;
  /** Name and language identify a template whose provider id is not recorded yet. */
  name: string;
  language: string;
  status: TemplateStatus;
  reason: string | null;
}

/** The ingest path every channel reports to. */
export interface ChannelEvents {
  messageReceived(accountId: string, message: InboundMessage): Promise<void>;
  statusChanged(accountId: string, update: StatusUpdate): Promise<void>;
  templateStatusChanged(accountId: string, update: TemplateStatusUpdate): Promise<void>;
}

/** Each account has one channel (accounts.channel_type). */
export interface ChannelRegistry {
  forAccount(account: RequestAccount): Promise<Channel>;
}
