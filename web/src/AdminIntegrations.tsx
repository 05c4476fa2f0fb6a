import { useState } from 'preact/hooks';
import { del, get, post, type ApiKey, type Channel, type Delivery, type TemplateRow, type Webhook } from './api';
import { ErrorLine, useAction, useLoad } from './controls';
import { t } from './i18n';

const when = (at: string | null) => (at ? new Date(at.endsWith('Z') ? at : `${at}Z`).toLocaleString() : t('never'));


export function ApiKeys() {
  const [keys, reload] = useLoad(() => get<{ api_keys: ApiKey[] }>('/admin/api-keys').then((reply) => reply.api_keys));
  const [name, setName] = useState('');
  const [shown, setShown] = useState('');
  const { error, run } = useAction(reload);
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">{t('apiKeys')}</h2>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            const reply = await post<{ api_key: { key: string } }>('/admin/api-keys', { name });
            setShown(reply.api_key.key);
            setName('');
          });
        }}
      >
        <label>
          {t('keyName')}
          <input required dir="auto" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button class="primary">{t('createKey')}</button>
      </form>
      {shown && <ShownOnce text={t('keyShownOnce', { key: '' })} secret={shown} />}
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('name')}</th>
            <th scope="col">{t('keyName')}</th>
            <th scope="col">{t('created')}</th>
            <th scope="col">{t('lastUsed')}</th>
            <th scope="col">
              <span class="sr-only">{t('revoke')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys?.map((key) => (
            <tr key={key.id} class={key.revoked_at ? 'disabled' : ''}>
              <td dir="auto">{key.name}</td>
              <td>
                <code>{key.prefix}…</code>
              </td>
              <td>{when(key.created_at)}</td>
              <td>{when(key.last_used_at)}</td>
              <td>
                {key.revoked_at ? (
                  t('revoked')
                ) : (
                  <button aria-label={t('revokeKey', { name: key.name })} onClick={() => void run(() => del(`/admin/api-keys/${key.id}`))}>
                    {t('revoke')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}


function Deliveries({ webhook }: { webhook: Webhook }) {
  const [page] = useLoad(() => get<{ deliveries: Delivery[]; total: number }>(`/admin/webhooks/${webhook.id}/deliveries`));
  if (!page) return null;
  if (page.deliveries.length === 0) return <p class="hint">{t('noDeliveries')}</p>;
  return (
    <table aria-label={t('showDeliveries', { url: webhook.url })}>
      <thead>
        <tr>
          <th scope="col">{t('events')}</th>
          <th scope="col">{t('status')}</th>
          <th scope="col">{t('created')}</th>
          <th scope="col">{t('attempts')}</th>
        </tr>
      </thead>
      <tbody>
        {page.deliveries.map((delivery) => (
          <tr key={delivery.id}>
            <td>{delivery.event_type}</td>
            <td>{delivery.status}</td>
            <td>{when(delivery.created_at)}</td>
            <td>
              {delivery.attempts.map((attempt) => `#${attempt.number} ${attempt.response_status ?? attempt.error ?? ''} (${attempt.duration_ms} ms)`).join(' · ') ||
                '—'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Webhooks() {
  const [webhooks, reload] = useLoad(() => get<{ webhooks: Webhook[] }>('/admin/webhooks').then((reply) => reply.webhooks));
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [secret, setSecret] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const { error, run } = useAction(reload);
  return (
    <section aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">{t('webhooks')}</h2>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            const reply = await post<{ webhook: { secret: string } }>('/admin/webhooks', { url, ...(events.trim() && { events: events.trim() }) });
            setSecret(reply.webhook.secret);
            setUrl('');
            setEvents('');
          });
        }}
      >
        <label>
          {t('webhookUrl')}
          <input required type="url" dir="ltr" value={url} onInput={(e) => setUrl(e.currentTarget.value)} placeholder="https://example.com/hooks" />
        </label>
        <label>
          {t('events')}
          <input dir="ltr" value={events} onInput={(e) => setEvents(e.currentTarget.value)} placeholder={t('allEvents')} />
        </label>
        <button class="primary">{t('addWebhook')}</button>
      </form>
      {secret && <ShownOnce text={t('webhookSecret', { secret: '' })} secret={secret} />}
      <ErrorLine error={error} />
      <ul class="plain">
        {webhooks?.map((webhook) => (
          <li class="card" key={webhook.id}>
            <p>
              <code dir="ltr">{webhook.url}</code> · <strong>{webhook.status}</strong>
            </p>
            <p class="hint">
              {t('events')}: {webhook.events.join(', ')}
              {webhook.disabled_reason ? ` · ${webhook.disabled_reason}` : ''}
            </p>
            <div class="row-actions">
              <button aria-expanded={open === webhook.id} aria-label={t('showDeliveries', { url: webhook.url })} onClick={() => setOpen(open === webhook.id ? null : webhook.id)}>
                {t('deliveries')}
              </button>
              <button aria-label={t('removeWebhook', { url: webhook.url })} onClick={() => void run(() => del(`/admin/webhooks/${webhook.id}`))}>
                {t('delete')}
              </button>
            </div>
            {open === webhook.id && <Deliveries webhook={webhook} />}
          </li>
        ))}
      </ul>
    </section>
  );
}



export function WhatsApp() {
  const [channel] = useLoad(() => get<{ channel: Channel }>('/admin/whatsapp').then((reply) => reply.channel));
  return (
    <section aria-labelledby="whatsapp-title">
      <h2 id="whatsapp-title">{t('whatsapp')}</h2>
      <h3>{t('connection')}</h3>
      {channel?.type === 'sandbox' && <p class="notice">{t('sandboxChannel')}</p>}
      {channel?.type === 'cloud_api' && (
        <dl class="fields">
          <dt>{t('status')}</dt>
          <dd class={channel.status === 'connected' ? '' : 'error'}>
            {channel.status === 'connected' ? t('connected') : t('disconnected')}
            {channel.status_reason ? `: ${channel.status_reason}` : ''}
          </dd>
          <dt>{t('displayNumber')}</dt>
          <dd dir="ltr">{channel.display_phone_number}</dd>
          <dt>{t('phoneNumberId')}</dt>
          <dd>{channel.phone_number_id}</dd>
          <dt>{t('wabaId')}</dt>
          <dd>{channel.waba_id}</dd>
          <dt>{t('since')}</dt>
          <dd>{when(channel.status_changed_at)}</dd>
        </dl>
      )}
    </section>
  );
}

export function Templates() {
  const [list, reload] = useLoad(() => get<{ templates: TemplateRow[] }>('/admin/templates').then((reply) => reply.templates));
  const [form, setForm] = useState({ name: '', language: 'en_US', category: 'UTILITY', body: '', examples: '', footer: '' });
  const [created, setCreated] = useState('');
  const { error, run } = useAction(reload);
  const set = (field: keyof typeof form) => (e: { currentTarget: { value: string } }) => setForm({ ...form, [field]: e.currentTarget.value });
  return (
    <section aria-labelledby="templates-title">
      <h2 id="templates-title">{t('templates')}</h2>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            const examples = form.examples.split('\n').map((line) => line.trim()).filter(Boolean);
            const reply = await post<{ template: { status: string } }>('/admin/templates', {
              name: form.name,
              language: form.language,
              category: form.category,
              body: form.body,
              ...(examples.length > 0 && { body_examples: examples }),
              ...(form.footer && { footer: form.footer }),
            });
            setCreated(t('templateCreated', { status: reply.template.status }));
            setForm({ ...form, name: '', body: '', examples: '', footer: '' });
          });
        }}
      >
        <p class="hint wide">{t('templateRules')}</p>
        <label>
          {t('templateName')}
          <input required dir="ltr" pattern="[a-z0-9_]+" value={form.name} onInput={set('name')} />
        </label>
        <label>
          {t('templateLanguage')}
          <input required dir="ltr" value={form.language} onInput={set('language')} />
        </label>
        <label>
          {t('category')}
          <select aria-label={t('category')} value={form.category} onChange={set('category')}>
            <option value="UTILITY">UTILITY</option>
            <option value="MARKETING">MARKETING</option>
            <option value="AUTHENTICATION">AUTHENTICATION</option>
          </select>
        </label>
        <label class="wide">
          {t('body')}
          <textarea required dir="auto" value={form.body} onInput={set('body')} placeholder="Hi {{1}}, your order {{2}} is ready." />
        </label>
        <label class="wide">
          {t('bodyExamples')}
          <textarea dir="auto" rows={2} value={form.examples} onInput={set('examples')} />
        </label>
        <label>
          {t('footer')}
          <input dir="auto" maxLength={60} value={form.footer} onInput={set('footer')} />
        </label>
        <button class="primary">{t('createTemplate')}</button>
      </form>
      {created && (
        <p class="notice" role="status">
          {created}
        </p>
      )}
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('name')}</th>
            <th scope="col">{t('templateLanguage')}</th>
            <th scope="col">{t('category')}</th>
            <th scope="col">{t('status')}</th>
            <th scope="col">{t('body')}</th>
          </tr>
        </thead>
        <tbody>
          {list?.map((template) => (
            <tr key={template.id}>
              <td dir="ltr">{template.name}</td>
              <td>{template.language}</td>
              <td>{template.category}</td>
              <td>
                <span class={`badge status-${template.status.toLowerCase()}`}>{template.status}</span>
              </td>
              <td dir="auto">{template.body}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** A secret the server shows this once (a new API key, a webhook's signing secret), announced to screen readers. */
function ShownOnce({ text, secret }: { text: string; secret: string }) {
  return (
    <p class="notice" role="status">
      {text}
      <code class="secret">{secret}</code>
    </p>
  );
}
