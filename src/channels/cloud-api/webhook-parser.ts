import type { InboundContent } from '../channel.js';

/**
 * Meta's webhook payload → our normalized events. Pure: no I/O, no clock.
 *
 * A delivery is `{"object":"whatsapp_business_account","entry":[{"id":<WABA id>,"changes":[{"field","value"}]}]}`.
 * - field `messages`: `value.metadata.phone_number_id` names our channel; `value.contacts[]` carry
 *   the senders' profile names (and usernames, user ids); `value.messages[]` are inbound messages;
 *   `value.statuses[]` are status updates of our outbound messages; `value.errors[]` are
 *   system-level errors.
 * - A sender is named by `from` (their phone number) and, since WhatsApp usernames, `from_user_id`
 *   (their business-scoped user id, BSUID); a person with a username may come with the BSUID only.
 * - field `message_template_status_update`: `value.event` is the template's new status.
 * Anything else is reported as ignored, never thrown: one odd change must not lose the others.
 */

export type InboundType =
  | 'text'
  | 'image'
  | 'video'
  | 'audio'
  | 'document'
  | 'sticker'
  | 'location'
  | 'contacts'
  | 'interactive'
  | 'button'
  | 'reaction'
  | 'order'
  | 'system'
  | 'unsupported';

export interface InboundMedia {
  /** Meta's media id: download through `GET /{media-id}` with the channel's token. */
  id: string;
  mimeType: string | null;
  sha256: string | null;
  caption: string | null;
  filename: string | null;
  /** Audio recorded as a voice note. */
  voice: boolean;
  /** Animated sticker. */
  animated: boolean;
}

export interface InboundLocation {
  latitude: number;
  longitude: number;
  name: string | null;
  address: string | null;
  url: string | null;
}

export interface SharedContact {
  name: string | null;
  phones: { phone: string | null; waId: string | null; type: string | null }[];
  emails: string[];
}

/** One line of an order sent from a catalog. */
export interface OrderItem {
  productRetailerId: string | null;
  quantity: number | null;
  itemPrice: number | null;
  currency: string | null;
}

export interface InboundOrder {
  catalogId: string | null;
  text: string | null;
  items: OrderItem[];
}

/**
 * A notice from WhatsApp about the sender: `user_changed_number` (the new number in `wa_id`, or
 * `new_wa_id` in older versions), `user_changed_user_id` (a new business-scoped user id), …
 */
export interface SystemNotice {
  type: string | null;
  body: string | null;
  /** The sender's new number (digits). */
  newWaId: string | null;
  /** The sender's new and previous business-scoped user ids. */
  userId: string | null;
  previousUserId: string | null;
}

/** Click-to-WhatsApp ad data, kept as the customer's attribution. */
export interface Referral {
  source_url: string | null;
  source_id: string | null;
  source_type: string | null;
  headline: string | null;
  body: string | null;
  media_type: string | null;
  image_url: string | null;
  video_url: string | null;
  thumbnail_url: string | null;
  ctwa_clid: string | null;
}

export interface InboundMessage {
  wamid: string;
  /** The customer's WhatsApp number (digits); null when WhatsApp withholds it (a username, see `userId`). */
  from: string | null;
  /** The customer's business-scoped user id (BSUID, e.g. `US.13491208655302741918`): `from_user_id`, or their `contacts[].user_id`. */
  userId: string | null;
  /** The customer's WhatsApp profile name, from `contacts[]`. */
  profileName: string | null;
  /** The customer's WhatsApp username, from `contacts[].profile.username`. */
  username: string | null;
  /** Unix seconds, as Meta sent it. */
  timestamp: number;
  type: InboundType;
  /** Meta's own type name (`text`, `interactive`, `unknown`, …). */
  metaType: string;
  /** The words a person would read: the body, caption, chosen reply, emoji, place or contact names. */
  text: string | null;
  media: InboundMedia | null;
  location: InboundLocation | null;
  contacts: SharedContact[] | null;
  /** Reply to an interactive message: the chosen button or list row. */
  reply: { kind: 'button_reply' | 'list_reply'; id: string | null; title: string | null; description: string | null } | null;
  /** Tap on a template's quick-reply button. */
  button: { text: string | null; payload: string | null } | null;
  reaction: { messageId: string | null; emoji: string | null } | null;
  order: InboundOrder | null;
  system: SystemNotice | null;
  referral: Referral | null;
  /** The message this one replies to or quotes. */
  context: { from: string | null; id: string | null; forwarded: boolean } | null;
  errors: WebhookError[];
}

export interface WebhookError {
  code: number | null;
  title: string | null;
  message: string | null;
  details: string | null;
}

