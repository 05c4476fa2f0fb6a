import { useEffect, useRef, useState } from 'preact/hooks';
import { api, del, patch, post, type ConversationDetail, type Message, type Note, type Template } from './api';
import { lang, t } from './i18n';
import { fillTemplate, renderCanned, slashQuery, statusName, statusOptions, templateDefaults, windowClock } from './logic';
import { navigate } from './router';
import { addToTimeline, canned, detail, directory, now, panelOpen, templates } from './store';
import { byId, Choice, ErrorLine, Field, useAction } from './controls';
import { Icon } from './icons';
import { Timeline } from './Timeline';
import { CustomerEditor, NewLabel } from './CustomerEditor';

function TemplatePicker({ conversation, onClose }: { conversation: ConversationDetail; onClose: () => void }) {
  const list = templates.value;
  const [chosen, setChosen] = useState<Template | undefined>(list[0]);
  const [values, setValues] = useState<string[]>(() => (list[0] ? templateDefaults(list[0].variables, conversation) : []));
  const { error, run } = useAction();
  const choose = (id: string) => {
    const template = list.find((candidate) => candidate.id === id);
    setChosen(template);
    setValues(template ? templateDefaults(template.variables, conversation) : []);
  };
  const send = () =>
    run(async () => {
      if (!chosen) return;
      const reply = await post<{ message: Omit<Message, 'kind'> }>(`/conversations/${encodeURIComponent(conversation.id)}/replies/template`, {
        template_id: chosen.id,
        variables: values,
      });
      addToTimeline({ ...reply.message, kind: 'message' } as Message);
      onClose();
    });
  if (list.length === 0) return <p class="hint">{t('noTemplates')}</p>;
  return (
    <div class="template-picker" role="group" aria-label={t('chooseTemplate')}>
      <label>
        {t('chooseTemplate')}
        <select aria-label={t('chooseTemplate')} value={chosen?.id} onChange={(event) => choose(event.currentTarget.value)}>
          {list.map((template) => (
            <option value={template.id} key={template.id}>
              {template.name} ({template.language})
            </option>
          ))}
        </select>
      </label>
      {values.map((value, index) => (
        <label key={index}>
          {t('variable', { n: index + 1 })}
          <input
            dir="auto"
            value={value}
            onInput={(event) => {
              const next = values.slice();
              next[index] = event.currentTarget.value;
              setValues(next);
            }}
          />
        </label>
      ))}
      {chosen && (
        <figure class="template-preview">
          <figcaption>{t('preview')}</figcaption>
          <p dir="auto">{fillTemplate(chosen.body, values)}</p>
          {chosen.footer && <p class="hint">{chosen.footer}</p>}
        </figure>
      )}
      <ErrorLine error={error} />
      <div class="actions">
        <button class="primary" onClick={() => void send()} disabled={!chosen || values.some((value) => value.trim() === '')}>
          {t('sendTemplate')}
        </button>
        <button onClick={onClose}>{t('cancel')}</button>
      </div>
    </div>
  );
}

