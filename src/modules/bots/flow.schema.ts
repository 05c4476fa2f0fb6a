import { z } from 'zod';
import { CONVERSATION_STATUSES, isValidCustomFieldName } from '../customers/customers.schema.js';

/**
 * The flow format (docs/bots.md): nodes joined by edges, each edge taken on an outcome of its `from`
 * node. `parseFlow` checks the shape (Zod) and then the graph; a refusal names the node and the
 * problem, e.g. `node "menu": a buttons node has 1 to 3 buttons`.
 */

export const MAX_NODES = 200;
const MAX_TEXT = 4096;
/** WhatsApp's limits on interactive messages. */
export const BUTTON_TITLE_MAX = 20;
export const ROW_TITLE_MAX = 24;
export const LIST_ROWS_MAX = 10;
const INTERACTIVE_BODY_MAX = 1024;
const ID = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'ids are 1 to 64 letters, digits, _ . : or -' });

const text = z.string().trim().min(1, { error: 'text is required' }).max(MAX_TEXT, { error: `text is at most ${MAX_TEXT} characters` });
const interactiveText = text.max(INTERACTIVE_BODY_MAX, { error: `the text of buttons and lists is at most ${INTERACTIVE_BODY_MAX} characters` });

/** Where an answer or a value is kept: the customer's name or email, or a custom field. */
const target = z.string().refine((name) => name === 'name' || name === 'email' || (name.startsWith('fields.') && isValidCustomFieldName(name.slice(7))), {
  error: 'save to "name", "email" or "fields.<custom field>"',
});

/** What a condition reads: a customer field, a custom field, or the last answer. */
const subject = z.string().refine((name) => ['customer.name', 'customer.email', 'customer.phone', 'customer.status', 'answer'].includes(name) || (name.startsWith('fields.') && isValidCustomFieldName(name.slice(7))), {
  error: 'a condition reads "customer.name", "customer.email", "customer.phone", "customer.status", "answer" or "fields.<custom field>"',
});

const pattern = z.string().max(200).refine(isValidPattern, { error: 'pattern is not a valid regular expression' });

function isValidPattern(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const clockTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, { error: 'times are HH:MM (24-hour)' });

const statusName = z.enum(CONVERSATION_STATUSES, { error: `status is one of ${CONVERSATION_STATUSES.join(', ')}` });
const httpsUrl = z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL' });

