import { batch, computed, signal } from '@preact/signals';
import { get, post, query, type CannedResponse, type Conversation, type ConversationDetail, type Directory, type Message, type Note, type Template, type TimelineItem, type User } from './api';
import { t } from './i18n';

/** What the inbox shows, as signals, and how live events change it (docs/inbox.md, *Live events*). */

export type Tab = 'mine' | 'unassigned' | 'all';

export interface Filters {
  status: string;
  label: string;
  team_id: string;
  agent_id: string;
  bot_active: '' | 'true' | 'false';
  q: string;
}

export const user = signal<User | null | undefined>(undefined);
export const directory = signal<Directory>({ agents: [], teams: [], labels: [], bots: [] });
export const templates = signal<Template[]>([]);
export const canned = signal<CannedResponse[]>([]);

export const tab = signal<Tab>('all');
export const filters = signal<Filters>({ status: '', label: '', team_id: '', agent_id: '', bot_active: '', q: '' });
export const conversations = signal<Conversation[]>([]);
export const nextCursor = signal<string | null>(null);
export const counts = signal<Record<Tab, number>>({ mine: 0, unassigned: 0, all: 0 });
export const listLoading = signal(false);

export const openId = signal<string | null>(null);
export const detail = signal<ConversationDetail | null>(null);
/** The open conversation's timeline, oldest first. */
export const timeline = signal<TimelineItem[]>([]);
export const timelineCursor = signal<string | null>(null);
export const timelineDone = signal(false);
/** On a narrow screen the side panel is a sheet over the conversation, opened from its header. */
export const panelOpen = signal(false);
export const liveState = signal<'connecting' | 'live' | 'down'>('connecting');
/** Ticks once a minute: the window clocks read it. */
export const now = signal(Date.now());
setInterval(() => (now.value = Date.now()), 30_000);

export const totalUnread = computed(() => conversations.value.reduce((sum, row) => sum + row.unread, 0));

function listQuery(extra: Record<string, string | number | undefined> = {}) {
  const f = filters.value;
  return query({ status: f.status, label: f.label, team_id: f.team_id, agent_id: f.agent_id, bot_active: f.bot_active, q: f.q.trim(), ...extra });
}

let listRequest = 0;
export async function loadList(): Promise<void> {
  const ticket = ++listRequest;
  listLoading.value = true;
  try {
    const [page, tabCounts] = await Promise.all([
      get<{ conversations: Conversation[]; next_cursor: string | null }>(`/conversations${listQuery({ tab: tab.value, limit: 50 })}`),
      get<{ counts: Record<Tab, number> }>(`/conversations/counts${listQuery()}`),
    ]);
    if (ticket !== listRequest) return;
    batch(() => {
      conversations.value = page.conversations;
      nextCursor.value = page.next_cursor;
      counts.value = tabCounts.counts;
    });
  } finally {
    if (ticket === listRequest) listLoading.value = false;
  }
}

export async function loadMore(): Promise<void> {
  if (!nextCursor.value) return;
  const page = await get<{ conversations: Conversation[]; next_cursor: string | null }>(`/conversations${listQuery({ tab: tab.value, limit: 50, cursor: nextCursor.value })}`);
  const known = new Set(conversations.value.map((row) => row.id));
  conversations.value = [...conversations.value, ...page.conversations.filter((row) => !known.has(row.id))];
  nextCursor.value = page.next_cursor;
}

let countsTimer: ReturnType<typeof setTimeout> | undefined;
function refreshCountsSoon(): void {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(() => void get<{ counts: Record<Tab, number> }>(`/conversations/counts${listQuery()}`).then((reply) => (counts.value = reply.counts), () => {}), 300);
}

/** Reads one conversation again and puts it where its activity says, or takes it off the list when it no longer belongs there. */
const rowRefreshes = new Map<string, Promise<void>>();
function refreshRow(customerId: string): Promise<void> {
  const running = rowRefreshes.get(customerId);
  if (running) return running;
  const work = (async () => {
    try {
      const { conversation } = await get<{ conversation: ConversationDetail }>(`/conversations/${encodeURIComponent(customerId)}`);
      if (openId.value === customerId) detail.value = conversation;
      placeRow(conversation);
    } catch {
      // Not visible any more (reassigned away, deleted): off the list.
      conversations.value = conversations.value.filter((row) => row.id !== customerId);
      if (openId.value === customerId) detail.value = null;
    }
    refreshCountsSoon();
  })().finally(() => rowRefreshes.delete(customerId));
  rowRefreshes.set(customerId, work);
  return work;
}