export function Composer({ conversation }: { conversation: ConversationDetail }) {
  const [draft, setDraft] = useState('');
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [picking, setPicking] = useState(false);
  const [missing, setMissing] = useState<string[]>([]);
  const [choice, setChoice] = useState(0);
  const { error, run } = useAction();
  const input = useRef<HTMLTextAreaElement>(null);
  const file = useRef<HTMLInputElement>(null);
  const clock = windowClock(conversation.window_closes_at, now.value);
  const windowOpen = clock.open;
  const shortcut = mode === 'reply' ? slashQuery(draft) : undefined;
  const matches = shortcut === undefined ? [] : canned.value.filter((response) => response.shortcut.startsWith(shortcut) || response.title.toLowerCase().includes(shortcut)).slice(0, 8);
  const base = `/conversations/${encodeURIComponent(conversation.id)}`;

  useEffect(() => {
    setDraft('');
    setPicking(false);
    setMissing([]);
  }, [conversation.id]);

  const useCanned = (index: number) => {
    const response = matches[index];
    if (!response) return;
    const rendered = renderCanned(response.text, conversation);
    setDraft(rendered.text);
    setMissing(rendered.missing);
    input.current?.focus();
  };

  const send = () =>
    run(async () => {
      const text = draft.trim();
      if (!text) return;
      // Cleared at once, so the next message can be typed; given back if the server refuses it.
      setDraft('');
      setMissing([]);
      try {
        if (mode === 'note') {
          const reply = await post<{ note: Omit<Note, 'kind'> }>(`${base}/notes`, { text });
          addToTimeline({ ...reply.note, kind: 'note' } as Note);
        } else {
          const reply = await post<{ message: Omit<Message, 'kind'> }>(`${base}/replies/text`, { text });
          addToTimeline({ ...reply.message, kind: 'message' } as Message);
        }
      } catch (failure) {
        setDraft((current) => current || text);
        throw failure;
      }
    });

  const attach = (chosen: File) =>
    run(async () => {
      const form = new FormData();
      form.set('file', chosen, chosen.name);
      if (draft.trim()) form.set('caption', draft.trim());
      const reply = await api<{ message: Omit<Message, 'kind'> }>('POST', `${base}/replies/media`, form);
      addToTimeline({ ...reply.message, kind: 'message' } as Message);
      setDraft('');
    });

  const closedForReplies = mode === 'reply' && !windowOpen;
  return (
    <div class={`composer ${mode}`}>
      <div class="composer-modes" role="radiogroup" aria-label={t('replyMode')}>
        <button role="radio" aria-checked={mode === 'reply'} onClick={() => setMode('reply')}>
          {t('replyMode')}
        </button>
        <button role="radio" aria-checked={mode === 'note'} onClick={() => setMode('note')}>
          {t('noteMode')}
        </button>
        <span class={`window ${clock.closingSoon ? 'soon' : ''}`}>{windowOpen ? t('windowOpen', { time: clock.label }) : t('windowClosed')}</span>
      </div>
      {closedForReplies && !picking && (
        <div class="window-closed" role="status">
          <p>{t('windowClosedComposer')}</p>
          <button class="primary" onClick={() => setPicking(true)}>
            {t('templates')}
          </button>
        </div>
      )}
      {picking && <TemplatePicker conversation={conversation} onClose={() => setPicking(false)} />}
      {!closedForReplies && !picking && (
        <>
          {matches.length > 0 && (
            <ul class="canned" role="listbox" aria-label={t('cannedResponses')} id="canned-list">
              {matches.map((response, index) => (
                <li
                  role="option"
                  id={`canned-${response.id}`}
                  aria-selected={index === choice}
                  key={response.id}
                  onMouseDown={(event) => {
                    event.preventDefault();
                    useCanned(index);
                  }}
                >
                  <strong>/{response.shortcut}</strong> {response.title}
                </li>
              ))}
            </ul>
          )}
          {missing.length > 0 && (
            <p class="hint warn" role="status">
              {t('missingValues', { names: missing.join(', ') })}
            </p>
          )}
          <div class="composer-row">
            {mode === 'reply' && (
              <>
                <button class="icon" aria-label={t('attach')} title={t('attach')} onClick={() => file.current?.click()}>
                  <Icon name="clip" />
                </button>
                <input
                  ref={file}
                  type="file"
                  hidden
                  aria-hidden="true"
                  tabIndex={-1}
                  onChange={(event) => {
                    const chosen = event.currentTarget.files?.[0];
                    if (chosen) void attach(chosen);
                    event.currentTarget.value = '';
                  }}
                />
                <button class="icon" aria-label={t('templates')} title={t('templates')} onClick={() => setPicking(true)}>
                  <Icon name="template" />
                </button>
              </>
            )}
            <textarea
              ref={input}
              id="composer"
              rows={1}
              dir="auto"
              aria-label={mode === 'note' ? t('note') : t('message')}
              placeholder={mode === 'note' ? t('noteHint') : `${t('message')} · /`}
              value={draft}
              aria-controls={matches.length > 0 ? 'canned-list' : undefined}
              aria-activedescendant={matches[choice] ? `canned-${matches[choice]!.id}` : undefined}
              onInput={(event) => {
                setDraft(event.currentTarget.value);
                setChoice(0);
              }}
              onKeyDown={(event) => {
                if (matches.length > 0 && (event.key === 'ArrowDown' || event.key === 'ArrowUp') && !event.altKey) {
                  event.preventDefault();
                  setChoice((choice + (event.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length);
                  return;
                }
                if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
                  event.preventDefault();
                  if (matches.length > 0) useCanned(choice);
                  else void send();
                }
              }}
            />
            <button class="primary send" onClick={() => void send()} disabled={!draft.trim()}>
              {mode === 'note' ? t('addNote') : t('send')}
            </button>
          </div>
        </>
      )}
      <ErrorLine error={error} />
    </div>
  );
}


function FieldSection({ title, values }: { title: string; values: Record<string, unknown> }) {
  if (Object.keys(values).length === 0) return null;
  return (
    <section aria-label={title}>
      <h3>{title}</h3>
      <dl class="fields">
        {Object.entries(values).map(([name, value]) => (
          <Field name={name} value={value} key={name} />
        ))}
      </dl>
    </section>
  );
}

export function SidePanel({ conversation }: { conversation: ConversationDetail }) {
  const dir = directory.value;
  const { error, run } = useAction();
  const base = `/conversations/${encodeURIComponent(conversation.id)}`;
  const change = (body: Record<string, unknown>) =>
    run(async () => {
      const reply = await patch<{ conversation: ConversationDetail }>(base, body);
      detail.value = { ...conversation, ...reply.conversation };
    });
  const addLabel = async (label: string) => {
    const reply = await post<{ labels: string[] }>(`${base}/labels`, { label });
    detail.value = { ...conversation, labels: reply.labels };
  };
  const bot = conversation.bot;
  const botName = dir.bots.find((entry) => entry.id === bot.bot)?.name ?? bot.bot ?? '';
  const available = dir.labels.filter((label) => !conversation.labels.includes(label.name));
  return (
    <aside class="side-panel" id="side-panel" aria-label={t('details')}>
      <div class="panel-head">
        <h2 dir="auto">{conversation.name || conversation.phone}</h2>
        <button class="details-toggle icon" aria-label={t('details')} aria-expanded="true" aria-controls="side-panel" onClick={() => (panelOpen.value = false)}>
          <Icon name="close" />
        </button>
      </div>
      <CustomerEditor conversation={conversation} key={conversation.id} />

      <Choice
        class="control"
        caption={t('status')}
        value={conversation.conversation_status}
        options={statusOptions(conversation.conversation_status).map((status) => ({ value: status, label: statusName(status, lang.value) }))}
        onChange={(status) => void change({ status })}
      />
      <Choice class="control" caption={t('assignAgent')} value={conversation.agent?.id ?? ''} empty={t('nobody')} options={byId(dir.agents)} onChange={(id) => void change({ agent_id: id || null })} />
      <Choice class="control" caption={t('assignTeam')} value={conversation.team?.id ?? ''} empty={t('noTeam')} options={byId(dir.teams)} onChange={(id) => void change({ team_id: id || null })} />

      <section aria-label={t('labels')}>
        <h3>{t('labels')}</h3>
        <ul class="chips">
          {conversation.labels.map((label) => (
            <li class="chip" key={label}>
              <span dir="auto">{label}</span>
              <button
                class="chip-remove"
                aria-label={t('removeLabel', { label })}
                onClick={() =>
                  void run(async () => {
                    const reply = await del<{ labels: string[] }>(`${base}/labels/${encodeURIComponent(label)}`);
                    detail.value = { ...conversation, labels: reply.labels };
                  })
                }
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <Choice
          class="control"
          caption={t('addLabel')}
          value=""
          empty="—"
          options={available.map(({ name }) => ({ value: name, label: name }))}
          onChange={(label) => label && void run(() => addLabel(label))}
        />
        <NewLabel onCreated={addLabel} />
      </section>

      <section aria-label={t('bot')}>
        <h3>{t('bot')}</h3>
        {bot.bot === null ? (
          <p class="hint">{t('noBot')}</p>
        ) : (
          <>
            <p>{bot.active ? t('botRunning', { bot: botName }) : t('botPaused', { bot: botName })}</p>
            {bot.active ? (
              <button onClick={() => void run(async () => (detail.value = (await post<{ conversation: ConversationDetail }>(`${base}/bot/take-over`)).conversation))}>{t('takeOver')}</button>
            ) : (
              <button onClick={() => void run(async () => (detail.value = (await post<{ conversation: ConversationDetail }>(`${base}/bot/hand-back`)).conversation))}>{t('returnToBot')}</button>
            )}
          </>
        )}
      </section>

      <FieldSection title={t('attribution')} values={conversation.attribution} />
      <ErrorLine error={error} />
    </aside>
  );
}

export function ConversationView() {
  const conversation = detail.value;
  if (!conversation) return <section class="conversation empty-state" aria-busy="true" />;
  const title = conversation.name || conversation.phone;
  return (
    <section class="conversation" aria-label={title}>
      <header class="conversation-head">
        <button class="icon back" aria-label={t('back')} onClick={() => navigate('/app')}>
          <span class="flip">
            <Icon name="back" />
          </span>
        </button>
        <div>
          <h2 dir="auto">{title}</h2>
          <p class="hint">
            <bdi>{conversation.phone}</bdi> · {statusName(conversation.conversation_status, lang.value)}
            {conversation.agent ? ` · ${conversation.agent.name}` : ''}
          </p>
        </div>
        <button class="details-toggle" aria-expanded={panelOpen.value} aria-controls="side-panel" onClick={() => (panelOpen.value = !panelOpen.value)}>
          {t('details')}
        </button>
        <button class="icon close" aria-label={t('closeConversation')} title={t('closeConversation')} onClick={() => navigate('/app')}>
          <Icon name="close" />
        </button>
      </header>
      <Timeline label={title} />
      <Composer conversation={conversation} />
    </section>
  );
}
