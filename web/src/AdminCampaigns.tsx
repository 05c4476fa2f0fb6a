import { useEffect, useRef, useState } from 'preact/hooks';
import type { operations } from '../../packages/client/src/schema';
import { get, post, query, type Template } from './api';
import { Choice, ErrorLine, useAction, useLoad } from './controls';
import { t, type Words } from './i18n';
import { directory, loadReferenceData, templates } from './store';

/** The Campaigns screen (docs/campaigns.md): create with a live preview, watch progress, pause or cancel. */

type Json<O extends keyof operations> = operations[O] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;
type Campaign = Json<'app_get_admin_campaigns_id'>['campaign'];
type Counts = NonNullable<Campaign['counts']>;
type RecipientPage = Json<'app_get_admin_campaigns_id_recipients'>;
type Preview = Json<'app_post_admin_campaigns_preview'>;

const COUNTS: (keyof Counts)[] = ['queued', 'sending', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped'];
const RECIPIENT_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'skipped'] as const;
const REFRESH_MS = 3000;

const STATUS_WORDS: Record<Campaign['status'], keyof Words> = {
  scheduled: 'campaignScheduled',
  running: 'campaignRunning',
  paused: 'campaignPaused',
  completed: 'campaignCompleted',
  cancelled: 'campaignCancelled',
};
const COUNT_WORDS: Record<keyof Counts, keyof Words> = {
  queued: 'campaignQueued',
  sending: 'pending',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  replied: 'campaignReplied',
  failed: 'failed',
  skipped: 'campaignSkipped',
};

const statusBadge = (status: Campaign['status']) => <span class={`badge campaign-${status}`}>{t(STATUS_WORDS[status])}</span>;
const when = (at: string | null) => (at ? new Date(at).toLocaleString() : '—');
/** How many URL buttons of the template end in a variable (each needs a value). */
const urlVariables = (template: Template) => template.buttons.filter((button) => button.type === 'URL' && button.url.endsWith('{{1}}')).length;
const lines = (text: string) => text.split(/[\n,]/).map((line) => line.trim()).filter(Boolean);

