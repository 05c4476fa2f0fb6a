import type { MessageRow, NoteRow } from '../../db/tables.js';

/**
 * What the inbox API and its live events show of messages and notes. Times are ISO 8601 (UTC, with
 * milliseconds), ids as the API knows them; media the browser opens through /app/api/media/:id.
 */

export type Sender = { type: 'agent'; id: string | null; name: string | null } | { type: 'bot' } | { type: 'api' } | { type: 'campaign' };

export interface InboxMessage {
  kind: 'message';
  id: number;
  customer_id: string;
  message_wa_id: string | null;
  direction: 'inbound' | 'outbound';
  type: string;
  text: string | null;
  status: string;
  error: { code: number | null; title: string } | null;
  /** Who sent an outbound message; null for inbound. */
  sender: Sender | null;
  /** A file: `url` is an /app/api route (stored files) or the link WhatsApp was given. */
  media: { url: string; mime_type: string | null; filename: string | null } | null;
  /** Shared contacts, order items, a location, a reaction's target (see docs/inbox.md). */
  content: Record<string, unknown> | null;
  created_at: string;
}

export interface InboxNote {
  kind: 'note';
  id: string;
  customer_id: string;
  text: string;
  author: { id: string; name: string | null } | null;
  created_at: string;
}

export type TimelineItem = InboxMessage | InboxNote;

export const MEDIA_ROUTE = '/app/api/media';

/** A message row, with the name of the person who sent it when it was one (a join, or known by the caller). */
export type MessageWithSender = MessageRow & { sender_name?: string | null };

function senderOf(row: MessageWithSender): Sender | null {
  if (row.direction === 'inbound') return null;
  switch (row.sender_type) {
    case 'agent':
      return { type: 'agent', id: row.sender_agent_id, name: row.sender_name ?? null };
    case 'bot':
      return { type: 'bot' };
    case 'campaign':
      return { type: 'campaign' };
    default:
      return { type: 'api' };
  }
}

function mediaOf(row: MessageRow): InboxMessage['media'] {
  if (row.media_key) return { url: `${MEDIA_ROUTE}/${row.id}`, mime_type: row.media_mime_type, filename: row.media_filename };
  if (row.media_url) return { url: row.media_url, mime_type: row.media_mime_type, filename: row.media_filename };
  return null;
}

function parsedContent(content: string | null): Record<string, unknown> | null {
  if (content === null) return null;
  try {
    const value: unknown = JSON.parse(content);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function toInboxMessage(row: MessageWithSender): InboxMessage {
  return {
    kind: 'message',
    id: Number(row.id),
    customer_id: row.customer_id,
    message_wa_id: row.message_wa_id,
    direction: row.direction === 'inbound' ? 'inbound' : 'outbound',
    type: row.type,
    text: row.text,
    status: row.status,
    error: row.error_title === null ? null : { code: row.error_code, title: row.error_title },
    sender: senderOf(row),
    media: mediaOf(row),
    content: parsedContent(row.content),
    created_at: row.created_at,
  };
}

export function toInboxNote(row: NoteRow & { author_name?: string | null }): InboxNote {
  const author = row.agent_id === null ? null : { id: row.agent_id, name: row.author_name ?? null };
  return { kind: 'note', id: row.id, customer_id: row.customer_id, text: row.text, author, created_at: row.created_at };
}