function belongsToList(row: Conversation): boolean {
  const f = filters.value;
  const me = user.value?.id;
  if (tab.value === 'mine' && row.agent?.id !== me) return false;
  if (tab.value === 'unassigned' && row.agent) return false;
  if (f.status && row.conversation_status !== f.status) return false;
  if (f.label && !row.labels.includes(f.label)) return false;
  if (f.team_id && row.team?.id !== f.team_id) return false;
  if (f.agent_id && row.agent?.id !== f.agent_id) return false;
  if (f.bot_active && String(row.bot.active) !== f.bot_active) return false;
  // A search is the server's to answer: a row already listed stays, a new one waits for the next search.
  if (f.q.trim() && !conversations.value.some((known) => known.id === row.id)) return false;
  return row.last_activity_at !== null;
}

function placeRow(row: Conversation): void {
  const rest = conversations.value.filter((known) => known.id !== row.id);
  if (!belongsToList(row)) {
    conversations.value = rest;
    return;
  }
  const summary: Conversation = { ...row };
  const at = (item: Conversation) => item.last_activity_at ?? '';
  const index = rest.findIndex((known) => at(known) < at(summary) || (at(known) === at(summary) && known.id < summary.id));
  if (index === -1) {
    // Older than every row shown: only when the list is complete.
    conversations.value = nextCursor.value ? rest : [...rest, summary];
  } else conversations.value = [...rest.slice(0, index), summary, ...rest.slice(index)];
}

export async function openConversation(customerId: string | null): Promise<void> {
  if (openId.value === customerId && detail.value) return;
  batch(() => {
    openId.value = customerId;
    detail.value = null;
    timeline.value = [];
    timelineCursor.value = null;
    timelineDone.value = false;
  });
  if (!customerId) return;
  refreshDirectorySoon();
  const [{ conversation }, page] = await Promise.all([
    get<{ conversation: ConversationDetail }>(`/conversations/${encodeURIComponent(customerId)}`),
    get<{ items: TimelineItem[]; next_cursor: string | null }>(`/conversations/${encodeURIComponent(customerId)}/timeline?limit=50`),
  ]);
  if (openId.value !== customerId) return;
  batch(() => {
    detail.value = conversation;
    timeline.value = page.items.slice().reverse();
    timelineCursor.value = page.next_cursor;
    timelineDone.value = page.next_cursor === null;
  });
  void markRead(customerId);
}

let olderLoading = false;
export async function loadOlder(): Promise<boolean> {
  const customerId = openId.value;
  if (!customerId || !timelineCursor.value || olderLoading) return false;
  olderLoading = true;
  try {
    const page = await get<{ items: TimelineItem[]; next_cursor: string | null }>(
      `/conversations/${encodeURIComponent(customerId)}/timeline${query({ limit: 100, cursor: timelineCursor.value })}`,
    );
    if (openId.value !== customerId) return false;
    const known = new Set(timeline.value.map(itemKey));
    batch(() => {
      timeline.value = [...page.items.filter((item) => !known.has(itemKey(item))).reverse(), ...timeline.value];
      timelineCursor.value = page.next_cursor;
      timelineDone.value = page.next_cursor === null;
    });
    return true;
  } finally {
    olderLoading = false;
  }
}

export const itemKey = (item: TimelineItem) => `${item.kind}:${item.id}`;

async function markRead(customerId: string): Promise<void> {
  const row = conversations.value.find((known) => known.id === customerId);
  if (row && row.unread === 0 && detail.value?.unread === 0) return;
  if (document.visibilityState !== 'visible') return;
  await post(`/conversations/${encodeURIComponent(customerId)}/read`).catch(() => {});
  conversations.value = conversations.value.map((known) => (known.id === customerId ? { ...known, unread: 0 } : known));
}

/** A timeline item the person's own action just produced: shown at once, the live event only confirms it. */
export function addToTimeline(item: TimelineItem): void {
  if (item.customer_id !== openId.value) return;
  const key = itemKey(item);
  const index = timeline.value.findIndex((known) => itemKey(known) === key);
  if (index >= 0) {
    const copy = timeline.value.slice();
    copy[index] = item.kind === 'message' ? mergeStatus(copy[index] as Message, item) : item;
    timeline.value = copy;
    return;
  }
  // By time (a late event may be older than what is shown last).
  const list = timeline.value.slice();
  let at = list.length;
  while (at > 0 && list[at - 1]!.created_at > item.created_at) at--;
  list.splice(at, 0, item);
  timeline.value = list;
}

const STATUS_ORDER = ['pending', 'sent', 'delivered', 'read'];
/** Statuses never go back (a late `sent` after `read`); `failed` always wins. */
function mergeStatus(known: Message, incoming: Message): Message {
  if (known.status === 'failed') return { ...incoming, status: 'failed', error: known.error ?? incoming.error };
  if (incoming.status !== 'failed' && STATUS_ORDER.indexOf(incoming.status) < STATUS_ORDER.indexOf(known.status)) return { ...incoming, status: known.status };
  return incoming;
}