export type OutboundStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface StatusUpdate {
  wamid: string;
  status: OutboundStatus;
  timestamp: number;
  recipientId: string | null;
  /** What we sent as biz_opaque_callback_data: ties the status to our message without its wamid. */
  callbackData: string | null;
  errors: WebhookError[];
}

export interface TemplateStatusUpdate {
  templateId: string;
  name: string | null;
  language: string | null;
  event: string;
  reason: string | null;
}

export type WebhookEvent =
  | { kind: 'message'; wabaId: string | null; phoneNumberId: string; displayPhoneNumber: string | null; message: InboundMessage }
  | { kind: 'status'; wabaId: string | null; phoneNumberId: string; status: StatusUpdate }
  | { kind: 'template_status'; wabaId: string | null; update: TemplateStatusUpdate }
  | { kind: 'error'; wabaId: string | null; phoneNumberId: string | null; errors: WebhookError[] };

export interface ParsedWebhook {
  events: WebhookEvent[];
  /** Parts that were skipped, and why (logged, never fatal). */
  ignored: string[];
}

type Obj = Record<string, unknown>;

const isObj = (value: unknown): value is Obj => !!value && typeof value === 'object' && !Array.isArray(value);
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null);
const num = (value: unknown): number | null => {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
};

function parseErrors(value: unknown): WebhookError[] {
  return arr(value)
    .filter(isObj)
    .map((e) => ({
      code: num(e.code),
      title: str(e.title),
      message: str(e.message),
      details: isObj(e.error_data) ? str(e.error_data.details) : null,
    }));
}

function parseMedia(value: unknown): InboundMedia | null {
  if (!isObj(value) || !str(value.id)) return null;
  return {
    id: str(value.id) as string,
    mimeType: str(value.mime_type),
    sha256: str(value.sha256),
    caption: str(value.caption),
    filename: str(value.filename),
    voice: value.voice === true,
    animated: value.animated === true,
  };
}

function parseReferral(value: unknown): Referral | null {
  if (!isObj(value)) return null;
  const keys = ['source_url', 'source_id', 'source_type', 'headline', 'body', 'media_type', 'image_url', 'video_url', 'thumbnail_url', 'ctwa_clid'] as const;
  const referral = Object.fromEntries(keys.map((key) => [key, str(value[key])])) as unknown as Referral;
  return keys.some((key) => referral[key] !== null) ? referral : null;
}

function parseContacts(value: unknown): SharedContact[] {
  return arr(value)
    .filter(isObj)
    .map((c) => {
      const name = isObj(c.name) ? (str(c.name.formatted_name) ?? ([str(c.name.first_name), str(c.name.last_name)].filter(Boolean).join(' ') || null)) : null;
      return {
        name,
        phones: arr(c.phones)
          .filter(isObj)
          .map((p) => ({ phone: str(p.phone), waId: str(p.wa_id), type: str(p.type) })),
        emails: arr(c.emails)
          .filter(isObj)
          .map((e) => str(e.email))
          .filter((e): e is string => e !== null),
      };
    });
}

function parseOrder(value: unknown): InboundOrder | null {
  if (!isObj(value)) return null;
  return {
    catalogId: str(value.catalog_id),
    text: str(value.text),
    items: arr(value.product_items)
      .filter(isObj)
      .map((item) => ({ productRetailerId: str(item.product_retailer_id), quantity: num(item.quantity), itemPrice: num(item.item_price), currency: str(item.currency) })),
  };
}

/** An order's words: its text, else its lines (`2 × SKU-1, 1 × SKU-2`). */
function orderText(order: InboundOrder): string | null {
  if (order.text) return order.text;
  return order.items.map((item) => `${item.quantity ?? 1} × ${item.productRetailerId ?? '?'}`).join(', ') || null;
}

function parseSystem(value: unknown): SystemNotice | null {
  if (!isObj(value)) return null;
  const digits = (id: string | null) => id?.replace(/\D+/g, '') || null;
  return {
    type: str(value.type),
    body: str(value.body),
    newWaId: digits(str(value.wa_id) ?? str(value.new_wa_id)),
    userId: str(value.user_id),
    previousUserId: str(value.previous_user_id),
  };
}

/** What `contacts[]` says of a sender: their profile name, username and user id. */
interface SenderProfile {
  name: string | null;
  username: string | null;
  userId: string | null;
}

