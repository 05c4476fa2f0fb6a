import { useLayoutEffect, useRef } from 'preact/hooks';
import type { Message, Note, TimelineItem } from './api';
import { Icon } from './icons';
import { lang, t } from './i18n';
import { dayLabel, groupByDay, senderLabel } from './logic';
import { itemKey, loadOlder, now, timeline, timelineDone } from './store';

function clockTime(iso: string): string {
  return new Intl.DateTimeFormat(lang.value === 'he' ? 'he-IL' : 'en-GB', { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
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

/**
 * The history, oldest at the top. Rows off screen are skipped by the browser's layout
 * (`content-visibility: auto`, see styles.css), which keeps a long history smooth; older pages load
 * when the top comes into view, and the scroll position stays on what the person was reading.
 */
export function Timeline({ label }: { label: string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const before = useRef<{ height: number; top: number; first: string | undefined; last: string | undefined; atBottom: boolean }>();
  const items = timeline.value;
  const first = items[0] ? itemKey(items[0]) : undefined;
  const last = items[items.length - 1] ? itemKey(items[items.length - 1]!) : undefined;

  // Before the DOM changes: where the reader is.
  const element = scroller.current;
  if (element) {
    before.current = {
      height: element.scrollHeight,
      top: element.scrollTop,
      first: before.current?.first,
      last: before.current?.last,
      atBottom: element.scrollHeight - element.scrollTop - element.clientHeight < 80,
    };
  }

  useLayoutEffect(() => {
    const node = scroller.current;
    if (!node) return;
    const previous = before.current;
    if (!previous || previous.first === undefined) node.scrollTop = node.scrollHeight;
    else if (previous.first !== first && previous.last === last) node.scrollTop = previous.top + (node.scrollHeight - previous.height);
    else if (previous.last !== last && previous.atBottom) node.scrollTop = node.scrollHeight;
    before.current = { ...(previous ?? { height: 0, top: 0, atBottom: true }), first, last };
  }, [first, last, items.length]);

  useLayoutEffect(() => {
    const node = sentinel.current;
    if (!node) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void loadOlder();
    }, { root: scroller.current, rootMargin: '400px 0px 0px 0px' });
    observer.observe(node);
    return () => observer.disconnect();
  }, [first]);

  const reactions = reactionsByTarget(items);
  const groups = groupByDay(items.filter((item) => !(item.kind === 'message' && item.type === 'reaction' && item.content && 'reaction' in item.content)));
  return (
    <div class="timeline" ref={scroller} tabIndex={0} aria-label={label} role="log" aria-live="polite" aria-relevant="additions">
      <div ref={sentinel} class="history-edge">
        {timelineDone.value ? t('historyStart') : t('olderMessages')}
      </div>
      {groups.map((group) => (
        <section class="day" key={group.day} aria-label={dayLabel(group.day, now.value, lang.value)}>
          <h3 class="day-separator">
            <span>{dayLabel(group.day, now.value, lang.value)}</span>
          </h3>
          {group.items.map((item) => (
            <div class={`item ${item.kind === 'message' ? item.direction : 'note'}`} key={itemKey(item)}>
              {item.kind === 'note' ? <NoteBubble note={item} /> : <MessageBubble message={item} />}
              {item.kind === 'message' && item.message_wa_id && reactions.get(item.message_wa_id) && (
                <span class="reactions" aria-label={t('reactedWith', { emoji: reactions.get(item.message_wa_id)!.join(' ') })}>
                  {reactions.get(item.message_wa_id)!.join(' ')}
                </span>
              )}
            </div>
          ))}
        </section>
      ))}
    </div>
  );
}
