import type { CustomerRow, MessageRow } from '../../db/tables.js';
import { toInboxMessage, type MessageWithSender } from '../inbox/inbox-records.js';
import type { LiveEventDraft } from '../live/live-events.js';

/**
 * The inbox's live events about messages (docs/inbox.md, "Live events"), built from rows the caller
 * holds. `customer` is the conversation's assignment as it stands in the caller's transaction.
 */

type Assignment = Pick<CustomerRow, 'id' | 'agent_id' | 'team_id'>;

/** `message.created`: the message as the inbox shows it (inbound, or outbound from anyone). */
export function messageCreated(customer: Assignment, row: MessageWithSender): LiveEventDraft {
  return { type: 'message.created', customer, data: { customer_id: customer.id, message: toInboxMessage(row) } };
}

/** `message.status`: an outbound message's delivery status moved (or it failed, or is held back with a reason). */
export function messageStatusChanged(customer: Assignment, row: Pick<MessageRow, 'id' | 'message_wa_id' | 'status' | 'error_code' | 'error_title'>): LiveEventDraft {
  return {
    type: 'message.status',
    customer,
    data: {
      customer_id: customer.id,
      message_id: Number(row.id),
      message_wa_id: row.message_wa_id,
      status: row.status,
      error: row.error_title === null ? null : { code: row.error_code, title: row.error_title },
    },
  };
}
