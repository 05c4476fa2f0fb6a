import { isValidPhone } from '../../phone.js';
import { renderCustomerText } from '../customers/customer-text.js';
import type { Flow, FlowNode, NodeOf } from './flow.schema.js';

/**
 * One turn of a flow: given where a customer's session stands and what happened (the flow was
 * started, the customer wrote, a timer ran out), walk the flow until it waits again or ends, and say
 * what to send and change. Nothing here writes: the runner (bot-runner.ts) stores the new session
 * and the actions in one transaction, then carries the actions out in order.
 */

/** What the engine knows of the customer; updated as the turn's own actions change it. */
export interface CustomerView {
  phone: string;
  name: string | null;
  email: string | null;
  status: string;
  fields: Record<string, unknown>;
  /** Label names. */
  labels: string[];
}

export interface SessionState {
  botId: string;
  version: number;
  nodeId: string;
  waiting: 'input' | 'timer';
  retries: number;
  lastAnswer: string | null;
  /** When the wait ends, or the session times out waiting for an answer. */
  deadlineAt: Date | null;
}

export type TurnEvent =
  | { type: 'start' }
  | { type: 'message'; text: string | null; replyId: string | null }
  | { type: 'timer'; reason: 'wait' | 'timeout' };

/** What a turn asks the runner to do, in order. */
export type BotAction =
  /** `ai`: written by the AI bot, with the model and its token counts (kept on the message). */
  | { type: 'text'; text: string; ai?: { model: string; prompt_tokens: number; completion_tokens: number } }
  /** A private note on the conversation (the AI's reason for handing over). */
  | { type: 'note'; text: string }
  | { type: 'media'; kind: 'image' | 'video' | 'audio' | 'document'; url: string | null; media_key: string | null; caption: string | null; filename: string | null }
  | { type: 'buttons'; text: string; buttons: Array<{ id: string; title: string }> }
  | { type: 'list'; text: string; button: string; sections: Array<{ title?: string; rows: Array<{ id: string; title: string; description?: string }> }> }
  | { type: 'template'; template_id: string; variables: string[]; media_link: string | null }
  | { type: 'set_field'; field: string; value: string }
  | { type: 'set_label'; label: string }
  | { type: 'remove_label'; label: string }
  | { type: 'set_status'; status: string }
  | { type: 'assign_agent'; agent_id: string }
  | { type: 'assign_team'; team_id: string }
  /** The bot stops for this customer; a person takes the conversation. */
  | { type: 'handoff'; agent_id: string | null; team_id: string | null; status: string };

/** Counted on /metrics. */
export interface TurnCounts {
  steps: number;
  noMatches: number;
  handoffs: number;
  errors: number;
}

export interface TurnResult {
  /** null: the session is over. */
  session: SessionState | null;
  actions: BotAction[];
  counts: TurnCounts;
}

export interface HttpCall {
  method: 'GET' | 'POST';
  url: string;
  timeoutMs: number;
  body: unknown;
}

/** What a turn may reach outside itself. */
export interface TurnContext {
  now: Date;
  customer: CustomerView;
  /** The flow of a bot (its current version), for `goto`; undefined when the bot has no flow. */
  loadFlow(botId: string): Promise<{ flow: Flow; version: number } | undefined>;
  /** An `http` node's call: the parsed JSON answer (or null when not JSON), or a thrown error. */
  http(call: HttpCall): Promise<unknown>;
  /** An `ai_reply` node's answer from the account's AI; undefined when there is none (not configured, failed, empty). */
  ai(question: string): Promise<AiAnswer | undefined>;
}

export interface AiAnswer {
  text: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
}

/** Nodes one turn may pass through: validation forbids loops that never wait, this bounds `goto` chains. */
const MAX_STEPS_PER_TURN = 100;

export class Turn {
  private readonly actions: BotAction[] = [];
  private readonly counts: TurnCounts = { steps: 0, noMatches: 0, handoffs: 0, errors: 0 };

