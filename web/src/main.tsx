import { effect } from '@preact/signals';
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { del, get, patch, whenSignedOut, type User } from './api';
import { Admin } from './Admin';
import { ConversationView, SidePanel } from './Conversation';
import { applyLang, lang, setLang, t } from './i18n';
import { ConversationList } from './List';
import { Invitation, Login } from './Login';
import { conversationPath, navigate, path, routeOf } from './router';
import { panelOpen, connectLive, conversations, detail, disconnectLive, liveState, loadReferenceData, openConversation, openId, user, whenCustomerWrites } from './store';
import './styles.css';

applyLang();

whenSignedOut(() => {
  user.value = null;
});

/** Background tabs: the title counts messages that came in, and a notification says who wrote (when permitted). */
let missed = 0;
whenCustomerWrites((row, text) => {
  if (document.visibilityState === 'visible') return;
  missed += 1;
  document.title = `(${missed}) openmumble`;
  if ('Notification' in window && Notification.permission === 'granted') {
    const notification = new Notification(t('newMessageFrom', { name: row?.name || row?.phone || '' }), { body: text, tag: row?.id, lang: lang.value });
    notification.onclick = () => {
      window.focus();
      if (row) navigate(conversationPath(row.id));
    };
  }
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') {
    missed = 0;
    document.title = 'openmumble';
  }
});

function askForNotifications() {
  if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission().catch(() => {});
}

/** Alt+↑/↓ moves between conversations, Alt+M (or /) focuses the composer, Esc closes the conversation. */
function onKey(event: KeyboardEvent) {
  const target = event.target as HTMLElement;
  const typing = target.matches('input, textarea, select');
  if (event.altKey && (event.key === 'ArrowDown' || event.key === 'ArrowUp')) {
    event.preventDefault();
    const rows = conversations.value;
    if (rows.length === 0) return;
    // From the address, not openId: the conversation opens a moment after the address changes.
    const current = routeOf(path.value);
    const index = current.page === 'inbox' ? rows.findIndex((row) => row.id === current.conversation) : -1;
    const next = event.key === 'ArrowDown' ? Math.min(rows.length - 1, index + 1) : Math.max(0, index - 1);
    navigate(conversationPath(rows[index === -1 ? 0 : next]!.id));
    return;
  }
  if ((event.altKey && event.code === 'KeyM') || (event.key === '/' && !typing)) {
    const composer = document.getElementById('composer');
    if (composer) {
      event.preventDefault();
      composer.focus();
    }
    return;
  }
  if (event.key === 'Escape' && openId.value && !target.closest('.canned, .template-picker')) {
    navigate('/app');
  }
}

document.addEventListener('keydown', (event) => {
  if (user.value) onKey(event);
});

/** The language follows the person: shown at once, then kept on them for every browser they use. */
async function chooseLang(next: 'en' | 'he') {
  setLang(next);
  const reply = await patch<{ user: User }>('/me', { language: next }).catch(() => undefined);
  if (reply && user.value?.id === reply.user.id) user.value = reply.user;
}

function Header() {
  const me = user.value!;
  const route = routeOf(path.value);
  return (
    <header class="top">
      <a class="brand" href="/app" onClick={(event) => (event.preventDefault(), navigate('/app'))}>
        openmumble
      </a>
      <nav aria-label={t('appName')} class="top-nav">
        <a href="/app" aria-current={route.page === 'inbox' ? 'page' : undefined} onClick={(event) => (event.preventDefault(), navigate('/app'))}>
          {t('inbox')}
        </a>
        {me.role === 'admin' && (
          <a href="/app/admin/people" aria-current={route.page === 'admin' ? 'page' : undefined} onClick={(event) => (event.preventDefault(), navigate('/app/admin/people'))}>
            {t('admin')}
          </a>
        )}
      </nav>
      {liveState.value !== 'live' && <span class="live-state" role="status">{t('reconnecting')}</span>}
      <span class="me">
        <bdi>{me.name}</bdi>
        <span class="hint"> · {me.account.name}</span>
      </span>
      <select aria-label={t('language')} value={lang.value} onChange={(event) => void chooseLang(event.currentTarget.value as 'en' | 'he')}>
        <option value="en">English</option>
        <option value="he">עברית</option>
      </select>
      <button
        onClick={async () => {
          await del('/session').catch(() => {});
          disconnectLive();
          user.value = null;
        }}
      >
        {t('signOut')}
      </button>
    </header>
  );
}

function Inbox({ conversation }: { conversation: string | null }) {
  useEffect(() => {
    void openConversation(conversation).catch(() => navigate('/app', true));
  }, [conversation]);
  const open = detail.value;
  return (
    <main id="main" class={`inbox ${conversation ? 'has-conversation' : 'no-conversation'}${panelOpen.value ? ' panel-open' : ''}`}>
      <ConversationList />
      {conversation ? (
        <ConversationView />
      ) : (
        <section class="conversation placeholder">
          <p>{t('pickConversation')}</p>
          <p class="hint">{t('keyboardHelp')}</p>
        </section>
      )}
      {conversation && open && <SidePanel conversation={open} />}
    </main>
  );
}

function App() {
  const route = routeOf(path.value);
  const me = user.value;
  useEffect(() => {
    get<{ user: User }>('/me').then(
      (reply) => (user.value = reply.user),
      () => (user.value = null),
    );
  }, []);
  useEffect(() => {
    if (me?.language) setLang(me.language);
  }, [me?.id, me?.language]);
  useEffect(() => {
    if (!me) return;
    void loadReferenceData();
    connectLive();
    return () => disconnectLive();
  }, [me?.id]);
  useEffect(() => {
    if (me === null && route.page !== 'login' && route.page !== 'invite') navigate('/app/login', true);
    if (me && route.page === 'login') navigate('/app', true);
  }, [me, route.page]);
  if (route.page === 'invite') return <Invitation token={route.token} />;
  if (me === undefined) return <div class="loading" aria-busy="true" />;
  if (me === null || route.page === 'login') return <Login />;
  return (
    <div class="shell" onClick={askForNotifications}>
      <a class="skip" href="#main">
        {t('conversations')}
      </a>
      <Header />
      {route.page === 'admin' ? <Admin section={route.section} /> : <Inbox conversation={route.conversation} />}
    </div>
  );
}

effect(() => {
  // Re-read on language change: the whole UI's words and direction follow.
  void lang.value;
  applyLang();
});

render(<App />, document.getElementById('root')!);
