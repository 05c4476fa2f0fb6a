import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { statusesBefore, type OutboundStatus } from './message-status.js';

/** What the database does with each update: move only from a status that comes before. */
const apply = (current: OutboundStatus, next: OutboundStatus) => (statusesBefore(next).includes(current) ? next : current);

describe('statusesBefore', () => {
  it('ends at the furthest status reached, whatever order sent, delivered and read arrive in', () => {
    const progress = fc.subarray<OutboundStatus>(['sent', 'delivered', 'read'], { minLength: 1 });
    fc.assert(
      fc.property(progress.chain((statuses) => fc.tuple(fc.constant(statuses), fc.shuffledSubarray(statuses, { minLength: statuses.length }))), ([statuses, arrival]) => {
        expect(arrival.reduce(apply, 'pending' as OutboundStatus)).toBe(statuses[statuses.length - 1]);
      }),
    );
  });

  it('never moves backwards, and nothing follows failed or read but nothing', () => {
    const status = fc.constantFrom<OutboundStatus>('pending', 'sent', 'delivered', 'read', 'failed');
    const rank = { pending: 0, sent: 1, delivered: 2, read: 3 } as const;
    fc.assert(
      fc.property(status, status, (current, next) => {
        const result = apply(current, next);
        if (current === 'failed' || current === 'read') expect(result).toBe(current);
        else if (result !== 'failed') expect(rank[result]).toBeGreaterThanOrEqual(rank[current]);
      }),
    );
  });

  it('lets failed end a message that was not read', () => {
    expect(statusesBefore('failed')).toEqual(['pending', 'sent', 'delivered']);
  });
});
