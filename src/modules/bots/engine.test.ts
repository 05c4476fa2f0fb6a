import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Turn, acceptAnswer, chooseOption, compare, isWithinHours, matchesKeyword, parseDate, type CustomerView, type HttpCall, type TurnContext } from './engine.js';
import { parseFlow, type Flow } from './flow.schema.js';

const NOW = new Date('2026-12-06T10:30:00.000Z'); // Sunday 12:30 in Jerusalem

function context(overrides: Omit<Partial<TurnContext>, 'customer'> & { customer?: Partial<CustomerView> } = {}): TurnContext {
  const { customer, ...rest } = overrides;
  return {
    now: NOW,
    customer: { phone: '972501234567', name: 'Dana', email: null, status: 'new', fields: {}, labels: [], ...customer },
    loadFlow: async () => undefined,
    http: async () => {
      throw new Error('no http in this test');
    },
    ai: async () => undefined,
    ...rest,
  };
}

const texts = (actions: Array<{ type: string; text?: string }>) => actions.filter((a) => a.type === 'text' || a.type === 'buttons').map((a) => a.text);

describe('compare', () => {
  it('spells out each operator', () => {
    expect(compare(' Gold ', 'equals', 'gold')).toBe(true);
    expect(compare('10', 'equals', 10)).toBe(true);
    expect(compare('10.0', 'equals', 10)).toBe(true);
    expect(compare('', 'equals', 0)).toBe(false);
    expect(compare('Premium plan', 'contains', 'PLAN')).toBe(true);
    expect(compare('order 1234', 'matches', '^order [0-9]+$')).toBe(true);
    expect(compare('  ', 'exists', undefined)).toBe(false);
    expect(compare(null, 'exists', undefined)).toBe(false);
    expect(compare('x', 'exists', undefined)).toBe(true);
    expect(compare('12', 'greater', 9)).toBe(true);
    expect(compare('abc', 'greater', 9)).toBe(false);
    expect(compare('abc', 'less', 9)).toBe(false);
    expect(compare('', 'less', 9)).toBe(false);
    expect(compare(null, 'equals', 'x')).toBe(false);
  });
});

describe('isWithinHours', () => {
  const office = { time_zone: 'Asia/Jerusalem', days: ['sun', 'mon', 'tue', 'wed', 'thu'], from: '09:00', to: '18:00' };
  it('reads the day and time in the time zone', () => {
    expect(isWithinHours(office, new Date('2026-12-06T10:30:00Z'))).toBe(true); // Sun 12:30
    expect(isWithinHours(office, new Date('2026-12-06T16:00:00Z'))).toBe(false); // Sun 18:00: the end is open
    expect(isWithinHours(office, new Date('2026-12-05T10:30:00Z'))).toBe(false); // Saturday
    expect(isWithinHours(office, new Date('2026-12-06T06:59:00Z'))).toBe(false); // Sun 08:59
  });
  it('spans midnight when from is after to, the small hours belonging to the day before', () => {
    const night = { time_zone: 'UTC', days: ['fri'], from: '22:00', to: '06:00' };
    expect(isWithinHours(night, new Date('2026-12-04T23:00:00Z'))).toBe(true); // Fri 23:00
    expect(isWithinHours(night, new Date('2026-12-05T05:00:00Z'))).toBe(true); // Sat 05:00, Friday's night
    expect(isWithinHours(night, new Date('2026-12-05T23:00:00Z'))).toBe(false); // Sat 23:00
    expect(isWithinHours(night, new Date('2026-12-04T05:00:00Z'))).toBe(false); // Fri 05:00, Thursday's night
  });
});

describe('matchesKeyword', () => {
  it('matches whole words, ignoring case, in any script', () => {
    expect(matchesKeyword('Where is my ORDER?', 'order')).toBe(true);
    expect(matchesKeyword('I want to reorder', 'order')).toBe(false);
    expect(matchesKeyword('מה עם ההזמנה שלי', 'הזמנה')).toBe(false);
    expect(matchesKeyword('הזמנה חדשה בבקשה', 'הזמנה')).toBe(true);
    expect(matchesKeyword('Track my order status please', 'order status')).toBe(true);
    expect(matchesKeyword('order the status', 'order status')).toBe(false);
    expect(matchesKeyword('anything', '!!!')).toBe(false);
  });
  it('finds any word of a text among its words (property)', () => {
    const word = fc.stringMatching(/^[a-zא-ת0-9]{1,10}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), fc.nat(), (words, pick) => {
        const keyword = words[pick % words.length]!;
        expect(matchesKeyword(words.join(' , '), keyword.toUpperCase())).toBe(true);
      }),
    );
  });
});