/** People, teams and labels change now and then: read again when a conversation opens, at most once a minute. */
let directoryReadAt = 0;
function refreshDirectorySoon(): void {
  if (Date.now() - directoryReadAt < 60_000) return;
  directoryReadAt = Date.now();
  void get<Directory>('/directory').then((reply) => (directory.value = reply), () => {});
}

export async function loadReferenceData(): Promise<void> {
  directoryReadAt = Date.now();
  const [dir, tpl, responses] = await Promise.all([
    get<Directory>('/directory'),
    get<{ templates: Template[] }>('/templates'),
    get<{ canned_responses?: CannedResponse[]; responses?: CannedResponse[] }>('/canned-responses'),
  ]);
  batch(() => {
    directory.value = dir;
    templates.value = tpl.templates;
    canned.value = responses.canned_responses ?? responses.responses ?? [];
  });
}

// ---- live events ----

interface LiveData {
  type: string;
  customer_id: string | null;
  message?: Omit<Message, 'kind' | 'customer_id'>;
  message_id?: number;
  status?: Message['status'];
  error?: Message['error'];
  label?: string;
  action?: string;
  note?: Note;
  [key: string]: unknown;
}

let source: EventSource | undefined;
let onInbound: (row: Conversation | undefined, text: string) => void = () => {};

export function whenCustomerWrites(handler: typeof onInbound): void {
  onInbound = handler;
}

export function connectLive(): void {
  source?.close();
  liveState.value = 'connecting';
  const events = new EventSource('/app/api/events');
  source = events;
  events.addEventListener('ready', (event) => {
    liveState.value = 'live';
    const data = JSON.parse((event as MessageEvent).data) as { resumed?: boolean };
    // A stream that could not replay what was missed: what is shown may be stale.
    if (!data.resumed) {
      void loadList();
      if (openId.value) void reloadOpen();
    }
  });
  events.addEventListener('reset', () => {
    void loadList();
    if (openId.value) void reloadOpen();
  });
  events.addEventListener('signed_out', () => {
    events.close();
    user.value = null;
  });
  events.addEventListener('error', () => {
    if (events.readyState !== EventSource.OPEN) liveState.value = events.readyState === EventSource.CLOSED ? 'down' : 'connecting';
  });
  for (const type of ['message.created', 'message.status', 'message.deleted', 'customer.updated', 'customer.deleted', 'conversation.assigned', 'conversation.status', 'conversation.labels', 'conversation.bot', 'note.created', 'conversation.read']) {
    events.addEventListener(type, (event) => applyEvent(JSON.parse((event as MessageEvent).data) as LiveData));
  }
}

export function disconnectLive(): void {
  source?.close();
  source = undefined;
}

async function reloadOpen(): Promise<void> {
  const id = openId.value;
  openId.value = null;
  await openConversation(id);
}

function applyEvent(data: LiveData): void {
  const customerId = data.customer_id;
  if (!customerId) {
    if (data.type === 'conversation.labels') void loadList();
    return;
  }
  const isOpen = customerId === openId.value;
  switch (data.type) {
    case 'message.created': {
      const message = { ...data.message!, kind: 'message', customer_id: customerId } as Message;
      if (isOpen) {
        addToTimeline(message);
        if (message.direction === 'inbound') void markRead(customerId);
      }
      if (message.direction === 'inbound') {
        const row = conversations.value.find((known) => known.id === customerId);
        onInbound(row, message.text ?? t('document'));
      }
      void refreshRow(customerId);
      return;
    }
    case 'message.status': {
      if (isOpen) {
        const index = timeline.value.findIndex((item) => item.kind === 'message' && item.id === data.message_id);
        if (index >= 0) addToTimeline({ ...(timeline.value[index] as Message), status: data.status!, error: data.error ?? null });
      }
      const row = conversations.value.find((known) => known.id === customerId);
      if (row?.last_message?.id === data.message_id) {
        conversations.value = conversations.value.map((known) =>
          known.id === customerId && known.last_message ? { ...known, last_message: { ...known.last_message, status: data.status! } } : known,
        );
      }
      return;
    }
    case 'message.deleted':
      if (isOpen) timeline.value = timeline.value.filter((item) => !(item.kind === 'message' && item.id === data.message_id));
      void refreshRow(customerId);
      return;
    case 'note.created': {
      if (isOpen && data.note) addToTimeline({ ...(data.note as Note), kind: 'note', customer_id: customerId });
      return;
    }
    case 'conversation.read':
      conversations.value = conversations.value.map((known) => (known.id === customerId ? { ...known, unread: Number(data.unread ?? 0) } : known));
      return;
    case 'customer.deleted':
      conversations.value = conversations.value.filter((known) => known.id !== customerId);
      if (isOpen) detail.value = null;
      refreshCountsSoon();
      return;
    default:
      void refreshRow(customerId);
  }
}
