/** The inbox's rules that need no page: status names, the 24-hour window clock, days of a timeline, canned text. */

export const STATUSES = [
  'new', 'open', 'closed', 'waiting', 'waiting_for_agent', 'reopened', 'solved', 'in_progress', 'in_process',
  'spam', 'being_handled', 'not_relevant', 'appointment_scheduled', 'pending_customer', 'escalated',
  'follow_up', 'duplicate', 'require_review',
] as const;
export type Status = (typeof STATUSES)[number];

/** The 14 statuses of the vendor's reference table, offered in the Status control in this order. */
export const OFFERED_STATUSES: Status[] = [
  'new', 'open', 'closed', 'waiting', 'waiting_for_agent', 'reopened', 'solved', 'in_progress', 'in_process',
  'spam', 'being_handled', 'not_relevant', 'appointment_scheduled', 'pending_customer',
];

export type Lang = 'en' | 'he';

const STATUS_NAMES: Record<Lang, Record<Status, string>> = {
  en: {
    new: 'New', open: 'Open', closed: 'Closed', waiting: 'Waiting', waiting_for_agent: 'Waiting for Agent', reopened: 'Reopened',
    solved: 'Solved', in_progress: 'In Progress', in_process: 'In Process', spam: 'Spam', being_handled: 'Being Handled',
    not_relevant: 'Not Relevant', appointment_scheduled: 'Appointment Scheduled', pending_customer: 'Pending Customer',
    escalated: 'Escalated', follow_up: 'Follow Up', duplicate: 'Duplicate', require_review: 'Require Review',
  },
  he: {
    new: 'חדש', open: 'פתוח', closed: 'סגור', waiting: 'ממתין', waiting_for_agent: 'ממתין לנציג', reopened: 'נפתח מחדש',
    solved: 'נפתר', in_progress: 'בטיפול', in_process: 'בתהליך', spam: 'ספאם', being_handled: 'מטופל כעת',
    not_relevant: 'לא רלוונטי', appointment_scheduled: 'נקבעה פגישה', pending_customer: 'ממתין ללקוח',
    escalated: 'הועבר לדרג גבוה', follow_up: 'מעקב', duplicate: 'כפול', require_review: 'דורש בדיקה',
  },
};

export function statusName(status: string, lang: Lang = 'en'): string {
  return STATUS_NAMES[lang][status as Status] ?? status;
}

/** The statuses the Status control offers: the 14, plus the current one when it is one of the other four. */
export function statusOptions(current: string): string[] {
  return OFFERED_STATUSES.includes(current as Status) ? OFFERED_STATUSES : [...OFFERED_STATUSES, current];
}

export interface WindowClock {
  open: boolean;
  /** Milliseconds left (0 when closed). */
  leftMs: number;
  /** `23h 59m`, `45m`, `<1m`; empty when closed. */
  label: string;
  /** Less than an hour left: worth a warning colour. */
  closingSoon: boolean;
}

/** How long the 24-hour window stays open, from `window_closes_at` (null: the customer never wrote). */
export function windowClock(closesAt: string | null | undefined, now: number): WindowClock {
  const leftMs = closesAt ? Math.max(0, Date.parse(closesAt) - now) : 0;
  if (leftMs <= 0) return { open: false, leftMs: 0, label: '', closingSoon: false };
  const minutes = Math.floor(leftMs / 60_000);
  const hours = Math.floor(minutes / 60);
  const label = hours > 0 ? `${hours}h ${minutes % 60}m` : minutes > 0 ? `${minutes}m` : '<1m';
  return { open: true, leftMs, label, closingSoon: leftMs < 3_600_000 };
}