  private constructor(
    private readonly context: TurnContext,
    private flow: Flow,
    private botId: string,
    private version: number,
    private lastAnswer: string | null,
  ) {}

  /** The flow's first node, for a customer without a session. */
  static async start(context: TurnContext, botId: string, flow: Flow, version: number): Promise<TurnResult> {
    const turn = new Turn(context, flow, botId, version, null);
    return turn.finish(await turn.enter(flow.start));
  }

  /** What the session does with an event: an answer at a waiting node, or a timer. */
  static async resume(context: TurnContext, session: SessionState, flow: Flow, event: TurnEvent): Promise<TurnResult> {
    const turn = new Turn(context, flow, session.botId, session.version, session.lastAnswer);
    const node = flow.nodes.find((candidate) => candidate.id === session.nodeId);
    if (!node) return turn.finish(null);
    if (event.type === 'timer') {
      if (event.reason === 'wait' && session.waiting === 'timer') return turn.finish(await turn.follow(node, undefined));
      if (event.reason === 'timeout' && session.waiting === 'input') return turn.finish(await turn.follow(node, 'timeout'));
      return turn.finish(session);
    }
    // A message during a wait does not move the flow; the timer does.
    if (event.type !== 'message' || session.waiting !== 'input') return turn.finish(session);
    return turn.finish(await turn.answer(node, session, event));
  }

  private finish(session: SessionState | null): TurnResult {
    return { session, actions: this.actions, counts: this.counts };
  }

  private edge(node: FlowNode, on: string | undefined): string | undefined {
    return this.flow.edges.find((edge) => edge.from === node.id && edge.on === on)?.to;
  }

  /** Takes the node's edge for this outcome; without one the session ends. */
  private async follow(node: FlowNode, on: string | undefined): Promise<SessionState | null> {
    const to = this.edge(node, on);
    return to === undefined ? null : this.enter(to);
  }

  private render(text: string): string {
    const { customer } = this.context;
    return renderCustomerText(text, { name: customer.name, phone: customer.phone, email: customer.email, custom_fields: JSON.stringify(customer.fields) }).text;
  }

  private waitFor(node: FlowNode, waiting: 'input' | 'timer', seconds: number, retries = 0): SessionState {
    const deadlineAt = new Date(this.context.now.getTime() + seconds * 1000);
    return { botId: this.botId, version: this.version, nodeId: node.id, waiting, retries, lastAnswer: this.lastAnswer, deadlineAt };
  }

  /** Runs nodes from `nodeId` until one waits or the flow ends. */
  private async enter(nodeId: string): Promise<SessionState | null> {
    let id: string | undefined = nodeId;
    while (id !== undefined) {
      if (this.counts.steps >= MAX_STEPS_PER_TURN) {
        this.counts.errors += 1;
        return null;
      }
      const node = this.flow.nodes.find((candidate) => candidate.id === id);
      if (!node) return null;
      this.counts.steps += 1;
      const next = await this.run(node);
      if (next.kind === 'wait') return next.session;
      if (next.kind === 'end') return null;
      if (next.kind === 'goto') return next.result;
      id = next.to;
    }
    return null;
  }

