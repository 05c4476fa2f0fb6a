import { useState } from 'preact/hooks';
import { del, get, patch, post, type CannedResponse, type Person, type Team } from './api';
import { ErrorLine, useAction, useLoad } from './controls';
import { t } from './i18n';
import { navigate } from './router';
import { loadReferenceData, user } from './store';
import { Bots } from './AdminBots';
import { Campaigns } from './AdminCampaigns';
import { AiSettingsScreen } from './AdminAi';
import { ApiKeys, Templates, Webhooks, WhatsApp } from './AdminIntegrations';

const SECTIONS = ['people', 'teams', 'canned', 'bots', 'campaigns', 'ai', 'api-keys', 'webhooks', 'whatsapp', 'templates', 'settings'] as const;


function People() {
  const [people, reload] = useLoad(() => get<{ people: Person[] }>('/admin/people').then((reply) => reply.people));
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('agent');
  const [link, setLink] = useState('');
  const { error, run: act } = useAction(() => {
    reload();
    void loadReferenceData();
  });
  return (
    <section aria-labelledby="people-title">
      <h2 id="people-title">{t('people')}</h2>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void act(async () => {
            const reply = await post<{ invite_url?: string }>('/admin/people', { name, email, role });
            setLink(reply.invite_url ?? '');
            setName('');
            setEmail('');
          });
        }}
      >
        <label>
          {t('name')}
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} dir="auto" />
        </label>
        <label>
          {t('email')}
          <input type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          {t('role')}
          <select aria-label={t('role')} value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="agent">agent</option>
            <option value="supervisor">supervisor</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button class="primary">{t('invite')}</button>
      </form>
      {link && (
        <p class="notice" role="status">
          {t('inviteLink', { url: link })}
        </p>
      )}
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('name')}</th>
            <th scope="col">{t('email')}</th>
            <th scope="col">{t('role')}</th>
            <th scope="col">
              <span class="sr-only">{t('settings')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {people?.map((person) => (
            <tr key={person.id} class={person.disabled ? 'disabled' : ''}>
              <td dir="auto">{person.name}</td>
              <td>{person.email}</td>
              <td>
                <select aria-label={`${t('role')}: ${person.name}`} value={person.role} onChange={(e) => void act(() => patch(`/admin/people/${person.id}`, { role: e.currentTarget.value }))}>
                  <option value="agent">agent</option>
                  <option value="supervisor">supervisor</option>
                  <option value="admin">admin</option>
                </select>
              </td>
              <td>
                <div class="row-actions">
                {person.id !== user.value?.id && (
                  <button onClick={() => void act(() => patch(`/admin/people/${person.id}`, { disabled: !person.disabled }))}>{person.disabled ? t('enable') : t('disable')}</button>
                )}
                {person.email && person.id !== user.value?.id && (
                  <button
                    onClick={() =>
                      void act(async () => {
                        const reply = await post<{ invite_url: string }>(`/admin/people/${person.id}/invite`);
                        setLink(reply.invite_url);
                      })
                    }
                  >
                    {t('newInvitation')}
                  </button>
                )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Teams() {
  const [teams, reload] = useLoad(() => get<{ teams: Team[] }>('/admin/teams').then((reply) => reply.teams));
  const [people] = useLoad(() => get<{ people: Person[] }>('/admin/people').then((reply) => reply.people));
  const { error, run: act } = useAction(reload);
  const [teamName, setTeamName] = useState('');
  const nameOf = (id: string) => people?.find((person) => person.id === id)?.name ?? id;
  return (
    <section aria-labelledby="teams-title">
      <h2 id="teams-title">{t('teams')}</h2>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void act(async () => {
            await post('/admin/teams', { name: teamName });
            setTeamName('');
            void loadReferenceData();
          });
        }}
      >
        <label>
          {t('teamName')}
          <input required dir="auto" value={teamName} onInput={(e) => setTeamName(e.currentTarget.value)} />
        </label>
        <button class="primary">{t('addTeam')}</button>
      </form>
      <ErrorLine error={error} />
      {teams?.map((team) => (
        <article class="card" key={team.id}>
          <h3 dir="auto">{team.name}</h3>
          <ul class="chips">
            {(team.member_ids ?? []).map((id) => (
              <li class="chip" key={id}>
                <span dir="auto">{nameOf(id)}</span>
                <button class="chip-remove" aria-label={`${t('delete')} ${nameOf(id)}`} onClick={() => void act(() => del(`/admin/teams/${team.id}/members/${id}`))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <label>
            {t('addMember')}
            <select
              aria-label={`${t('addMember')}: ${team.name}`}
              value=""
              onChange={(e) => {
                const id = e.currentTarget.value;
                if (id) void act(() => post(`/admin/teams/${team.id}/members`, { agent_id: id }));
              }}
            >
              <option value="">—</option>
              {people
                ?.filter((person) => !(team.member_ids ?? []).includes(person.id))
                .map((person) => (
                  <option value={person.id} key={person.id}>
                    {person.name}
                  </option>
                ))}
            </select>
          </label>
        </article>
      ))}
    </section>
  );
}

function Canned() {
  const [responses, reload] = useLoad(() => get<{ canned_responses: CannedResponse[] }>('/canned-responses').then((reply) => reply.canned_responses));
  const [shortcut, setShortcut] = useState('');
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const { error, run: act } = useAction(() => {
    reload();
    void loadReferenceData();
  });
  return (
    <section aria-labelledby="canned-title">
      <h2 id="canned-title">{t('cannedResponses')}</h2>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void act(async () => {
            await post('/canned-responses', { shortcut, title, text });
            setShortcut('');
            setTitle('');
            setText('');
          });
        }}
      >
        <label>
          {t('shortcut')}
          <input required value={shortcut} onInput={(e) => setShortcut(e.currentTarget.value)} dir="auto" />
        </label>
        <label>
          {t('title')}
          <input required value={title} onInput={(e) => setTitle(e.currentTarget.value)} dir="auto" />
        </label>
        <label class="wide">
          {t('text')}
          <textarea required value={text} onInput={(e) => setText(e.currentTarget.value)} dir="auto" placeholder="Hi {{customer.name}}, …" />
        </label>
        <button class="primary">{t('create')}</button>
      </form>
      <ErrorLine error={error} />
      <ul class="plain">
        {responses?.map((response) => (
          <li key={response.id} class="card">
            <strong>/{response.shortcut}</strong> <span dir="auto">{response.title}</span>
            <p dir="auto">{response.text}</p>
            <button onClick={() => void act(() => del(`/canned-responses/${response.id}`))}>
              {t('delete')} /{response.shortcut}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Settings() {
  const [settings, reload] = useLoad(() => get<{ settings: { name: string; hide_unassigned: boolean } }>('/admin/settings').then((reply) => reply.settings));
  const { error, run } = useAction(reload);
  if (!settings) return null;
  const change = (body: Record<string, unknown>) => run(() => patch('/admin/settings', body));
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">{t('settings')}</h2>
      <label>
        {t('accountName')}
        <input dir="auto" value={settings.name} onChange={(e) => void change({ name: e.currentTarget.value })} />
      </label>
      <label class="check">
        <input type="checkbox" checked={settings.hide_unassigned} onChange={(e) => void change({ hide_unassigned: e.currentTarget.checked })} />
        {t('hideUnassigned')}
      </label>
      <ErrorLine error={error} />
    </section>
  );
}

const NAMES: Record<(typeof SECTIONS)[number], () => string> = {
  people: () => t('people'),
  teams: () => t('teams'),
  canned: () => t('cannedResponses'),
  bots: () => t('bots'),
  campaigns: () => t('campaigns'),
  ai: () => t('aiSettings'),
  'api-keys': () => t('apiKeys'),
  webhooks: () => t('webhooks'),
  whatsapp: () => t('whatsapp'),
  templates: () => t('templates'),
  settings: () => t('settings'),
};

export function Admin({ section }: { section: string }) {
  if (user.value?.role !== 'admin') return <main class="admin"><p>403</p></main>;
  const current = (SECTIONS as readonly string[]).includes(section) ? (section as (typeof SECTIONS)[number]) : 'people';
  return (
    <main class="admin" id="main">
      <nav aria-label={t('admin')} class="admin-nav">
        {SECTIONS.map((name) => (
          <a
            key={name}
            href={`/app/admin/${name}`}
            aria-current={name === current ? 'page' : undefined}
            onClick={(event) => {
              event.preventDefault();
              navigate(`/app/admin/${name}`);
            }}
          >
            {NAMES[name]()}
          </a>
        ))}
      </nav>
      <div class="admin-body">
        {current === 'people' && <People />}
        {current === 'teams' && <Teams />}
        {current === 'canned' && <Canned />}
        {current === 'settings' && <Settings />}
        {current === 'bots' && <Bots />}
        {current === 'campaigns' && <Campaigns />}
        {current === 'ai' && <AiSettingsScreen />}
        {current === 'api-keys' && <ApiKeys />}
        {current === 'webhooks' && <Webhooks />}
        {current === 'whatsapp' && <WhatsApp />}
        {current === 'templates' && <Templates />}
      </div>
    </main>
  );
}
