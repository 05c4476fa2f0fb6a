import type { CustomerRow } from '../../db/tables.js';

/** WhatsApp's customer service window: free-form messages for 24 hours after the customer's last message. */
const CONVERSATION_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Open while less than 24 hours have passed since the customer last wrote (a template does not open it). */
export function isConversationOpen(customer: Pick<CustomerRow, 'last_inbound_at'>, now: Date): boolean {
  return customer.last_inbound_at !== null && now.getTime() - Date.parse(customer.last_inbound_at) < CONVERSATION_WINDOW_MS;
}

/** When the window closes (or closed): 24 hours after the customer last wrote; null when they never did. */
export function windowClosesAt(customer: Pick<CustomerRow, 'last_inbound_at'>): string | null {
  return customer.last_inbound_at === null ? null : new Date(Date.parse(customer.last_inbound_at) + CONVERSATION_WINDOW_MS).toISOString();
}