  private async run(node: FlowNode): Promise<{ kind: 'next'; to: string | undefined } | { kind: 'wait'; session: SessionState } | { kind: 'end' } | { kind: 'goto'; result: SessionState | null }> {
    const next = (on?: string) => ({ kind: 'next' as const, to: this.edge(node, on) });
    switch (node.type) {
      case 'message':
        this.actions.push({ type: 'text', text: this.render(node.text) });
        return next();
      case 'media':
        this.actions.push({ type: 'media', kind: node.kind, url: node.url ?? null, media_key: node.media_key ?? null, caption: node.caption ? this.render(node.caption) : null, filename: node.filename ?? null });
        return next();
      case 'buttons':
      case 'list':
      case 'ask':
        this.ask(node);
        return { kind: 'wait', session: this.waitFor(node, 'input', this.flow.timeout_seconds) };
      case 'wait':
        return { kind: 'wait', session: this.waitFor(node, 'timer', node.seconds) };
      case 'condition':
        return next(this.test(node) ? 'true' : 'false');
      case 'set_field': {
        const value = this.render(node.value);
        this.change({ type: 'set_field', field: node.field, value });
        return next();
      }
      case 'set_label':
      case 'remove_label':
        this.change({ type: node.type, label: node.label });
        return next();
      case 'set_status':
        this.change({ type: 'set_status', status: node.status });
        return next();
      case 'assign_team':
        this.actions.push({ type: 'assign_team', team_id: node.team_id });
        return next();
      case 'assign_agent':
        // A person is assigned: the bot stops (people first), so nothing follows.
        this.actions.push({ type: 'assign_agent', agent_id: node.agent_id });
        this.counts.handoffs += 1;
        return { kind: 'end' };
      case 'handoff':
        if (node.text) this.actions.push({ type: 'text', text: this.render(node.text) });
        this.actions.push({ type: 'handoff', agent_id: node.agent_id ?? null, team_id: node.team_id ?? null, status: node.status });
        this.counts.handoffs += 1;
        return { kind: 'end' };
      case 'http':
        return next((await this.callHttp(node)) ? 'ok' : 'error');
      case 'template':
        this.actions.push({ type: 'template', template_id: node.template_id, variables: node.variables.map((value) => this.render(value)), media_link: node.media_link ?? null });
        return next();
      case 'ai_reply': {
        const answer = await this.context.ai(node.question ? this.render(node.question) : (this.lastAnswer ?? ''));
        if (!answer) {
          this.counts.errors += 1;
          return next('error');
        }
        const { text, ...ai } = answer;
        this.actions.push({ type: 'text', text, ai });
        return next();
      }
      case 'goto': {
        const target = await this.context.loadFlow(node.bot_id);
        if (!target) {
          this.counts.errors += 1;
          return { kind: 'end' };
        }
        this.flow = target.flow;
        this.botId = node.bot_id;
        this.version = target.version;
        return { kind: 'goto', result: await this.enter(target.flow.start) };
      }
      case 'end':
        return { kind: 'end' };
    }
  }

  /** Sends the question of a waiting node (again, when repeating it). */
  private ask(node: NodeOf<'buttons'> | NodeOf<'list'> | NodeOf<'ask'>, text?: string): void {
    if (node.type === 'buttons') this.actions.push({ type: 'buttons', text: this.render(node.text), buttons: node.buttons });
    else if (node.type === 'list') this.actions.push({ type: 'list', text: this.render(node.text), button: node.button, sections: node.sections });
    else this.actions.push({ type: 'text', text: this.render(text ?? node.text) });
  }

  /** An action that changes the customer: applied to the view too, so later conditions see it. */
  private change(action: Extract<BotAction, { type: 'set_field' | 'set_label' | 'remove_label' | 'set_status' }>): void {
    const { customer } = this.context;
    if (action.type === 'set_field') {
      if (action.field === 'name') customer.name = action.value;
      else if (action.field === 'email') customer.email = action.value;
      else customer.fields[action.field.slice('fields.'.length)] = action.value;
    } else if (action.type === 'set_label') {
      if (!hasLabel(customer, action.label)) customer.labels.push(action.label);
    } else if (action.type === 'remove_label') {
      customer.labels = customer.labels.filter((name) => name.toLowerCase() !== action.label.toLowerCase());
    } else {
      customer.status = action.status;
    }
    this.actions.push(action);
  }

