/** Statuses of the messages we send: `pending` until WhatsApp confirms (inbound messages are `received`). */
export type OutboundStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

const PROGRESS: readonly OutboundStatus[] = ['pending', 'sent', 'delivered', 'read'];

/**
 * The statuses a message may be in for `next` to replace it: statuses never move backwards. Along
 * pending → sent → delivered → read only forward steps count; `failed` ends a message that has not
 * been read, and nothing follows it (a late `sent` after a failure is as stale as a late `delivered`
 * after `read`).
 */
export function statusesBefore(next: OutboundStatus): OutboundStatus[] {
  if (next === 'failed') return ['pending', 'sent', 'delivered'];
  return PROGRESS.slice(0, PROGRESS.indexOf(next));
}