describe('answers', () => {
  const options = [
    { id: 'track', title: 'Track order' },
    { id: 'human', title: 'Talk to us' },
  ];
  it('chooses an option by tap, title or number', () => {
    expect(chooseOption(options, 'human', '')?.id).toBe('human');
    expect(chooseOption(options, null, '  track ORDER ')?.id).toBe('track');
    expect(chooseOption(options, null, '2')?.id).toBe('human');
    expect(chooseOption(options, null, '3')).toBeUndefined();
    expect(chooseOption(options, null, 'track')).toBeUndefined();
    expect(chooseOption(options, 'stale-id', 'Talk to us')?.id).toBe('human');
  });

  it('accepts answers by kind', () => {
    const ask = (extra: Record<string, unknown>) => parseFlow({ version: 1, start: 'q', nodes: [{ id: 'q', type: 'ask', text: 'Q?', save_to: 'fields.x', ...extra }] }).nodes[0] as never;
    expect(acceptAnswer(ask({ kind: 'email' }), 'Dana@Example.com')).toBe('dana@example.com');
    expect(acceptAnswer(ask({ kind: 'email' }), 'dana@')).toBeUndefined();
    expect(acceptAnswer(ask({ kind: 'phone' }), '+972 50-123-4567')).toBe('972501234567');
    expect(acceptAnswer(ask({ kind: 'phone' }), '12')).toBeUndefined();
    expect(acceptAnswer(ask({ kind: 'number' }), '3,5')).toBe('3.5');
    expect(acceptAnswer(ask({ kind: 'number' }), 'three')).toBeUndefined();
    expect(acceptAnswer(ask({ kind: 'date' }), '31/12/2026')).toBe('2026-12-31');
    expect(acceptAnswer(ask({ pattern: '^#?[0-9]{4,}$' }), '#1234')).toBe('#1234');
    expect(acceptAnswer(ask({ pattern: '^#?[0-9]{4,}$' }), '12')).toBeUndefined();
    expect(acceptAnswer(ask({}), '')).toBeUndefined();
  });

  it('parses every real date written either way, and no impossible one (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1900-01-01'), max: new Date('2199-12-31'), noInvalidDate: true }), (date) => {
        const iso = date.toISOString().slice(0, 10);
        const [y, m, d] = iso.split('-');
        expect(parseDate(iso)).toBe(iso);
        expect(parseDate(`${d}/${m}/${y}`)).toBe(iso);
        expect(parseDate(`${Number(d)}.${Number(m)}.${y}`)).toBe(iso);
      }),
    );
    expect(parseDate('31/02/2026')).toBeUndefined();
    expect(parseDate('2026-13-01')).toBeUndefined();
  });
});

