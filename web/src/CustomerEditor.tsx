import { useState } from 'preact/hooks';
import { patch, post, type ConversationDetail, type Directory } from './api';
import { ErrorLine, Field, useAction } from './controls';
import { t } from './i18n';
import { customFieldValue, customFieldText } from './logic';
import { detail, directory } from './store';

type Row = { name: string; value: string };

/**
 * The customer's name, email and custom fields as a form (edit-customer's rules: at most 15
 * custom field names in the account, an emptied or removed field is removed). Read-only until
 * Edit is pressed, so a glance at the panel never changes anything.
 */
export function CustomerEditor({ conversation }: { conversation: ConversationDetail }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [rows, setRows] = useState<Row[]>([]);
  const { error, run } = useAction(() => setEditing(false));
  const fields = conversation.custom_fields as Record<string, string | number | boolean | null>;

  const open = () => {
    setName(conversation.name ?? '');
    setEmail(conversation.email ?? '');
    setRows(Object.entries(fields).map(([field, value]) => ({ name: field, value: customFieldText(value) })));
    setEditing(true);
  };
  const setRow = (index: number, change: Partial<Row>) => setRows(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));

  if (!editing) {
    return (
      <section aria-label={t('customer')}>
        <dl class="fields">
          <Field name={t('name')} value={conversation.name} />
          <Field name={t('phone')} value={conversation.phone} />
          <Field name={t('email')} value={conversation.email} />
          <Field name={t('country')} value={conversation.country} />
          <Field name={t('source')} value={conversation.source} />
        </dl>
        {Object.keys(fields).length > 0 && (
          <>
            <h3>{t('customFields')}</h3>
            <dl class="fields">
              {Object.entries(fields).map(([field, value]) => (
                <Field name={field} value={value} key={field} />
              ))}
            </dl>
          </>
        )}
        <button onClick={open}>{t('editCustomer')}</button>
      </section>
    );
  }

  const save = () =>
    run(async () => {
      const custom: Record<string, string | number | boolean | null> = {};
      const kept = new Set<string>();
      for (const row of rows) {
        const field = row.name.trim();
        if (!field) continue;
        kept.add(field);
        custom[field] = row.value === '' ? null : customFieldValue(row.value, fields[field]);
      }
      for (const field of Object.keys(fields)) if (!kept.has(field)) custom[field] = null;
      const reply = await patch<{ conversation: ConversationDetail }>(`/conversations/${encodeURIComponent(conversation.id)}/customer`, {
        name: name.trim() === '' ? null : name,
        email: email.trim() === '' ? null : email.trim(),
        ...(Object.keys(custom).length > 0 && { custom_fields: custom }),
      });
      detail.value = { ...conversation, ...reply.conversation };
    });

  return (
    <form
      class="customer-form"
      aria-label={t('editCustomer')}
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <label>
        {t('name')}
        <input dir="auto" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        {t('email')}
        <input type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>{t('customFields')}</legend>
        <p class="hint">{t('customFieldsRule')}</p>
        {rows.map((row, index) => (
          <div class="field-row" key={index}>
            <input aria-label={t('fieldName', { n: index + 1 })} value={row.name} pattern="[A-Za-z_][A-Za-z0-9_]{0,63}" onInput={(e) => setRow(index, { name: e.currentTarget.value })} />
            <input aria-label={row.name ? t('fieldValue', { name: row.name }) : t('fieldValueN', { n: index + 1 })} dir="auto" value={row.value} onInput={(e) => setRow(index, { value: e.currentTarget.value })} />
            <button type="button" class="icon" aria-label={t('removeField', { name: row.name || String(index + 1) })} onClick={() => setRows(rows.filter((_row, i) => i !== index))}>
              ×
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setRows([...rows, { name: '', value: '' }])}>
          {t('addField')}
        </button>
      </fieldset>
      <ErrorLine error={error} />
      <div class="row-actions">
        <button class="primary">{t('save')}</button>
        <button type="button" onClick={() => setEditing(false)}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}


/** "Add label"'s companion: a new label of the account, then added to this conversation. */
export function NewLabel({ onCreated }: { onCreated: (label: string) => Promise<void> }) {
  const [name, setName] = useState('');
  const { error, run } = useAction();
  return (
    <form
      class="new-label"
      onSubmit={(event) => {
        event.preventDefault();
        const label = name.trim();
        if (!label) return;
        void run(async () => {
          const reply = await post<{ labels: Directory['labels'] }>('/labels', { label });
          directory.value = { ...directory.value, labels: reply.labels };
          setName('');
          await onCreated(label);
        });
      }}
    >
      <input aria-label={t('newLabel')} placeholder={t('newLabel')} dir="auto" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <button>{t('createLabel')}</button>
      <ErrorLine error={error} />
    </form>
  );
}