const base = { id: ID };
const nodeSchemas = [
  z.strictObject({ ...base, type: z.literal('message'), text }),
  z.strictObject({
    ...base,
    type: z.literal('media'),
    kind: z.enum(['image', 'video', 'audio', 'document']),
    /** A public link WhatsApp fetches (its extension names the file type), or a file uploaded for flows (POST /app/api/admin/bots/media). */
    url: httpsUrl.optional(),
    media_key: z.string().regex(/^[A-Za-z0-9-]{1,64}\.[a-z0-9]{1,8}$/, { error: 'media_key is the key POST /app/api/admin/bots/media answered' }).optional(),
    caption: text.optional(),
    filename: z.string().min(1).max(240).optional(),
  }),
  z.strictObject({
    ...base,
    type: z.literal('buttons'),
    text: interactiveText,
    buttons: z
      .array(z.strictObject({ id: ID, title: z.string().trim().min(1).max(BUTTON_TITLE_MAX, { error: `button titles are at most ${BUTTON_TITLE_MAX} characters` }) }))
      .min(1, { error: 'a buttons node has 1 to 3 buttons' })
      .max(3, { error: 'a buttons node has 1 to 3 buttons' }),
    on_no_match: z.enum(['repeat']).optional(),
  }),
  z.strictObject({
    ...base,
    type: z.literal('list'),
    text: interactiveText,
    button: z.string().trim().min(1).max(BUTTON_TITLE_MAX, { error: `the list's button label is at most ${BUTTON_TITLE_MAX} characters` }),
    sections: z
      .array(
        z.strictObject({
          title: z.string().trim().min(1).max(ROW_TITLE_MAX).optional(),
          rows: z
            .array(
              z.strictObject({
                id: ID,
                title: z.string().trim().min(1).max(ROW_TITLE_MAX, { error: `row titles are at most ${ROW_TITLE_MAX} characters` }),
                description: z.string().trim().min(1).max(72).optional(),
              }),
            )
            .min(1, { error: 'a section has at least one row' }),
        }),
      )
      .min(1, { error: 'a list has at least one section' })
      .max(10),
    on_no_match: z.enum(['repeat']).optional(),
  }),
  z.strictObject({
    ...base,
    type: z.literal('ask'),
    text,
    save_to: target,
    pattern: pattern.optional(),
    kind: z.enum(['email', 'phone', 'number', 'date']).optional(),
    retry_text: text.optional(),
    max_retries: z.int().min(0).max(10).default(2),
  }),
  z.strictObject({
    ...base,
    type: z.literal('condition'),
    field: subject.optional(),
    operator: z.enum(['equals', 'contains', 'matches', 'exists', 'greater', 'less']).optional(),
    value: z.union([z.string().max(MAX_TEXT), z.number()]).optional(),
    label: z.string().trim().min(1).max(256).optional(),
    business_hours: z
      .strictObject({
        time_zone: z.string().refine(isTimeZone, { error: 'time_zone is not an IANA time zone' }),
        days: z.array(z.enum(DAYS)).min(1),
        from: clockTime,
        to: clockTime,
      })
      .optional(),
  }),
  z.strictObject({ ...base, type: z.literal('set_field'), field: target, value: z.string().max(MAX_TEXT) }),
  z.strictObject({ ...base, type: z.literal('set_label'), label: z.string().trim().min(1).max(256) }),
  z.strictObject({ ...base, type: z.literal('remove_label'), label: z.string().trim().min(1).max(256) }),
  z.strictObject({ ...base, type: z.literal('set_status'), status: statusName }),
  z.strictObject({ ...base, type: z.literal('assign_agent'), agent_id: z.string().min(1).max(64) }),
  z.strictObject({ ...base, type: z.literal('assign_team'), team_id: z.string().min(1).max(64) }),
  z.strictObject({
    ...base,
    type: z.literal('handoff'),
    team_id: z.string().min(1).max(64).nullable().optional(),
    agent_id: z.string().min(1).max(64).nullable().optional(),
    status: statusName.default('waiting_for_agent'),
    text: text.optional(),
  }),
  z.strictObject({ ...base, type: z.literal('wait'), seconds: z.int().min(1).max(30 * 24 * 3600) }),
  z.strictObject({
    ...base,
    type: z.literal('http'),
    method: z.enum(['GET', 'POST']).default('POST'),
    url: httpsUrl,
    timeout_seconds: z.int().min(1).max(30).default(10),
    /** Custom field ← a dot path into the JSON answer (`order.status`). */
    save: z.record(z.string(), z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, { error: 'save paths are dot-separated keys' })).optional(),
  }),
  z.strictObject({
    ...base,
    type: z.literal('template'),
    template_id: z.string().min(1).max(64),
    variables: z.array(z.string().max(1024)).max(100).default([]),
    media_link: httpsUrl.optional(),
  }),
  z.strictObject({ ...base, type: z.literal('goto'), bot_id: z.string().min(1).max(64) }),
  /** The account's AI answers one question (the last answer unless told) from its knowledge, then the flow goes on. */
  z.strictObject({ ...base, type: z.literal('ai_reply'), question: text.optional() }),
  z.strictObject({ ...base, type: z.literal('end') }),
] as const;

export const flowNode = z.discriminatedUnion('type', nodeSchemas, { error: 'unknown node type' });

const edge = z.strictObject({
  from: ID,
  to: ID,
  on: z
    .string()
    .regex(/^(button:|row:)[A-Za-z0-9_.:-]{1,64}$|^(no_match|max_retries|timeout|true|false|ok|error)$/, { error: 'unknown edge outcome' })
    .optional(),
});

const trigger = z.strictObject({
  type: z.literal('keyword'),
  keywords: z.array(z.string().trim().min(1).max(64)).min(1).max(50),
});