  private async answer(node: FlowNode, session: SessionState, event: Extract<TurnEvent, { type: 'message' }>): Promise<SessionState | null> {
    const text = (event.text ?? '').trim();
    if (node.type === 'buttons' || node.type === 'list') {
      const options = node.type === 'buttons' ? node.buttons.map((b) => ({ ...b, on: `button:${b.id}` })) : node.sections.flatMap((s) => s.rows).map((r) => ({ ...r, on: `row:${r.id}` }));
      const chosen = chooseOption(options, event.replyId, text);
      if (chosen) {
        this.lastAnswer = chosen.title;
        return this.follow(node, chosen.on);
      }
      this.counts.noMatches += 1;
      this.lastAnswer = text;
      if (this.edge(node, 'no_match') !== undefined) return this.follow(node, 'no_match');
      this.ask(node);
      return this.waitFor(node, 'input', this.flow.timeout_seconds, session.retries);
    }
    if (node.type !== 'ask') return session;
    this.lastAnswer = text;
    const value = acceptAnswer(node, text);
    if (value !== undefined) {
      this.change({ type: 'set_field', field: node.save_to, value });
      return this.follow(node, undefined);
    }
    this.counts.noMatches += 1;
    if (session.retries >= node.max_retries) return this.follow(node, 'max_retries');
    this.ask(node, node.retry_text ?? node.text);
    return this.waitFor(node, 'input', this.flow.timeout_seconds, session.retries + 1);
  }

  private test(node: NodeOf<'condition'>): boolean {
    const { customer, now } = this.context;
    if (node.label !== undefined) return hasLabel(customer, node.label);
    if (node.business_hours) return isWithinHours(node.business_hours, now);
    return compare(this.subjectValue(node.field!), node.operator!, node.value);
  }

  private subjectValue(field: string): string | null {
    const { customer } = this.context;
    switch (field) {
      case 'customer.name':
        return customer.name;
      case 'customer.email':
        return customer.email;
      case 'customer.phone':
        return customer.phone;
      case 'customer.status':
        return customer.status;
      case 'answer':
        return this.lastAnswer;
      default: {
        const name = field.slice('fields.'.length);
        const value = Object.hasOwn(customer.fields, name) ? customer.fields[name] : null;
        return value === null || value === undefined ? null : String(value);
      }
    }
  }

  /** True when the call answered 2xx; its JSON answer fills the fields of `save`. */
  private async callHttp(node: NodeOf<'http'>): Promise<boolean> {
    const { customer } = this.context;
    let answer: unknown;
    try {
      answer = await this.context.http({
        method: node.method,
        url: node.url,
        timeoutMs: node.timeout_seconds * 1000,
        body: { customer: { phone: customer.phone, name: customer.name, email: customer.email, status: customer.status, fields: customer.fields, labels: customer.labels }, answer: this.lastAnswer, bot_id: this.botId, node_id: node.id },
      });
    } catch {
      this.counts.errors += 1;
      return false;
    }
    for (const [field, path] of Object.entries(node.save ?? {})) {
      const value = valueAt(answer, path);
      if (value !== undefined && value !== null && typeof value !== 'object') this.change({ type: 'set_field', field: `fields.${field}`, value: String(value) });
    }
    return true;
  }
}

function hasLabel(customer: CustomerView, label: string): boolean {
  return customer.labels.some((name) => name.toLowerCase() === label.toLowerCase());
}

const normalize = (text: string) => text.trim().toLocaleLowerCase();