describe('Turn', () => {
  const orderFlow = (): Flow =>
    parseFlow({
      version: 1,
      start: 'q',
      nodes: [
        { id: 'q', type: 'ask', text: 'Order number?', save_to: 'fields.order', kind: 'number', retry_text: 'Digits please', max_retries: 1 },
        { id: 'vip', type: 'condition', field: 'fields.order', operator: 'greater', value: 1000 },
        { id: 'big', type: 'message', text: 'Big order {{fields.order}}' },
        { id: 'small', type: 'message', text: 'Small order {{fields.order}}' },
        { id: 'human', type: 'handoff', status: 'waiting_for_agent' },
      ],
      edges: [
        { from: 'q', to: 'vip' },
        { from: 'q', to: 'human', on: 'max_retries' },
        { from: 'vip', to: 'big', on: 'true' },
        { from: 'vip', to: 'small', on: 'false' },
      ],
    });

  it('asks, retries, then saves the answer and sees it in a later condition of the same turn', async () => {
    const flow = orderFlow();
    const started = await Turn.start(context(), 'bot', flow, 1);
    expect(texts(started.actions)).toEqual(['Order number?']);
    expect(started.session).toMatchObject({ nodeId: 'q', waiting: 'input', retries: 0, deadlineAt: new Date(NOW.getTime() + 1800_000) });
    const retry = await Turn.resume(context(), started.session!, flow, { type: 'message', text: 'soon', replyId: null });
    expect(texts(retry.actions)).toEqual(['Digits please']);
    expect(retry.counts.noMatches).toBe(1);
    const done = await Turn.resume(context(), retry.session!, flow, { type: 'message', text: '1500', replyId: null });
    expect(done.actions).toEqual([{ type: 'set_field', field: 'fields.order', value: '1500' }, { type: 'text', text: 'Big order 1500' }]);
    expect(done.session).toBeNull();
  });

  it('takes the max_retries edge once the retries are used up', async () => {
    const flow = orderFlow();
    const started = await Turn.start(context(), 'bot', flow, 1);
    const retry = await Turn.resume(context(), started.session!, flow, { type: 'message', text: 'x', replyId: null });
    const given = await Turn.resume(context(), retry.session!, flow, { type: 'message', text: 'y', replyId: null });
    expect(given.actions).toEqual([{ type: 'handoff', agent_id: null, team_id: null, status: 'waiting_for_agent' }]);
    expect(given.counts.handoffs).toBe(1);
    expect(given.session).toBeNull();
  });

  it('waits for a timer, ignores messages meanwhile, and follows the timeout edge of a question', async () => {
    const flow = parseFlow({
      version: 1,
      start: 'w',
      nodes: [
        { id: 'w', type: 'wait', seconds: 3600 },
        { id: 'menu', type: 'buttons', text: 'Still there?', buttons: [{ id: 'y', title: 'Yes' }], on_no_match: 'repeat' },
        { id: 'yes', type: 'message', text: 'Great' },
        { id: 'gone', type: 'message', text: 'Bye' },
      ],
      edges: [
        { from: 'w', to: 'menu' },
        { from: 'menu', to: 'yes', on: 'button:y' },
        { from: 'menu', to: 'gone', on: 'timeout' },
      ],
    });
    const waiting = await Turn.start(context(), 'bot', flow, 1);
    expect(waiting.actions).toEqual([]);
    expect(waiting.session).toMatchObject({ waiting: 'timer', deadlineAt: new Date(NOW.getTime() + 3600_000) });
    const ignored = await Turn.resume(context(), waiting.session!, flow, { type: 'message', text: 'hello?', replyId: null });
    expect(ignored).toMatchObject({ actions: [], session: waiting.session });
    const asked = await Turn.resume(context(), waiting.session!, flow, { type: 'timer', reason: 'wait' });
    expect(texts(asked.actions)).toEqual(['Still there?']);
    const repeated = await Turn.resume(context(), asked.session!, flow, { type: 'message', text: 'what?', replyId: null });
    expect(texts(repeated.actions)).toEqual(['Still there?']);
    const timedOut = await Turn.resume(context(), repeated.session!, flow, { type: 'timer', reason: 'timeout' });
    expect(texts(timedOut.actions)).toEqual(['Bye']);
    expect(timedOut.session).toBeNull();
  });

  it('calls http nodes, saving their answer into fields, and takes the error edge when the call fails', async () => {
    const flow = parseFlow({
      version: 1,
      start: 'h',
      nodes: [
        { id: 'h', type: 'http', url: 'https://api.example.com/orders', save: { order_status: 'order.status' } },
        { id: 'ok', type: 'message', text: 'Status: {{fields.order_status}}' },
        { id: 'bad', type: 'message', text: 'Try later' },
      ],
      edges: [
        { from: 'h', to: 'ok', on: 'ok' },
        { from: 'h', to: 'bad', on: 'error' },
      ],
    });
    const calls: HttpCall[] = [];
    const ok = await Turn.start(context({ http: async (call) => (calls.push(call), { order: { status: 'shipped' } }) }), 'bot', flow, 1);
    expect(texts(ok.actions)).toEqual(['Status: shipped']);
    expect(calls[0]).toMatchObject({ method: 'POST', url: 'https://api.example.com/orders', timeoutMs: 10_000, body: { customer: { phone: '972501234567', name: 'Dana' } } });
    const failed = await Turn.start(context(), 'bot', flow, 1);
    expect(texts(failed.actions)).toEqual(['Try later']);
    expect(failed.counts.errors).toBe(1);
  });

  it('goes to another flow, and stops a chain of gotos that never waits', async () => {
    const second = parseFlow({ version: 1, start: 'hi', nodes: [{ id: 'hi', type: 'message', text: 'Second flow' }] });
    const first = parseFlow({ version: 1, start: 'g', nodes: [{ id: 'g', type: 'goto', bot_id: 'second' }] });
    const result = await Turn.start(context({ loadFlow: async (id) => (id === 'second' ? { flow: second, version: 3 } : undefined) }), 'first', first, 1);
    expect(texts(result.actions)).toEqual(['Second flow']);
    const loop = await Turn.start(context({ loadFlow: async () => ({ flow: first, version: 1 }) }), 'first', first, 1);
    expect(loop.session).toBeNull();
    expect(loop.counts.errors).toBe(1);
  });

  it('renders variables from the customer, and labels set in the turn count in its conditions', async () => {
    const flow = parseFlow({
      version: 1,
      start: 'l',
      nodes: [
        { id: 'l', type: 'set_label', label: 'VIP' },
        { id: 'c', type: 'condition', label: 'vip' },
        { id: 'yes', type: 'message', text: 'Hello {{customer.name}} ({{fields.plan}}) {{customer.email}}' },
        { id: 'no', type: 'message', text: 'no' },
      ],
      edges: [
        { from: 'l', to: 'c' },
        { from: 'c', to: 'yes', on: 'true' },
        { from: 'c', to: 'no', on: 'false' },
      ],
    });
    const result = await Turn.start(context({ customer: { fields: { plan: 'gold' } } }), 'bot', flow, 1);
    expect(texts(result.actions)).toEqual(['Hello Dana (gold) ']);
  });
});
