import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FlowError, parseFlow } from './flow.schema.js';

const examplesDir = new URL('../../../examples/flows/', import.meta.url);

/** A small valid flow to break one thing at a time. */
function flow(overrides: Record<string, unknown> = {}) {
  return {
    version: 1,
    start: 'menu',
    nodes: [
      { id: 'menu', type: 'buttons', text: 'Choose', buttons: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] },
      { id: 'done', type: 'end' },
      { id: 'other', type: 'message', text: 'Other' },
    ],
    edges: [
      { from: 'menu', to: 'done', on: 'button:a' },
      { from: 'menu', to: 'done', on: 'button:b' },
      { from: 'menu', to: 'other', on: 'no_match' },
    ],
    ...overrides,
  };
}

function refusal(raw: unknown): string {
  try {
    parseFlow(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(FlowError);
    return (error as Error).message;
  }
  throw new Error('the flow was accepted');
}

describe('parseFlow', () => {
  it('accepts a valid flow and fills the defaults', () => {
    const parsed = parseFlow(flow());
    expect(parsed.timeout_seconds).toBe(1800);
    expect(parsed.triggers).toEqual([]);
  });

  it('accepts every example flow in examples/flows', () => {
    const files = readdirSync(examplesDir).filter((name) => name.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) expect(() => parseFlow(JSON.parse(readFileSync(new URL(file, examplesDir), 'utf8'))), file).not.toThrow();
  });

  it('names the node and the problem', () => {
    const fourButtons = [1, 2, 3, 4].map((n) => ({ id: `b${n}`, title: `B${n}` }));
    expect(refusal(flow({ nodes: [{ id: 'menu', type: 'buttons', text: 'Choose', buttons: fourButtons }, { id: 'done', type: 'end' }] }))).toBe(
      'node "menu": buttons: a buttons node has 1 to 3 buttons',
    );
    expect(refusal(flow({ edges: [{ from: 'menu', to: 'nowhere', on: 'button:a' }] }))).toBe('node "menu": its edge goes to "nowhere", which is no node');
    expect(refusal(flow({ edges: [{ from: 'menu', to: 'done', on: 'button:a' }, { from: 'menu', to: 'done', on: 'button:b' }] }))).toBe(
      'node "menu": typed text can arrive here: add a "no_match" edge, or "on_no_match": "repeat" to ask again',
    );
    expect(refusal(flow({ edges: [{ from: 'menu', to: 'done', on: 'button:a' }, { from: 'menu', to: 'other', on: 'no_match' }] }))).toBe('node "menu": no edge for "button:b"');
    expect(refusal(flow({ edges: [...flow().edges.slice(0, 2), { from: 'menu', to: 'done', on: 'no_match' }] }))).toBe('node "other": no edge reaches it from the start');
    expect(refusal(flow({ start: 'missing' }))).toBe('start: there is no node "missing"');
    expect(refusal(flow({ edges: [...flow().edges, { from: 'menu', to: 'done', on: 'true' }] }))).toBe('node "menu": a buttons node has no outcome "true"');
    expect(refusal(flow({ edges: [...flow().edges, { from: 'done', to: 'other' }] }))).toBe('node "done": a end node has no default edge');
    expect(refusal(flow({ edges: [...flow().edges, { from: 'menu', to: 'other', on: 'no_match' }] }))).toBe('node "menu": two edges on "no_match"');
  });

  it('refuses a loop in which nothing waits, and allows one through a waiting node', () => {
    const loop = {
      version: 1,
      start: 'a',
      nodes: [
        { id: 'a', type: 'message', text: 'A' },
        { id: 'b', type: 'set_status', status: 'open' },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    };
    expect(refusal(loop)).toBe('node "a": it is on a loop with no waiting node (buttons, list, ask or wait)');
    const waiting = { ...loop, nodes: [...loop.nodes, { id: 'w', type: 'wait', seconds: 60 }], edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'w' }, { from: 'w', to: 'a' }] };
    expect(() => parseFlow(waiting)).not.toThrow();
  });

  it('checks each node type against WhatsApp and its own rules', () => {
    const one = (node: Record<string, unknown>) => refusal({ version: 1, start: 'n', nodes: [node] });
    expect(one({ id: 'n', type: 'buttons', text: 'x', buttons: [{ id: 'a', title: 'A title that is far too long' }], on_no_match: 'repeat' })).toBe(
      'node "n": buttons.0.title: button titles are at most 20 characters',
    );
    expect(one({ id: 'n', type: 'buttons', text: 'x', buttons: [{ id: 'a', title: 'Same' }, { id: 'b', title: 'same' }], on_no_match: 'repeat' })).toBe('node "n": button titles must be unique');
    const rows = Array.from({ length: 11 }, (_v, i) => ({ id: `r${i}`, title: `Row ${i}` }));
    expect(one({ id: 'n', type: 'list', text: 'x', button: 'Pick', sections: [{ rows }], on_no_match: 'repeat' })).toBe('node "n": a list has at most 10 rows');
    expect(one({ id: 'n', type: 'list', text: 'x', button: 'Pick', sections: [{ rows: [{ id: 'r', title: 'A row title that is too long' }] }], on_no_match: 'repeat' })).toBe(
      'node "n": sections.0.rows.0.title: row titles are at most 24 characters',
    );
    expect(one({ id: 'n', type: 'ask', text: 'x', save_to: 'phone' })).toBe('node "n": save_to: save to "name", "email" or "fields.<custom field>"');
    expect(one({ id: 'n', type: 'ask', text: 'x', save_to: 'name', pattern: '(' })).toBe('node "n": pattern: pattern is not a valid regular expression');
    expect(one({ id: 'n', type: 'condition', field: 'answer', operator: 'greater', value: 'x' })).toBe('node "n": the greater operator compares numbers');
    expect(one({ id: 'n', type: 'condition', field: 'answer', label: 'VIP', operator: 'exists' })).toBe('node "n": a condition tests exactly one of field, label or business_hours');
    expect(one({ id: 'n', type: 'condition', business_hours: { time_zone: 'Mars/Olympus', days: ['mon'], from: '09:00', to: '17:00' } })).toBe(
      'node "n": business_hours.time_zone: time_zone is not an IANA time zone',
    );
    expect(one({ id: 'n', type: 'set_status', status: 'sleeping' })).toMatch(/^node "n": status: status is one of new, open/);
    expect(one({ id: 'n', type: 'http', url: 'ftp://example.com/x' })).toBe('node "n": url: url must be an http(s) URL');
    expect(one({ id: 'n', type: 'teleport' })).toBe('node "n": type: unknown node type');
    expect(one({ id: 'n', type: 'end', extra: true })).toMatch(/^node "n": /);
    expect(refusal({ version: 2, start: 'n', nodes: [{ id: 'n', type: 'end' }] })).toBe('version: version must be 1');
    expect(refusal({ version: 1, start: 'n', nodes: [{ id: 'n', type: 'end' }, { id: 'n', type: 'end' }] })).toBe('node "n": two nodes have this id');
  });

  it('refuses what is not a flow at all with a message, never an exception of another kind', () => {
    for (const raw of [null, 42, 'flow', [], {}, { version: 1 }, { version: 1, start: 'a', nodes: 'x' }]) expect(refusal(raw)).toMatch(/\S/);
  });
});