export const flowSchema = z.strictObject({
  version: z.literal(1, { error: 'version must be 1' }),
  start: ID,
  triggers: z.array(trigger).max(10).default([]),
  /** How long a session waits for an answer before its `timeout` edge (or its end). */
  timeout_seconds: z.int().min(60).max(7 * 24 * 3600).default(1800),
  nodes: z.array(flowNode).min(1).max(MAX_NODES, { error: `a flow has at most ${MAX_NODES} nodes` }),
  edges: z.array(edge).max(MAX_NODES * 12).default([]),
});

export type Flow = z.output<typeof flowSchema>;
export type FlowNode = z.output<typeof flowNode>;
export type FlowEdge = Flow['edges'][number];
export type NodeOf<T extends FlowNode['type']> = Extract<FlowNode, { type: T }>;

/** Nodes where the session stops until something arrives (an answer, or the time). */
export const WAITING_NODES = new Set<FlowNode['type']>(['buttons', 'list', 'ask', 'wait']);
/** Nodes after which the session is over (or continues in another flow); assigning a person stops the bot. */
const FINAL_NODES = new Set<FlowNode['type']>(['handoff', 'assign_agent', 'goto', 'end']);

export class FlowError extends Error {}

/** The outcomes a node's edges may be taken on; `undefined` is the default edge. */
function outcomesOf(node: FlowNode): Set<string | undefined> {
  switch (node.type) {
    case 'buttons':
      return new Set([...node.buttons.map((button) => `button:${button.id}`), 'no_match', 'timeout']);
    case 'list':
      return new Set([...node.sections.flatMap((section) => section.rows.map((row) => `row:${row.id}`)), 'no_match', 'timeout']);
    case 'ask':
      return new Set([undefined, 'max_retries', 'timeout']);
    case 'condition':
      return new Set(['true', 'false']);
    case 'http':
      return new Set(['ok', 'error']);
    case 'ai_reply':
      return new Set([undefined, 'error']);
    default:
      return FINAL_NODES.has(node.type) ? new Set() : new Set([undefined]);
  }
}

const nodeError = (id: string, problem: string) => new FlowError(`node "${id}": ${problem}`);

/** What the shape cannot say about one node. */
function checkNode(node: FlowNode): void {
  if (node.type === 'media' && (node.url === undefined) === (node.media_key === undefined)) throw nodeError(node.id, 'a media node has either url or media_key');
  if (node.type === 'ask' && node.pattern !== undefined && node.kind !== undefined) throw nodeError(node.id, 'an ask node has a pattern or a kind, not both');
  if (node.type === 'buttons' && new Set(node.buttons.map((b) => b.id)).size !== node.buttons.length) throw nodeError(node.id, 'button ids must be unique');
  if (node.type === 'buttons' && new Set(node.buttons.map((b) => b.title.toLowerCase())).size !== node.buttons.length) throw nodeError(node.id, 'button titles must be unique');
  if (node.type === 'list') {
    const rows = node.sections.flatMap((section) => section.rows);
    if (rows.length > LIST_ROWS_MAX) throw nodeError(node.id, `a list has at most ${LIST_ROWS_MAX} rows`);
    if (new Set(rows.map((row) => row.id)).size !== rows.length) throw nodeError(node.id, 'row ids must be unique');
    if (node.sections.length > 1 && node.sections.some((section) => section.title === undefined)) throw nodeError(node.id, 'a list with several sections titles each of them');
  }
  if (node.type === 'condition') checkCondition(node);
}

function checkCondition(node: NodeOf<'condition'>): void {
  const kinds = [node.field !== undefined, node.label !== undefined, node.business_hours !== undefined].filter(Boolean).length;
  if (kinds !== 1) throw nodeError(node.id, 'a condition tests exactly one of field, label or business_hours');
  if (node.field === undefined) return;
  if (node.operator === undefined) throw nodeError(node.id, 'a field condition needs an operator');
  if (node.operator !== 'exists' && node.value === undefined) throw nodeError(node.id, `the ${node.operator} operator needs a value`);
  if ((node.operator === 'greater' || node.operator === 'less') && !Number.isFinite(Number(node.value))) throw nodeError(node.id, `the ${node.operator} operator compares numbers`);
  if (node.operator === 'matches' && !isValidPattern(String(node.value))) throw nodeError(node.id, 'the value of matches is not a valid regular expression');
}

