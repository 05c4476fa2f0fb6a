import type { MessageWithPhone } from './messages.repository.js';
import type { MessageRecord } from './messages.schema.js';

/** A message as the Mumble API (get-conversation, get-message) and its webhook events show one. */
export function toMessageRecord(row: MessageWithPhone): MessageRecord {
  const inbound = row.direction === 'inbound';
  return {
    id: row.id,
    message_wa_id: row.message_wa_id,
    direction: inbound ? 'inbound' : 'outbound',
    type: row.type,
    from: inbound ? row.customer_phone : row.business_phone,
    to: inbound ? row.business_phone : row.customer_phone,
    text: row.text,
    is_img: row.type === 'image',
    is_video: row.type === 'video',
    is_audio: row.type === 'audio',
    is_pdf: row.type === 'document' && row.media_mime_type === 'application/pdf',
    is_sticker: row.type === 'sticker',
    is_geo_location: row.type === 'location',
    media_url: row.media_url,
    mime_type: row.media_mime_type,
    filename: row.media_filename,
    timestamp: Math.floor(Date.parse(row.created_at) / 1000),
    status: row.status as MessageRecord['status'],
    error_code: row.error_code,
    error_title: row.error_title,
  };
}