const KNOWN_TYPES = new Set<InboundType>(['text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'interactive', 'button', 'reaction', 'order', 'system']);

function parseMessage(m: Obj, profiles: Map<string, SenderProfile>, onlyContact: SenderProfile | null): InboundMessage | string {
  const wamid = str(m.id);
  const rawFrom = str(m.from);
  const fromUserId = str(m.from_user_id);
  if (!wamid) return 'message without id';
  // A sender with a username may come without a number: their user id (or the change's only contact) names them.
  const profile = (rawFrom ? profiles.get(rawFrom) : undefined) ?? (fromUserId ? profiles.get(fromUserId) : undefined) ?? onlyContact;
  const from = rawFrom?.replace(/\D+/g, '') || null;
  const userId = fromUserId ?? profile?.userId ?? null;
  if (!from && !userId) return `message ${wamid} without sender`;
  const metaType = str(m.type) ?? 'unknown';
  const type: InboundType = KNOWN_TYPES.has(metaType as InboundType) ? (metaType as InboundType) : 'unsupported';
  const message: InboundMessage = {
    wamid,
    from,
    userId,
    profileName: profile?.name ?? null,
    username: profile?.username ?? null,
    timestamp: num(m.timestamp) ?? 0,
    type,
    metaType,
    text: null,
    media: null,
    location: null,
    contacts: null,
    reply: null,
    button: null,
    reaction: null,
    order: null,
    system: null,
    referral: parseReferral(m.referral),
    context: isObj(m.context)
      ? { from: str(m.context.from), id: str(m.context.id), forwarded: m.context.forwarded === true || m.context.frequently_forwarded === true }
      : null,
    errors: parseErrors(m.errors),
  };
  const body = m[metaType];
  switch (type) {
    case 'text':
      message.text = isObj(body) ? str(body.body) : null;
      break;
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      message.media = parseMedia(body);
      message.text = message.media?.caption ?? null;
      break;
    case 'location':
      if (isObj(body)) {
        const latitude = num(body.latitude);
        const longitude = num(body.longitude);
        if (latitude !== null && longitude !== null) {
          message.location = { latitude, longitude, name: str(body.name), address: str(body.address), url: str(body.url) };
          message.text = [message.location.name, message.location.address].filter(Boolean).join(', ') || `${latitude},${longitude}`;
        }
      }
      break;
    case 'contacts':
      message.contacts = parseContacts(m.contacts);
      message.text = message.contacts.map((c) => c.name ?? c.phones[0]?.phone ?? '').filter(Boolean).join(', ') || null;
      break;
    case 'interactive':
      if (isObj(body)) {
        const kind = str(body.type);
        const chosen = kind === 'button_reply' || kind === 'list_reply' ? body[kind] : null;
        if (isObj(chosen)) {
          message.reply = { kind: kind as 'button_reply' | 'list_reply', id: str(chosen.id), title: str(chosen.title), description: str(chosen.description) };
          message.text = message.reply.title;
        } else if (kind === 'nfm_reply' && isObj(body.nfm_reply)) {
          // A WhatsApp Flow's answer: keep its body (or JSON) as the text.
          message.text = str(body.nfm_reply.body) ?? str(body.nfm_reply.response_json);
        }
      }
      break;
    case 'button':
      if (isObj(body)) {
        message.button = { text: str(body.text), payload: str(body.payload) };
        message.text = message.button.text ?? message.button.payload;
      }
      break;
    case 'reaction':
      if (isObj(body)) {
        // An empty emoji removes the reaction.
        message.reaction = { messageId: str(body.message_id), emoji: typeof body.emoji === 'string' ? body.emoji : null };
        message.text = message.reaction.emoji || null;
      }
      break;
    case 'system':
      message.system = parseSystem(body);
      message.text = message.system?.body ?? null;
      break;
    case 'order':
      message.order = parseOrder(body);
      message.text = message.order && orderText(message.order);
      break;
    default:
      message.text = message.errors[0] ? (message.errors[0].details ?? message.errors[0].title) : null;
  }
  return message;
}

/** What a message holds beyond its text, as the ingest path stores it (`messages.content`); null for plain messages. */
export function contentOf(message: InboundMessage): InboundContent | null {
  const { contacts, order, location, reaction, system } = message;
  if (message.type === 'contacts' && contacts) {
    return {
      contacts: contacts.map((contact) => ({
        name: contact.name,
        phones: contact.phones.map(({ phone, waId, type }) => ({ phone, ...(waId && { wa_id: waId }), ...(type && { type }) })),
        ...(contact.emails.length > 0 && { emails: contact.emails }),
      })),
    };
  }
  if (message.type === 'order' && order) {
    const items = order.items.map((item) => ({ product_retailer_id: item.productRetailerId, quantity: item.quantity, item_price: item.itemPrice, currency: item.currency }));
    return { order: { catalog_id: order.catalogId, text: order.text, items } };
  }
  if (message.type === 'location' && location) {
    const { latitude, longitude, name, address } = location;
    return { location: { latitude, longitude, ...(name && { name }), ...(address && { address }) } };
  }
  if (message.type === 'interactive' && message.reply?.id) return { reply: { kind: message.reply.kind, id: message.reply.id, title: message.reply.title } };
  if (message.type === 'reaction' && reaction?.messageId) return { reaction: { message_wa_id: reaction.messageId, emoji: reaction.emoji ?? '' } };
  if (message.type === 'system' && system?.type) {
    const { type, newWaId, userId, previousUserId } = system;
    return { system: { type, ...(newWaId && { new_phone: newWaId }), ...(userId && { new_user_id: userId }), ...(previousUserId && { previous_user_id: previousUserId }) } };
  }
  return null;
}

function parseStatus(s: Obj): StatusUpdate | string {
  const wamid = str(s.id);
  const status = str(s.status);
  if (!wamid) return 'status without id';
  if (status !== 'sent' && status !== 'delivered' && status !== 'read' && status !== 'failed') return `status ${status ?? '(none)'} of ${wamid} is not tracked`;
  return {
    wamid,
    status,
    timestamp: num(s.timestamp) ?? 0,
    recipientId: str(s.recipient_id),
    callbackData: str(s.biz_opaque_callback_data),
    errors: parseErrors(s.errors),
  };
}

export function parseWebhook(payload: unknown): ParsedWebhook {
  const events: WebhookEvent[] = [];
  const ignored: string[] = [];
  if (!isObj(payload)) return { events, ignored: ['payload is not an object'] };
  if (payload.object !== 'whatsapp_business_account') ignored.push(`object ${String(payload.object)} is not whatsapp_business_account`);
  for (const entry of arr(payload.entry)) {
    if (!isObj(entry)) continue;
    const wabaId = str(entry.id);
    for (const change of arr(entry.changes)) {
      if (!isObj(change) || !isObj(change.value)) continue;
      const value = change.value;
      const field = str(change.field) ?? 'messages';
      if (field === 'message_template_status_update') {
        const templateId = str(value.message_template_id);
        const event = str(value.event);
        if (!templateId || !event) {
          ignored.push('template status update without template id or event');
          continue;
        }
        events.push({
          kind: 'template_status',
          wabaId,
          update: { templateId, name: str(value.message_template_name), language: str(value.message_template_language), event, reason: str(value.reason) },
        });
        continue;
      }
      if (field !== 'messages') {
        ignored.push(`field ${field} is not handled`);
        continue;
      }
      const metadata = isObj(value.metadata) ? value.metadata : {};
      const phoneNumberId = str(metadata.phone_number_id);
      const displayPhoneNumber = str(metadata.display_phone_number);
      if (!phoneNumberId) {
        ignored.push('messages change without metadata.phone_number_id');
        continue;
      }
      // Senders' profiles, by number and by user id.
      const profiles = new Map<string, SenderProfile>();
      const contacts = arr(value.contacts)
        .filter(isObj)
        .map((contact) => {
          const profile = isObj(contact.profile) ? contact.profile : {};
          return { waId: str(contact.wa_id), userId: str(contact.user_id), name: str(profile.name), username: str(profile.username) };
        });
      for (const contact of contacts) {
        for (const id of [contact.waId, contact.userId]) if (id) profiles.set(id, contact);
      }
      const onlyContact = contacts.length === 1 ? contacts[0] : null;
      for (const raw of arr(value.messages)) {
        if (!isObj(raw)) continue;
        const message = parseMessage(raw, profiles, onlyContact);
        if (typeof message === 'string') ignored.push(message);
        else events.push({ kind: 'message', wabaId, phoneNumberId, displayPhoneNumber, message });
      }
      for (const raw of arr(value.statuses)) {
        if (!isObj(raw)) continue;
        const status = parseStatus(raw);
        if (typeof status === 'string') ignored.push(status);
        else events.push({ kind: 'status', wabaId, phoneNumberId, status });
      }
      const errors = parseErrors(value.errors);
      if (errors.length > 0) events.push({ kind: 'error', wabaId, phoneNumberId, errors });
    }
  }
  return { events, ignored };
}

/** The phone number ids a delivery is for (to route it before parsing it all). */
export function phoneNumberIdsOf(parsed: ParsedWebhook): string[] {
  const ids = new Set<string>();
  for (const event of parsed.events) if ('phoneNumberId' in event && event.phoneNumberId) ids.add(event.phoneNumberId);
  return [...ids];
}
