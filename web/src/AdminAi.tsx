import { useEffect, useState } from 'preact/hooks';
import type { operations } from '../../packages/client/src/schema';
import { ApiFailure, api, del, get } from './api';
import { byId, Choice, ErrorLine, useAction } from './controls';
import { t } from './i18n';
import { directory } from './store';

/** GET/PUT/DELETE /app/api/admin/ai (docs/ai.md): the settings as shown, never the key. */
type AiSettings = operations['app_get_admin_ai']['responses'][200]['content']['application/json']['ai'];

/** Copies of the server's bounds and default hand-over phrases (src/modules/ai/ai.schema.ts): test/browser/ai-settings.test.ts checks they agree. */
const KNOWLEDGE_MAX = 200_000;
const INSTRUCTIONS_MAX = 8_000;
const DEFAULT_HANDOFF_PHRASES = ['human', 'a person', 'real person', 'an agent', 'representative', 'talk to someone', 'נציג', 'נציגה', 'בן אדם', 'אדם אמיתי', 'נציג אנושי'];

interface Form {
  base_url: string;
  api_key: string;
  remove_key: boolean;
  model: string;
  instructions: string;
  knowledge: string;
  handoff_team_id: string;
  max_replies: string;
  temperature: string;
  phrases: string;
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((item, index) => item === b[index]);

/** The form for stored settings (or an empty one): the key field always starts empty; the default phrases show as the placeholder. */
function toForm(settings: AiSettings | null): Form {
  const phrases = settings?.handoff_phrases ?? [];
  return {
    base_url: settings?.base_url ?? '',
    api_key: '',
    remove_key: false,
    model: settings?.model ?? '',
    instructions: settings?.instructions ?? '',
    knowledge: settings?.knowledge ?? '',
    handoff_team_id: settings?.handoff_team_id ?? '',
    max_replies: String(settings?.max_replies_per_conversation ?? 20),
    temperature: settings?.temperature === null || settings?.temperature === undefined ? '' : String(settings.temperature),
    phrases: sameList(phrases, DEFAULT_HANDOFF_PHRASES) ? '' : phrases.join('\n'),
  };
}

/** The PUT body: empty means "not set"; `api_key` is left out to keep the stored key, or null to remove it. */
function toBody(form: Form): Record<string, unknown> {
  const phrases = form.phrases.split('\n').map((line) => line.trim()).filter(Boolean);
  return {
    base_url: form.base_url.trim() || null,
    ...(form.remove_key ? { api_key: null } : form.api_key && { api_key: form.api_key }),
    model: form.model.trim() || null,
    instructions: form.instructions,
    knowledge: form.knowledge,
    handoff_team_id: form.handoff_team_id || null,
    max_replies_per_conversation: Number(form.max_replies),
    temperature: form.temperature.trim() === '' ? null : Number(form.temperature),
    handoff_phrases: phrases.length > 0 ? phrases : null,
  };
}

export function AiSettingsScreen() {
  /** undefined while loading, null when the account has no settings of its own (404). */
  const [stored, setStored] = useState<AiSettings | null>();
  const [form, setForm] = useState<Form>(toForm(null));
  const [done, setDone] = useState('');
  const { error, run } = useAction();
  const show = (settings: AiSettings | null) => {
    setStored(settings);
    setForm(toForm(settings));
  };
  useEffect(() => {
    void run(() =>
      get<{ ai: AiSettings }>('/admin/ai').then(
        (reply) => show(reply.ai),
        (failure: unknown) => {
          if (failure instanceof ApiFailure && failure.status === 404) return show(null);
          throw failure;
        },
      ),
    );
  }, []);
  if (stored === undefined) return <ErrorLine error={error} />;

  const set = (field: keyof Form) => (event: { currentTarget: { value: string } }) => setForm({ ...form, [field]: event.currentTarget.value });
  const teams = directory.value.teams;
  return (
    <section aria-labelledby="ai-title">
      <h2 id="ai-title">{t('aiSettings')}</h2>
      {stored === null && (
        <p class="notice" role="status">
          {t('aiNotConfigured')}
        </p>
      )}
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          setDone('');
          void run(async () => {
            show((await api<{ ai: AiSettings }>('PUT', '/admin/ai', toBody(form))).ai);
            setDone(t('aiSaved'));
          });
        }}
      >
        <p class="hint wide">{t('aiIntro')}</p>
        <label class="wide">
          {t('aiBaseUrl')}
          <input type="url" dir="ltr" value={form.base_url} onInput={set('base_url')} placeholder="https://api.openai.com/v1" />
        </label>
        <label>
          {t('aiModel')}
          <input dir="ltr" value={form.model} onInput={set('model')} placeholder="gpt-4o-mini" />
        </label>
        <label>
          {t('aiApiKey')}
          <input
            type="password"
            dir="ltr"
            autocomplete="new-password"
            aria-describedby="ai-key-state"
            disabled={form.remove_key}
            value={form.api_key}
            onInput={set('api_key')}
          />
        </label>
        <p class="hint wide" id="ai-key-state">
          {stored?.has_api_key ? t('aiKeyStored') : t('aiNoKey')}
        </p>
        {stored?.has_api_key && (
          <label class="check wide">
            <input type="checkbox" checked={form.remove_key} onChange={(event) => setForm({ ...form, remove_key: event.currentTarget.checked, api_key: '' })} />
            {t('aiRemoveKey')}
          </label>
        )}
        <label class="wide">
          {t('aiInstructions')}
          <textarea dir="auto" rows={4} maxLength={INSTRUCTIONS_MAX} value={form.instructions} onInput={set('instructions')} />
        </label>
        <label class="wide">
          {t('aiKnowledge')}
          <textarea dir="auto" rows={8} maxLength={KNOWLEDGE_MAX} aria-describedby="ai-knowledge-count" value={form.knowledge} onInput={set('knowledge')} />
        </label>
        <p class={`hint wide${form.knowledge.length > KNOWLEDGE_MAX * 0.9 ? ' warn' : ''}`} id="ai-knowledge-count">
          {t('aiKnowledgeCount', { n: form.knowledge.length.toLocaleString(), max: KNOWLEDGE_MAX.toLocaleString() })}
        </p>
        <Choice caption={t('aiHandoffTeam')} value={form.handoff_team_id} empty={t('none')} options={byId(teams)} onChange={(value) => setForm({ ...form, handoff_team_id: value })} />
        <label>
          {t('aiMaxReplies')}
          <input type="number" required min={1} max={1000} step={1} value={form.max_replies} onInput={set('max_replies')} />
        </label>
        <label>
          {t('aiTemperature')}
          <input type="number" min={0} max={2} step={0.1} value={form.temperature} onInput={set('temperature')} placeholder={t('aiModelDefault')} />
        </label>
        <label class="wide">
          {t('aiHandoffPhrases')}
          <textarea dir="auto" rows={4} aria-describedby="ai-phrases-hint" value={form.phrases} onInput={set('phrases')} placeholder={DEFAULT_HANDOFF_PHRASES.join('\n')} />
        </label>
        <p class="hint wide" id="ai-phrases-hint">
          {t('aiHandoffPhrasesHint')}
        </p>
        <div class="row-actions wide">
          <button class="primary">{t('save')}</button>
          {stored && (
            <button
              type="button"
              onClick={() => {
                setDone('');
                void run(async () => {
                  await del('/admin/ai');
                  show(null);
                  setDone(t('aiRemoved'));
                });
              }}
            >
              {t('aiRemoveSettings')}
            </button>
          )}
        </div>
      </form>
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      <ErrorLine error={error} />
    </section>
  );
}