/** A calendar day in the person's time zone, as a sortable key. */
export function dayKey(iso: string, timeZone?: string): string {
  return formatter('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/**
 * One Intl.DateTimeFormat per locale and options, kept: making one costs far more than formatting
 * with it, and a long history formats thousands of times (every item's day on every page loaded).
 */
export function formatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let cached = formatters.get(key);
  if (!cached) formatters.set(key, (cached = new Intl.DateTimeFormat(locale, options)));
  return cached;
}

export interface DayGroup<T> {
  day: string;
  items: T[];
}

/** Timeline items (oldest first) in runs of one calendar day each, for the day separators. */
export function groupByDay<T extends { created_at: string }>(items: T[], timeZone?: string): DayGroup<T>[] {
  const groups: DayGroup<T>[] = [];
  for (const item of items) {
    const day = dayKey(item.created_at, timeZone);
    const last = groups[groups.length - 1];
    if (last && last.day === day) last.items.push(item);
    else groups.push({ day, items: [item] });
  }
  return groups;
}

/** `Today`, `Yesterday` or the date, for a day separator. */
export function dayLabel(day: string, now: number, lang: Lang, timeZone?: string): string {
  const today = dayKey(new Date(now).toISOString(), timeZone);
  const yesterday = dayKey(new Date(now - 86_400_000).toISOString(), timeZone);
  if (day === today) return lang === 'he' ? 'היום' : 'Today';
  if (day === yesterday) return lang === 'he' ? 'אתמול' : 'Yesterday';
  const [y, m, d] = day.split('-').map(Number);
  return new Intl.DateTimeFormat(lang === 'he' ? 'he-IL' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.UTC(y!, m! - 1, d!));
}

export interface CustomerValues {
  name: string | null;
  phone: string;
  email: string | null;
  custom_fields: Record<string, string | number | boolean | null>;
}

/**
 * The server's canned-response rule (docs/inbox.md, *Canned responses*), for a preview without a
 * round trip: each `{{customer.x}}` / `{{fields.x}}` becomes the customer's value; what has none
 * becomes empty and is named in `missing`.
 */
export function renderCanned(text: string, customer: CustomerValues): { text: string; missing: string[] } {
  const missing: string[] = [];
  const rendered = text.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, (whole, name: string) => {
    let value: unknown;
    if (name === 'customer.name') value = customer.name;
    else if (name === 'customer.phone') value = customer.phone;
    else if (name === 'customer.email') value = customer.email;
    else if (name.startsWith('fields.')) value = customer.custom_fields[name.slice('fields.'.length)];
    else return whole;
    if (value === null || value === undefined || value === '') {
      if (!missing.includes(name)) missing.push(name);
      return '';
    }
    return String(value);
  });
  return { text: rendered, missing };
}

/** The `/shortcut` being typed at the start of the composer, or undefined. */
export function slashQuery(draft: string): string | undefined {
  const match = /^\/([\p{L}\p{N}_-]*)$/u.exec(draft);
  return match ? match[1]!.toLowerCase() : undefined;
}

/**
 * Values for a template's body variables {{1}}…{{n}}, pre-filled from the customer: a custom field
 * named `1`…`n`, else the customer's name for the first variable.
 */
export function templateDefaults(count: number, customer: CustomerValues): string[] {
  const values: string[] = [];
  for (let index = 1; index <= count; index++) {
    const field = customer.custom_fields[String(index)];
    if (field !== undefined && field !== null) values.push(String(field));
    else if (index === 1 && customer.name) values.push(customer.name);
    else values.push('');
  }
  return values;
}

/** A template's body with its variables put in, for the preview. */
export function fillTemplate(body: string, values: string[]): string {
  return body.replace(/\{\{\s*(\d+)\s*\}\}/g, (whole, n: string) => values[Number(n) - 1] || whole);
}

/** Who sent an outbound message, as the timeline says it. */
export function senderLabel(sender: { type: string; name?: string | null } | null, lang: Lang): string {
  if (!sender) return '';
  if (sender.type === 'agent') return sender.name ?? (lang === 'he' ? 'נציג' : 'Agent');
  const names: Record<string, [string, string]> = { bot: ['Bot', 'בוט'], api: ['API', 'API'], campaign: ['Campaign', 'קמפיין'] };
  const pair = names[sender.type];
  return pair ? pair[lang === 'he' ? 1 : 0] : sender.type;
}

/** A custom field's value as the editor shows it. */
export function customFieldText(value: string | number | boolean | null): string {
  return value === null ? '' : String(value);
}

/**
 * What the editor sends for a typed value: a field that was a number or a boolean stays one when the
 * text still reads as one; anything else is text.
 */
export function customFieldValue(text: string, before: string | number | boolean | null | undefined): string | number | boolean {
  if (typeof before === 'number' && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  if (typeof before === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

export interface FlowLayoutNode {
  id: string;
  type: string;
  /** Steps from `start` by the shortest path; unreachable nodes come after the deepest. */
  depth: number;
  /** Position in its column. */
  row: number;
  reachable: boolean;
}
export interface FlowLayout {
  nodes: FlowLayoutNode[];
  edges: Array<{ from: string; to: string; on: string | null }>;
  columns: number;
  rows: number;
}

/**
 * A flow drawn simply: columns by breadth-first depth from `start`, nodes in a column in the order
 * the flow lists them. Whatever of the JSON is not a flow's shape is left out, so a half-typed flow
 * still draws.
 */
export function layoutFlow(flow: unknown): FlowLayout {
  const record = (flow ?? {}) as { start?: unknown; nodes?: unknown; edges?: unknown };
  const nodes = (Array.isArray(record.nodes) ? record.nodes : [])
    .filter((node): node is { id: string; type?: unknown } => typeof node === 'object' && node !== null && typeof (node as { id?: unknown }).id === 'string')
    .map((node) => ({ id: node.id, type: typeof node.type === 'string' ? node.type : '?' }));
  const ids = new Set(nodes.map((node) => node.id));
  const edges = (Array.isArray(record.edges) ? record.edges : [])
    .filter((edge): edge is { from: string; to: string; on?: unknown } => {
      const e = edge as { from?: unknown; to?: unknown } | null;
      return typeof e === 'object' && e !== null && typeof e.from === 'string' && typeof e.to === 'string' && ids.has(e.from) && ids.has(e.to);
    })
    .map((edge) => ({ from: edge.from, to: edge.to, on: typeof edge.on === 'string' ? edge.on : null }));
  const depth = new Map<string, number>();
  const start = typeof record.start === 'string' && ids.has(record.start) ? record.start : nodes[0]?.id;
  if (start !== undefined) {
    depth.set(start, 0);
    const queue = [start];
    while (queue.length > 0) {
      const at = queue.shift()!;
      for (const edge of edges) {
        if (edge.from === at && !depth.has(edge.to)) {
          depth.set(edge.to, depth.get(at)! + 1);
          queue.push(edge.to);
        }
      }
    }
  }
  const deepest = Math.max(-1, ...depth.values());
  const perColumn = new Map<number, number>();
  const laid = nodes.map((node) => {
    const reachable = depth.has(node.id);
    const column = reachable ? depth.get(node.id)! : deepest + 1;
    const row = perColumn.get(column) ?? 0;
    perColumn.set(column, row + 1);
    return { ...node, depth: column, row, reachable };
  });
  return { nodes: laid, edges, columns: Math.max(0, ...laid.map((node) => node.depth + 1)), rows: Math.max(0, ...perColumn.values()) };
}