/** A labelled multiple choice of the account's labels. */
function LabelPicker({ caption, value, onChange }: { caption: string; value: string[]; onChange: (names: string[]) => void }) {
  return (
    <label>
      {caption}
      <select multiple size={4} aria-label={caption} onChange={(event) => onChange([...event.currentTarget.selectedOptions].map((option) => option.value))}>
        {directory.value.labels.map((label) => (
          <option key={label.id} value={label.name} selected={value.includes(label.name)}>
            {label.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function CampaignForm({ onCreated }: { onCreated: (campaign: Campaign) => void }) {
  const approved = templates.value;
  const [name, setName] = useState('');
  const [templateId, setTemplateId] = useState('');
  const [labelsAny, setLabelsAny] = useState<string[]>([]);
  const [labelsAll, setLabelsAll] = useState<string[]>([]);
  const [exclude, setExclude] = useState<string[]>([]);
  const [phones, setPhones] = useState('');
  const [fieldName, setFieldName] = useState('');
  const [fieldValue, setFieldValue] = useState('');
  const [variables, setVariables] = useState<string[]>([]);
  const [buttonVariables, setButtonVariables] = useState<string[]>([]);
  const [rate, setRate] = useState(20);
  const [schedule, setSchedule] = useState('');
  const [preview, setPreview] = useState<Preview | { error: string }>();
  const { error, run } = useAction();
  const seq = useRef(0);

  const template = approved.find((candidate) => candidate.id === templateId);
  const audience = {
    ...(labelsAny.length > 0 && { labels_any: labelsAny }),
    ...(labelsAll.length > 0 && { labels_all: labelsAll }),
    ...(exclude.length > 0 && { exclude_labels: exclude }),
    ...(lines(phones).length > 0 && { phones: lines(phones) }),
    ...(fieldName.trim() && { custom_field: { name: fieldName.trim(), equals: fieldValue } }),
  };
  const hasAudience = Object.keys(audience).length > 0;

  const chooseTemplate = (id: string) => {
    setTemplateId(id);
    const chosen = approved.find((candidate) => candidate.id === id);
    setVariables(Array.from({ length: chosen?.variables ?? 0 }, (_v, i) => (i === 0 ? '{{customer.name|there}}' : '')));
    setButtonVariables(Array.from({ length: chosen ? urlVariables(chosen) : 0 }, () => ''));
  };

  // The preview follows the form: each pause in typing renders it for a sample recipient on the server.
  const previewKey = JSON.stringify([templateId, variables, buttonVariables, hasAudience && audience]);
  useEffect(() => {
    const mine = ++seq.current;
    if (!templateId) return setPreview(undefined);
    const timer = setTimeout(() => {
      post<Preview>('/admin/campaigns/preview', { template_id: templateId, variables, button_variables: buttonVariables, ...(hasAudience && { audience }) }).then(
        (reply) => mine === seq.current && setPreview(reply),
        (failure: Error) => mine === seq.current && setPreview({ error: failure.message }),
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [previewKey]);

  const submit = () =>
    run(async () => {
      const { campaign } = await post<{ campaign: Campaign }>('/admin/campaigns', {
        name,
        template_id: templateId,
        audience,
        variables,
        button_variables: buttonVariables,
        rate_per_second: rate,
        ...(schedule && { scheduled_at: new Date(schedule).toISOString() }),
      });
      setName('');
      onCreated(campaign);
    });

  return (
    <form
      class="card campaign-form"
      aria-labelledby="new-campaign-title"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <h3 id="new-campaign-title">{t('campaignNew')}</h3>
      <div class="inline-form">
        <label>
          {t('campaignName')}
          <input required dir="auto" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <Choice
          caption={t('campaignTemplate')}
          value={templateId}
          empty={t('chooseTemplate')}
          options={approved.map((candidate) => ({ value: candidate.id, label: `${candidate.name} (${candidate.language})` }))}
          onChange={chooseTemplate}
        />
        <label>
          {t('campaignRate')}
          <input type="number" min={1} max={1000} required value={rate} onInput={(e) => setRate(Number(e.currentTarget.value))} />
        </label>
        <label>
          {t('campaignSchedule')}
          <input type="datetime-local" value={schedule} onInput={(e) => setSchedule(e.currentTarget.value)} />
        </label>
      </div>
      {approved.length === 0 && <p class="hint">{t('noTemplates')}</p>}

      <fieldset class="campaign-audience">
        <legend>{t('campaignAudience')}</legend>
        <LabelPicker caption={t('campaignLabelsAny')} value={labelsAny} onChange={setLabelsAny} />
        <LabelPicker caption={t('campaignLabelsAll')} value={labelsAll} onChange={setLabelsAll} />
        <LabelPicker caption={t('campaignExcludeLabels')} value={exclude} onChange={setExclude} />
        <label>
          {t('campaignPhones')}
          <textarea rows={3} dir="ltr" value={phones} onInput={(e) => setPhones(e.currentTarget.value)} />
        </label>
        <div class="campaign-field">
          <label>
            {t('campaignFieldName')}
            <input dir="ltr" value={fieldName} onInput={(e) => setFieldName(e.currentTarget.value)} />
          </label>
          <label>
            {t('campaignFieldEquals')}
            <input dir="auto" value={fieldValue} onInput={(e) => setFieldValue(e.currentTarget.value)} />
          </label>
        </div>
      </fieldset>

      {template && (variables.length > 0 || buttonVariables.length > 0) && (
        <fieldset class="campaign-variables">
          <legend>{t('campaignVariables')}</legend>
          <p class="hint" id="campaign-variables-hint">
            {t('campaignVariablesHint')}
          </p>
          {variables.map((value, index) => (
            <label key={`v${index}`}>
              {t('variable', { n: index + 1 })}
              <input
                dir="auto"
                required
                aria-describedby="campaign-variables-hint"
                value={value}
                onInput={(e) => setVariables(variables.map((old, i) => (i === index ? e.currentTarget.value : old)))}
              />
            </label>
          ))}
          {buttonVariables.map((value, index) => (
            <label key={`b${index}`}>
              {t('campaignButtonVariable', { n: index + 1 })}
              <input dir="ltr" required value={value} onInput={(e) => setButtonVariables(buttonVariables.map((old, i) => (i === index ? e.currentTarget.value : old)))} />
            </label>
          ))}
        </fieldset>
      )}

      {template && (
        <figure class="template-preview campaign-preview" aria-live="polite">
          <figcaption>
            {preview && 'text' in preview
              ? preview.customer
                ? t('campaignPreviewFor', { who: preview.customer.name ? `${preview.customer.name} (${preview.customer.phone})` : preview.customer.phone })
                : t('campaignPreviewNobody')
              : t('preview')}
          </figcaption>
          {preview && 'text' in preview && <p dir="auto">{preview.text}</p>}
          {preview && 'text' in preview && preview.empty.length > 0 && <p class="hint warn">{t('campaignPreviewEmpty', { n: preview.empty.join(', ') })}</p>}
          {preview && 'error' in preview && <p class="hint warn">{preview.error}</p>}
          {template.footer && <p class="hint">{template.footer}</p>}
        </figure>
      )}
      <ErrorLine error={error} />
      <button class="primary" disabled={!template || !hasAudience}>
        {t('campaignCreate')}
      </button>
    </form>
  );
}

function CampaignView({ id, onBack }: { id: string; onBack: () => void }) {
  const [campaign, setCampaign] = useState<Campaign>();
  const [status, setStatus] = useState('');
  const [page, setPage] = useState(1);
  const [recipients, setRecipients] = useState<RecipientPage>();
  const [notice, setNotice] = useState('');
  const [tick, setTick] = useState(0);
  const { error, run } = useAction(() => setTick((n) => n + 1));

  useEffect(() => {
    void get<{ campaign: Campaign }>(`/admin/campaigns/${id}`).then((reply) => setCampaign(reply.campaign));
    void get<RecipientPage>(`/admin/campaigns/${id}/recipients${query({ page, status })}`).then(setRecipients);
  }, [id, page, status, tick]);
  // Counts move while it sends: read again every few seconds until it stops.
  const live = campaign?.status === 'running' || campaign?.status === 'scheduled';
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setTick((n) => n + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, [live]);

  if (!campaign) return null;
  const act = (action: string) =>
    run(async () => {
      const reply = await post<{ campaign: Campaign; requeued?: number }>(`/admin/campaigns/${id}/${action}`);
      setCampaign(reply.campaign);
      setNotice(reply.requeued === undefined ? '' : t('campaignRequeued', { n: reply.requeued }));
    });
  const finished = campaign.status === 'completed' || campaign.status === 'cancelled';
  const counts = campaign.counts;
  return (
    <section aria-labelledby="campaign-title" class="campaign-view">
      <button type="button" class="link" onClick={onBack}>
        {t('campaignBack')}
      </button>
      <h3 id="campaign-title" dir="auto">
        {campaign.name} {statusBadge(campaign.status)}
      </h3>
      <p class="hint">
        {t('campaignSummary', { n: campaign.recipients, rate: campaign.rate_per_second })} · {t('created')}: {when(campaign.created_at)}
        {campaign.scheduled_at && ` · ${t('campaignSchedule')}: ${when(campaign.scheduled_at)}`}
        {live && ` · ${t('campaignLive')}`}
      </p>
      <div class="row-actions">
        <button type="button" disabled={campaign.status !== 'running' && campaign.status !== 'scheduled'} onClick={() => void act('pause')}>
          {t('campaignPause')}
        </button>
        <button type="button" disabled={campaign.status !== 'paused'} onClick={() => void act('resume')}>
          {t('campaignResume')}
        </button>
        <button type="button" disabled={finished} onClick={() => void act('cancel')}>
          {t('campaignCancel')}
        </button>
        <button type="button" disabled={campaign.status === 'cancelled' || !counts?.failed} onClick={() => void act('retry-failed')}>
          {t('campaignRetryFailed')}
        </button>
      </div>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorLine error={error} />
      {counts && (
        <dl class="campaign-counts" aria-label={t('campaignCounts')}>
          {COUNTS.map((key) => (
            <div key={key}>
              <dt>{t(COUNT_WORDS[key])}</dt>
              <dd>{counts[key]}</dd>
            </div>
          ))}
        </dl>
      )}
      <div class="inline-form">
        <Choice
          caption={t('campaignRecipientStatus')}
          value={status}
          empty={t('all')}
          options={RECIPIENT_STATUSES.map((value) => ({ value, label: t(COUNT_WORDS[value]) }))}
          onChange={(value) => {
            setPage(1);
            setStatus(value);
          }}
        />
      </div>
      <table aria-label={t('campaignRecipients')}>
        <thead>
          <tr>
            <th scope="col">{t('phone')}</th>
            <th scope="col">{t('status')}</th>
            <th scope="col">{t('campaignReason')}</th>
          </tr>
        </thead>
        <tbody>
          {recipients?.recipients.map((recipient) => (
            <tr key={recipient.phone}>
              <td dir="ltr" class="phone">
                {recipient.phone}
              </td>
              <td>{t(COUNT_WORDS[recipient.status])}</td>
              <td dir="auto">{recipient.error_title ? `${recipient.error_code ?? ''} ${recipient.error_title}`.trim() : (recipient.reason ?? '')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {recipients && recipients.pages > 1 && (
        <div class="row-actions">
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            {t('campaignPreviousPage')}
          </button>
          <span>{t('campaignPage', { page, pages: recipients.pages })}</span>
          <button type="button" disabled={page >= recipients.pages} onClick={() => setPage(page + 1)}>
            {t('campaignNextPage')}
          </button>
        </div>
      )}
    </section>
  );
}

export function Campaigns() {
  const [campaigns, reload] = useLoad(() => get<{ campaigns: Campaign[] }>('/admin/campaigns').then((reply) => reply.campaigns));
  const [open, setOpen] = useState<string>();
  // The form's labels and approved templates come from the reference data: read them fresh here.
  useEffect(() => void loadReferenceData(), []);
  return (
    <section aria-labelledby="campaigns-title">
      <h2 id="campaigns-title">{t('campaigns')}</h2>
      {open ? (
        <CampaignView
          id={open}
          onBack={() => {
            setOpen(undefined);
            reload();
          }}
        />
      ) : (
        <>
          <CampaignForm
            onCreated={(campaign) => {
              reload();
              setOpen(campaign.id);
            }}
          />
          {campaigns?.length === 0 && <p class="hint">{t('campaignNone')}</p>}
          {campaigns && campaigns.length > 0 && (
            <table aria-label={t('campaigns')}>
              <thead>
                <tr>
                  <th scope="col">{t('name')}</th>
                  <th scope="col">{t('status')}</th>
                  <th scope="col">{t('campaignRecipients')}</th>
                  <th scope="col">{t('created')}</th>
                  <th scope="col">
                    <span class="sr-only">{t('details')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {campaigns.map((campaign) => (
                  <tr key={campaign.id}>
                    <td dir="auto">{campaign.name}</td>
                    <td>{statusBadge(campaign.status)}</td>
                    <td>{campaign.recipients}</td>
                    <td>{when(campaign.created_at)}</td>
                    <td>
                      <button type="button" onClick={() => setOpen(campaign.id)}>
                        {t('campaignOpen', { name: campaign.name })}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
