import { describe, expect, it } from 'vitest';
import { isConversationOpen } from './conversation-window.js';

describe('isConversationOpen', () => {
  const wrote = { last_inbound_at: '2026-06-01T12:00:00.000Z' };
  const at = (iso: string) => new Date(iso);

  it('is open for less than 24 hours after the customer last wrote', () => {
    expect(isConversationOpen(wrote, at('2026-06-01T12:00:00.000Z'))).toBe(true);
    expect(isConversationOpen(wrote, at('2026-06-02T11:59:59.999Z'))).toBe(true);
  });

  it('is closed from the 24th hour on', () => {
    expect(isConversationOpen(wrote, at('2026-06-02T12:00:00.000Z'))).toBe(false);
    expect(isConversationOpen(wrote, at('2026-07-01T00:00:00.000Z'))).toBe(false);
  });

  it('is closed for a customer who never wrote', () => {
    expect(isConversationOpen({ last_inbound_at: null }, at('2026-06-01T12:00:00.000Z'))).toBe(false);
  });
});
