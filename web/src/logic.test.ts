import { describe, expect, it } from 'vitest';
import { OFFERED_STATUSES, STATUSES, customFieldText, customFieldValue, dayLabel, layoutFlow, fillTemplate, groupByDay, renderCanned, slashQuery, statusName, statusOptions, templateDefaults, windowClock } from './logic';

const customer = { name: 'Dana Cohen', phone: '972501234567', email: null, custom_fields: { order: 'A-77', vip: true } };

describe('status names', () => {
  it('names the 14 statuses of the reference table in English, in its order', () => {
    expect(OFFERED_STATUSES.map((status) => statusName(status))).toEqual([
      'New', 'Open', 'Closed', 'Waiting', 'Waiting for Agent', 'Reopened', 'Solved', 'In Progress', 'In Process', 'Spam',
      'Being Handled', 'Not Relevant', 'Appointment Scheduled', 'Pending Customer',
    ]);
  });

  it('names every status in Hebrew too, and offers the current one when it is not of the 14', () => {
    for (const status of STATUSES) expect(statusName(status, 'he')).toMatch(/[\u0590-\u05FF]/);
    expect(statusOptions('open')).toEqual(OFFERED_STATUSES);
    expect(statusOptions('escalated')).toEqual([...OFFERED_STATUSES, 'escalated']);
  });
});

describe('the 24-hour window clock', () => {
  const now = Date.parse('2026-06-01T12:00:00.000Z');

  it('counts hours and minutes left, and warns in the last hour', () => {
    expect(windowClock('2026-06-02T11:59:00.000Z', now)).toEqual({ open: true, leftMs: 86_340_000, label: '23h 59m', closingSoon: false });
    expect(windowClock('2026-06-01T12:45:30.000Z', now)).toMatchObject({ open: true, label: '45m', closingSoon: true });
    expect(windowClock('2026-06-01T12:00:20.000Z', now)).toMatchObject({ open: true, label: '<1m' });
  });

  it('is closed at its end, and when the customer never wrote', () => {
    expect(windowClock('2026-06-01T12:00:00.000Z', now)).toEqual({ open: false, leftMs: 0, label: '', closingSoon: false });
    expect(windowClock(null, now).open).toBe(false);
  });
});

describe('days of a timeline', () => {
  it('groups items by calendar day in the time zone given', () => {
    const items = [
      { id: 1, created_at: '2026-06-01T20:30:00.000Z' },
      // 23:30 UTC is already the 2nd in Jerusalem (UTC+3).
      { id: 2, created_at: '2026-06-01T23:30:00.000Z' },
      { id: 3, created_at: '2026-06-02T08:00:00.000Z' },
    ];
    expect(groupByDay(items, 'UTC').map((group) => [group.day, group.items.map((item) => item.id)])).toEqual([
      ['2026-06-01', [1, 2]],
      ['2026-06-02', [3]],
    ]);
    expect(groupByDay(items, 'Asia/Jerusalem').map((group) => [group.day, group.items.map((item) => item.id)])).toEqual([
      ['2026-06-01', [1]],
      ['2026-06-02', [2, 3]],
    ]);
  });

  it('says Today and Yesterday, else the date, in the UI language', () => {
    const now = Date.parse('2026-06-02T10:00:00.000Z');
    expect(dayLabel('2026-06-02', now, 'en', 'UTC')).toBe('Today');
    expect(dayLabel('2026-06-01', now, 'he', 'UTC')).toBe('אתמול');
    expect(dayLabel('2026-05-20', now, 'en', 'UTC')).toBe('20 May 2026');
  });
});

describe('canned responses and templates', () => {
  it('fills variables from the customer and names the ones without a value, as the server does', () => {
    expect(renderCanned('Hi {{ customer.name }}, order {{fields.order}} ({{fields.vip}}) to {{customer.email}}', customer)).toEqual({
      text: 'Hi Dana Cohen, order A-77 (true) to ',
      missing: ['customer.email'],
    });
  });

  it('opens the canned responses on a /shortcut at the start of the composer only', () => {
    expect(slashQuery('/')).toBe('');
    expect(slashQuery('/Ship')).toBe('ship');
    expect(slashQuery('/משלוח')).toBe('משלוח');
    expect(slashQuery('see /ship')).toBeUndefined();
    expect(slashQuery('/ship now')).toBeUndefined();
  });

  it("pre-fills a template's variables and previews it", () => {
    expect(templateDefaults(2, customer)).toEqual(['Dana Cohen', '']);
    expect(templateDefaults(1, { ...customer, custom_fields: { 1: 'Dana' } })).toEqual(['Dana']);
    expect(fillTemplate('Hi {{1}}, order {{2}}', ['Dana', ''])).toBe('Hi Dana, order {{2}}');
  });
});

describe('layoutFlow', () => {
  it('puts nodes in columns by their distance from start, and unreachable ones last', () => {
    const layout = layoutFlow({
      start: 'greet',
      nodes: [{ id: 'greet', type: 'message' }, { id: 'menu', type: 'buttons' }, { id: 'a', type: 'end' }, { id: 'b', type: 'handoff' }, { id: 'lost', type: 'end' }, { nope: 1 }],
      edges: [{ from: 'greet', to: 'menu' }, { from: 'menu', to: 'a', on: 'button:a' }, { from: 'menu', to: 'b', on: 'no_match' }, { from: 'b', to: 'greet' }, { from: 'x', to: 'a' }],
    });
    expect(layout.nodes.map(({ id, depth, row, reachable }) => [id, depth, row, reachable])).toEqual([
      ['greet', 0, 0, true],
      ['menu', 1, 0, true],
      ['a', 2, 0, true],
      ['b', 2, 1, true],
      ['lost', 3, 0, false],
    ]);
    expect(layout.edges).toHaveLength(4);
    expect(layout).toMatchObject({ columns: 4, rows: 2 });
  });

  it('draws nothing for what is not a flow yet', () => {
    expect(layoutFlow(null)).toEqual({ nodes: [], edges: [], columns: 0, rows: 0 });
    expect(layoutFlow({ nodes: 'x' }).nodes).toEqual([]);
  });
});

describe('custom field values', () => {
  it('keeps numbers and booleans when the text still reads as one', () => {
    expect(customFieldValue('4', 3)).toBe(4);
    expect(customFieldValue('four', 3)).toBe('four');
    expect(customFieldValue('false', true)).toBe(false);
    expect(customFieldValue('42', undefined)).toBe('42');
    expect(customFieldText(null)).toBe('');
  });
});