/** A tap (by its id), or typed text naming an option by its title or its number ("2"). */
export function chooseOption<T extends { id: string; title: string }>(options: T[], replyId: string | null, text: string): T | undefined {
  if (replyId !== null) {
    const tapped = options.find((option) => option.id === replyId);
    if (tapped) return tapped;
  }
  const typed = normalize(text);
  if (typed === '') return undefined;
  const byTitle = options.find((option) => normalize(option.title) === typed);
  if (byTitle) return byTitle;
  return /^[0-9]{1,2}$/.test(typed) ? options[Number(typed) - 1] : undefined;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The value an `ask` node keeps, or undefined when the answer does not fit. */
export function acceptAnswer(node: NodeOf<'ask'>, text: string): string | undefined {
  if (text === '' || text.length > 4096) return undefined;
  const kind = node.kind ?? (node.save_to === 'email' ? 'email' : undefined);
  if (node.pattern !== undefined) return matchesPattern(node.pattern, text) ? text : undefined;
  switch (kind) {
    case 'email':
      return EMAIL.test(text) ? text.toLowerCase() : undefined;
    case 'phone': {
      const digits = text.replace(/[\s()+.-]/g, '');
      return /^[0-9]+$/.test(digits) && isValidPhone(digits) ? digits : undefined;
    }
    case 'number': {
      const number = Number(text.replace(',', '.'));
      return text !== '' && Number.isFinite(number) ? String(number) : undefined;
    }
    case 'date':
      return parseDate(text);
    default:
      return text;
  }
}

/** `2026-12-31`, `31/12/2026` or `31.12.2026` (day first, as most of the world writes it), kept as `2026-12-31`. */
export function parseDate(text: string): string | undefined {
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  const dayFirst = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(text);
  const [year, month, day] = iso ? [iso[1], iso[2], iso[3]] : dayFirst ? [dayFirst[3], dayFirst[2], dayFirst[1]] : [];
  if (!year) return undefined;
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) return undefined;
  return date.toISOString().slice(0, 10);
}

/** Customer text is bounded before a business's pattern runs on it. */
const MATCHED_TEXT_MAX = 1000;

function matchesPattern(pattern: string, text: string): boolean {
  return new RegExp(pattern, 'iu').test(text.slice(0, MATCHED_TEXT_MAX));
}

/**
 * The comparisons, spelled out: `equals` and `contains` ignore case and surrounding spaces; `greater`
 * and `less` compare numbers and are false when either side is not one; `exists` is a value that is
 * not empty; `matches` is a regular expression (ignoring case).
 */
export function compare(actual: string | null, operator: string, expected: string | number | undefined): boolean {
  if (operator === 'exists') return actual !== null && actual.trim() !== '';
  if (actual === null) return false;
  const wanted = String(expected ?? '');
  switch (operator) {
    case 'equals': {
      const [a, b] = [Number(actual), Number(wanted)];
      if (typeof expected === 'number' && actual.trim() !== '' && Number.isFinite(a)) return a === b;
      return normalize(actual) === normalize(wanted);
    }
    case 'contains':
      return normalize(actual).includes(normalize(wanted));
    case 'matches':
      return matchesPattern(wanted, actual);
    case 'greater':
    case 'less': {
      if (actual.trim() === '') return false;
      const [a, b] = [Number(actual), Number(wanted)];
      if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
      return operator === 'greater' ? a > b : a < b;
    }
    default:
      return false;
  }
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Within the days and times in the time zone; `from` after `to` spans midnight (22:00–06:00). */
export function isWithinHours(hours: { time_zone: string; days: string[]; from: string; to: string }, now: Date): boolean {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: hours.time_zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = WEEKDAYS.indexOf(part('weekday').toLowerCase().slice(0, 3));
  const time = `${part('hour').padStart(2, '0')}:${part('minute').padStart(2, '0')}`;
  if (hours.from <= hours.to) return hours.days.includes(WEEKDAYS[day]!) && time >= hours.from && time < hours.to;
  // Overnight: the evening belongs to its day, the small hours to the day before.
  if (time >= hours.from) return hours.days.includes(WEEKDAYS[day]!);
  return time < hours.to && hours.days.includes(WEEKDAYS[(day + 6) % 7]!);
}

function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Words of a text, for keyword triggers: letters and digits of any script, lower case. */
function words(text: string): string[] {
  return text.toLocaleLowerCase().split(/[^\p{L}\p{N}\p{M}]+/u).filter(Boolean);
}

/** A keyword (one or more words) appears in the text as whole words, ignoring case. */
export function matchesKeyword(text: string, keyword: string): boolean {
  const haystack = words(text);
  const needle = words(keyword);
  if (needle.length === 0) return false;
  for (let i = 0; i + needle.length <= haystack.length; i += 1) {
    if (needle.every((word, j) => haystack[i + j] === word)) return true;
  }
  return false;
}