/** The graph: edges between known nodes on outcomes their node has, every node reachable, no loop that never waits. */
function checkGraph(flow: Flow): void {
  const nodes = new Map<string, FlowNode>();
  for (const node of flow.nodes) {
    if (nodes.has(node.id)) throw nodeError(node.id, 'two nodes have this id');
    nodes.set(node.id, node);
    checkNode(node);
  }
  if (!nodes.has(flow.start)) throw new FlowError(`start: there is no node "${flow.start}"`);
  const next = new Map<string, string[]>();
  const taken = new Set<string>();
  for (const { from, to, on } of flow.edges) {
    const node = nodes.get(from);
    if (!node) throw new FlowError(`edge ${from} → ${to}: there is no node "${from}"`);
    if (!nodes.has(to)) throw nodeError(from, `its edge goes to "${to}", which is no node`);
    if (!outcomesOf(node).has(on)) throw nodeError(from, on === undefined ? `a ${node.type} node has no default edge` : `a ${node.type} node has no outcome "${on}"`);
    const key = `${from}\u0000${on ?? ''}`;
    if (taken.has(key)) throw nodeError(from, on === undefined ? 'two default edges' : `two edges on "${on}"`);
    taken.add(key);
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  for (const node of flow.nodes) {
    if (node.type !== 'buttons' && node.type !== 'list') continue;
    const outcomes = [...outcomesOf(node)].filter((outcome) => outcome?.startsWith('button:') || outcome?.startsWith('row:'));
    const missing = outcomes.find((outcome) => !taken.has(`${node.id}\u0000${outcome}`));
    if (missing) throw nodeError(node.id, `no edge for "${missing}"`);
    if (!taken.has(`${node.id}\u0000no_match`) && node.on_no_match !== 'repeat') {
      throw nodeError(node.id, 'typed text can arrive here: add a "no_match" edge, or "on_no_match": "repeat" to ask again');
    }
  }
  const reached = new Set([flow.start]);
  const queue = [flow.start];
  while (queue.length > 0) {
    for (const to of next.get(queue.shift()!) ?? []) if (!reached.has(to) && reached.add(to)) queue.push(to);
  }
  const unreachable = flow.nodes.find((node) => !reached.has(node.id));
  if (unreachable) throw nodeError(unreachable.id, 'no edge reaches it from the start');
  checkLoops(nodes, next);
}

/** A cycle through nodes none of which waits would run forever within one step. */
function checkLoops(nodes: Map<string, FlowNode>, next: Map<string, string[]>): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string): void => {
    state.set(id, 'visiting');
    for (const to of next.get(id) ?? []) {
      if (WAITING_NODES.has(nodes.get(to)!.type)) continue;
      if (state.get(to) === 'visiting') throw nodeError(to, 'it is on a loop with no waiting node (buttons, list, ask or wait)');
      if (!state.has(to)) visit(to);
    }
    state.set(id, 'done');
  };
  for (const [id, node] of nodes) if (!WAITING_NODES.has(node.type) && !state.has(id)) visit(id);
}

/** The first problem of a Zod refusal, with the node it is in. */
function describeShapeError(error: z.ZodError, raw: unknown): string {
  const issue = error.issues[0]!;
  const [head, index, ...rest] = issue.path;
  const where = rest.length > 0 ? `${rest.join('.')}: ` : '';
  if (head === 'nodes' && typeof index === 'number') {
    const id = (raw as { nodes?: Array<{ id?: unknown }> }).nodes?.[index]?.id;
    return `node ${typeof id === 'string' ? `"${id}"` : `#${index + 1}`}: ${where}${issue.message}`;
  }
  return `${issue.path.join('.') || 'flow'}: ${issue.message}`;
}

/** A flow, or a FlowError naming what is wrong. */
export function parseFlow(raw: unknown): Flow {
  const parsed = flowSchema.safeParse(raw);
  if (!parsed.success) throw new FlowError(describeShapeError(parsed.error, raw));
  checkGraph(parsed.data);
  return parsed.data;
}
