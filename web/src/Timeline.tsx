import { elementScroll, observeElementOffset, observeElementRect, Virtualizer, type VirtualizerOptions } from '@tanstack/virtual-core';
import { useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { Message, Note, TimelineItem } from './api';
import { Icon } from './icons';
import { lang, t } from './i18n';
import { dayLabel, formatter, groupByDay, senderLabel } from './logic';
import { itemKey, loadOlder, now, timeline, timelineDone } from './store';

function clockTime(iso: string): string {
  return formatter(lang.value === 'he' ? 'he-IL' : 'en-GB', { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

const TICKS: Record<string, string> = { pending: '◌', sent: '✓', delivered: '✓✓', read: '✓✓' };

function Ticks({ message }: { message: Message }) {
  if (message.direction !== 'outbound') return null;
  if (message.status === 'failed')
    return (
      <span class="ticks failed" role="status">
        <Icon name="warn" size={14} /> {t('failed')}
        {message.error ? `: ${message.error.title}${message.error.code ? ` (${message.error.code})` : ''}` : ''}
      </span>
    );
  const name = (['pending', 'sent', 'delivered', 'read'] as const).find((status) => status === message.status) ?? 'sent';
  return (
    <span class={`ticks ${name}`} data-status={name} aria-label={t(name)} title={t(name)} role="img">
      {TICKS[name]}
    </span>
  );
}

function Media({ message }: { message: Message }) {
  const { media, content, type } = message;
  const url = media?.url;
  if (type === 'image' && url) return <img class="media" src={url} alt={media?.filename ?? message.text ?? 'image'} loading="lazy" />;
  if (type === 'sticker' && url) return <img class="media sticker" src={url} alt={t('sticker')} loading="lazy" />;
  if (type === 'video' && url) return <video class="media" src={url} controls preload="metadata" aria-label={media?.filename ?? 'video'} />;
  if ((type === 'audio' || type === 'voice') && url) return <audio src={url} controls preload="metadata" aria-label={media?.filename ?? 'audio'} />;
  if (type === 'document' && url)
    return (
      <a class="document" href={url} target="_blank" rel="noopener" download={media?.filename ?? undefined}>
        <Icon name="file" /> {media?.filename ?? t('document')}
      </a>
    );
  if (type === 'location' && content) {
    const location = (content as { location?: { latitude?: number; longitude?: number; name?: string; address?: string } }).location;
    if (!location) return null;
    const { latitude, longitude, name, address } = location;
    return (
      <a class="document" href={`https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=16/${latitude}/${longitude}`} target="_blank" rel="noopener noreferrer">
        <Icon name="pin" /> {name ?? address ?? `${t('location')} ${latitude}, ${longitude}`}
      </a>
    );
  }
  if (type === 'contacts' && content) {
    const contacts = ((content as { contacts?: unknown[] }).contacts ?? []) as { name?: string | null; phones?: { phone?: string | null }[] }[];
    return (
      <ul class="contacts">
        {contacts.map((contact, index) => (
          <li key={index}>
            <Icon name="person" /> {contact.name ?? t('contact')} {contact.phones?.map((phone) => phone.phone).join(', ')}
          </li>
        ))}
      </ul>
    );
  }
  return null;
}

function MessageBubble({ message }: { message: Message }) {
  const outbound = message.direction === 'outbound';
  const who = outbound ? senderLabel(message.sender, lang.value) : '';
  return (
    <div class={`bubble ${outbound ? 'out' : 'in'}`} data-message-id={message.id}>
      {who && <div class="sender">{who}</div>}
      <Media message={message} />
      {message.text && message.type !== 'reaction' && (
        <p class="text" dir="auto">
          {message.text}
        </p>
      )}
      <div class="bubble-foot">
        <time dateTime={message.created_at}>{clockTime(message.created_at)}</time>
        <Ticks message={message} />
      </div>
    </div>
  );
}

function NoteBubble({ note }: { note: Note }) {
  return (
    <div class="bubble note" role="note" aria-label={t('note')}>
      <div class="sender">
        <Icon name="lock" size={13} /> {t('note')} · {note.author?.name ?? ''}
      </div>
      <p class="text" dir="auto">
        {note.text}
      </p>
      <div class="bubble-foot">
        <time dateTime={note.created_at}>{clockTime(note.created_at)}</time>
      </div>
    </div>
  );
}

/** Reactions sit on the message they react to (by its WhatsApp id), not as messages of their own. */
function reactionsByTarget(items: TimelineItem[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const item of items) {
    if (item.kind !== 'message' || item.type !== 'reaction' || !item.content) continue;
    const { message_wa_id: target, emoji } = (item.content as { reaction?: { message_wa_id?: string; emoji?: string } }).reaction ?? {};
    if (!target || !emoji) continue;
    map.set(target, [...(map.get(target) ?? []), emoji]);
  }
  return map;
}

type Row = { kind: 'edge'; key: string } | { kind: 'day'; key: string; day: string } | { kind: 'item'; key: string; item: TimelineItem };

/** The timeline as rows: the history's edge, then each day's separator and its items (reactions sit on their message). */
function rowsOf(items: TimelineItem[]): Row[] {
  const rows: Row[] = [{ kind: 'edge', key: 'edge' }];
  for (const group of groupByDay(items.filter((item) => !(item.kind === 'message' && item.type === 'reaction' && item.content && 'reaction' in item.content)))) {
    rows.push({ kind: 'day', key: `day:${group.day}`, day: group.day });
    for (const item of group.items) rows.push({ kind: 'item', key: itemKey(item), item });
  }
  return rows;
}

/** Row heights before they are measured: a day separator, a text bubble, a bubble with media. */
function estimateOf(row: Row | undefined): number {
  if (!row || row.kind !== 'item') return 44;
  return row.item.kind === 'message' && row.item.media ? 260 : 72;
}

/** @tanstack/virtual-core's Virtualizer in a Preact component (what its React adapter does). */
function useVirtualizer(options: Omit<VirtualizerOptions<HTMLDivElement, HTMLDivElement>, 'observeElementRect' | 'observeElementOffset' | 'scrollToFn' | 'onChange'>) {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const resolved: VirtualizerOptions<HTMLDivElement, HTMLDivElement> = { observeElementRect, observeElementOffset, scrollToFn: elementScroll, ...options, onChange: () => rerender(0) };
  const [virtualizer] = useState(() => new Virtualizer(resolved));
  virtualizer.setOptions(resolved);
  useLayoutEffect(() => virtualizer._didMount(), []);
  useLayoutEffect(() => virtualizer._willUpdate());
  return virtualizer;
}

/**
 * The history, oldest at the top, as a virtual list: only the rows in and near the view are in the
 * page (a 10,000-message history stays smooth, see docs/inbox.md). It opens at the newest message,
 * follows new ones while the reader is at the bottom, keeps the reader's place when older pages load
 * above (they load as the top comes near) and when rows are measured.
 */
export function Timeline({ label }: { label: string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const items = timeline.value;
  const rows = useMemo(() => rowsOf(items), [items]);
  const reactions = useMemo(() => reactionsByTarget(items), [items]);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: (index) => estimateOf(rows[index]),
    getItemKey: (index) => rows[index]?.key ?? index,
    overscan: 8,
    anchorTo: 'end',
    followOnAppend: true,
    scrollEndThreshold: 80,
  });

  // A conversation opens at its newest message; later ones are followed (followOnAppend) while the reader is at the bottom.
  const opened = useRef(false);
  useLayoutEffect(() => {
    if (items.length === 0) opened.current = false;
    else if (!opened.current) {
      opened.current = true;
      virtualizer.scrollToEnd();
    }
  }, [items.length === 0]);

  const virtualRows = virtualizer.getVirtualItems();
  const top = virtualRows[0];
  useEffect(() => {
    // Older pages load while the reader is within a screenful or so of the oldest loaded row.
    if (top && top.index < 12 && !timelineDone.value) void loadOlder();
  });

  return (
    <div class="timeline" ref={scroller} tabIndex={0} aria-label={label} role="log" aria-live="polite" aria-relevant="additions">
      <div class="timeline-rows" style={{ height: `${virtualizer.getTotalSize()}px` }}>
        <div class="timeline-window" style={{ transform: `translateY(${top?.start ?? 0}px)` }}>
          {virtualRows.map((virtual) => {
            const row = rows[virtual.index]!;
            return (
              <div class="row" key={row.key} data-index={virtual.index} ref={virtualizer.measureElement}>
                {row.kind === 'edge' && <div class="history-edge">{timelineDone.value ? t('historyStart') : t('olderMessages')}</div>}
                {row.kind === 'day' && (
                  <h3 class="day-separator">
                    <span>{dayLabel(row.day, now.value, lang.value)}</span>
                  </h3>
                )}
                {row.kind === 'item' && <TimelineRow item={row.item} reactions={reactions} />}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function TimelineRow({ item, reactions }: { item: TimelineItem; reactions: Map<string, string[]> }) {
  const reacted = item.kind === 'message' && item.message_wa_id ? reactions.get(item.message_wa_id) : undefined;
  return (
    <div class={`item ${item.kind === 'message' ? item.direction : 'note'}`}>
      {item.kind === 'note' ? <NoteBubble note={item} /> : <MessageBubble message={item} />}
      {reacted && (
        <span class="reactions" aria-label={t('reactedWith', { emoji: reacted.join(' ') })}>
          {reacted.join(' ')}
        </span>
      )}
    </div>
  );
}
