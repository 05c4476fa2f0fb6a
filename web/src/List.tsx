import { useEffect, useRef } from 'preact/hooks';
import type { Conversation } from './api';
import { byId, Choice } from './controls';
import { Icon } from './icons';
import { lang, t } from './i18n';
import { statusName, STATUSES, windowClock } from './logic';
import { conversationPath, navigate } from './router';
import { conversations, counts, directory, filters, listLoading, loadList, loadMore, nextCursor, now, openId, tab, type Tab } from './store';

const TABS: Tab[] = ['mine', 'unassigned', 'all'];

function timeOf(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  const sameDay = new Date().toDateString() === date.toDateString();
  return new Intl.DateTimeFormat(lang.value === 'he' ? 'he-IL' : 'en-GB', sameDay ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short' }).format(date);
}

export function previewOf(row: Conversation): string {
  const message = row.last_message;
  if (!message) return '';
  const text = message.text ?? `[${message.type}]`;
  return message.direction === 'outbound' ? `${t('you')}: ${text}` : text;
}

function Row({ row, selected }: { row: Conversation; selected: boolean }) {
  const clock = windowClock(row.window_closes_at, now.value);
  const title = row.name || row.phone;
  return (
    <li aria-label={title} class={selected ? 'row selected' : 'row'}>
      <a
        href={conversationPath(row.id)}
        aria-current={selected ? 'true' : undefined}
        onClick={(event) => {
          event.preventDefault();
          navigate(conversationPath(row.id));
        }}
      >
        <span class="row-top">
          <bdi class="row-name">{title}</bdi>
          <time class="row-time" dateTime={row.last_activity_at ?? undefined}>
            {timeOf(row.last_activity_at)}
          </time>
        </span>
        <span class="row-bottom">
          <span class="row-preview" dir="auto">
            {previewOf(row)}
          </span>
          {row.unread > 0 && (
            <span class="badge" aria-label={t('unreadCount', { n: row.unread })}>
              {row.unread}
            </span>
          )}
        </span>
        <span class="row-meta">
          <span class={`status status-${row.conversation_status}`}>{statusName(row.conversation_status, lang.value)}</span>
          {clock.open ? (
            <span class={clock.closingSoon ? 'clock soon' : 'clock'} title={t('windowOpen', { time: clock.label })}>
              <Icon name="clock" size={12} />
              <span class="sr-only">{t('windowOpen', { time: '' })}</span>
              {clock.label}
            </span>
          ) : (
            <span class="clock closed">{t('windowClosed')}</span>
          )}
          {row.agent && <span class="row-agent">{row.agent.name}</span>}
          {row.labels.slice(0, 2).map((label) => (
            <span class="chip small" key={label}>
              {label}
            </span>
          ))}
        </span>
      </a>
    </li>
  );
}

export function ConversationList() {
  const searchTimer = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => {
    void loadList();
  }, []);
  const setFilter = (key: keyof typeof filters.value, value: string) => {
    filters.value = { ...filters.value, [key]: value };
    void loadList();
  };
  const f = filters.value;
  const dir = directory.value;
  const activeFilters = [f.status, f.label, f.team_id, f.agent_id, f.bot_active].filter(Boolean).length;
  return (
    <section class="list-pane" aria-label={t('conversations')}>
      <div class="list-head">
        <div role="tablist" aria-label={t('conversations')} class="tabs">
          {TABS.map((name) => (
            <button
              role="tab"
              id={`tab-${name}`}
              aria-selected={tab.value === name}
              aria-controls="conversation-list"
              aria-describedby={`tab-${name}-count`}
              tabIndex={tab.value === name ? 0 : -1}
              onClick={() => {
                tab.value = name;
                void loadList();
              }}
              onKeyDown={(event) => {
                if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
                const rtl = document.documentElement.dir === 'rtl';
                const step = (event.key === 'ArrowRight') !== rtl ? 1 : -1;
                const next = TABS[(TABS.indexOf(name) + step + TABS.length) % TABS.length]!;
                tab.value = next;
                void loadList();
                document.getElementById(`tab-${next}`)?.focus();
              }}
            >
              {t(name)}{' '}
              <span class="count" aria-hidden="true">
                {counts.value[name]}
              </span>
              <span id={`tab-${name}-count`} hidden>
                {counts.value[name]}
              </span>
            </button>
          ))}
        </div>
        <input
          type="search"
          class="search"
          aria-label={t('search')}
          placeholder={t('search')}
          dir="auto"
          value={f.q}
          onInput={(event) => {
            const value = event.currentTarget.value;
            filters.value = { ...filters.value, q: value };
            clearTimeout(searchTimer.current);
            searchTimer.current = setTimeout(() => void loadList(), 250);
          }}
        />
        <details class="filters">
          <summary>
            {t('filters')}
            {activeFilters > 0 && <span class="count"> {activeFilters}</span>}
          </summary>
          <div class="filter-grid">
            <Choice caption={t('status')} name={`${t('filters')}: ${t('status')}`} value={f.status} empty={t('any')} options={STATUSES.map((status) => ({ value: status, label: statusName(status, lang.value) }))} onChange={(value) => setFilter('status', value)} />
            <Choice caption={t('label')} name={`${t('filters')}: ${t('label')}`} value={f.label} empty={t('any')} options={dir.labels.map(({ name }) => ({ value: name, label: name }))} onChange={(value) => setFilter('label', value)} />
            <Choice caption={t('team')} name={`${t('filters')}: ${t('team')}`} value={f.team_id} empty={t('any')} options={byId(dir.teams)} onChange={(value) => setFilter('team_id', value)} />
            <Choice caption={t('agent')} name={`${t('filters')}: ${t('agent')}`} value={f.agent_id} empty={t('any')} options={byId(dir.agents)} onChange={(value) => setFilter('agent_id', value)} />
            <Choice
              caption={t('botActive')}
              name={`${t('filters')}: ${t('botActive')}`}
              value={f.bot_active}
              empty={t('any')}
              options={[{ value: 'true', label: t('botOn') }, { value: 'false', label: t('botOff') }]}
              onChange={(value) => setFilter('bot_active', value)}
            />
          </div>
        </details>
      </div>
      <ul id="conversation-list" class="rows" aria-label={t('conversations')} aria-busy={listLoading.value}>
        {conversations.value.map((row) => (
          <Row row={row} selected={row.id === openId.value} key={row.id} />
        ))}
      </ul>
      {conversations.value.length === 0 && !listLoading.value && <p class="empty">{t('noConversations')}</p>}
      {nextCursor.value && (
        <button class="link more" onClick={() => void loadMore()}>
          {t('loadMore')}
        </button>
      )}
    </section>
  );
}
