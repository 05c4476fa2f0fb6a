import { useEffect, useRef, useState } from 'preact/hooks';
import { api, get, patch, post } from './api';
import { ErrorLine, useAction } from './controls';
import { t } from './i18n';
import { layoutFlow } from './logic';

interface Bot {
  id: string;
  name: string;
  version: number;
  flow?: Record<string, unknown> | null;
}

const EXAMPLE = {
  version: 1,
  start: 'greet',
  nodes: [
    { id: 'greet', type: 'message', text: 'Hi {{customer.name}}! How can we help?' },
    { id: 'menu', type: 'buttons', text: 'Choose one', buttons: [{ id: 'human', title: 'Talk to us' }] },
    { id: 'handoff', type: 'handoff', status: 'waiting_for_agent', text: 'Connecting you to a person…' },
  ],
  edges: [
    { from: 'greet', to: 'menu' },
    { from: 'menu', to: 'handoff', on: 'button:human' },
    { from: 'menu', to: 'handoff', on: 'no_match' },
  ],
};

const NODE_W = 130;
const NODE_H = 44;
const GAP_X = 60;
const GAP_Y = 26;

/** The flow drawn as boxes and arrows, by breadth-first depth from `start` (logic.layoutFlow). */
export function FlowPreview({ flow }: { flow: unknown }) {
  const layout = layoutFlow(flow);
  if (layout.nodes.length === 0) return null;
  const at = new Map(layout.nodes.map((node) => [node.id, { x: 10 + node.depth * (NODE_W + GAP_X), y: 10 + node.row * (NODE_H + GAP_Y) }]));
  const width = 20 + layout.columns * (NODE_W + GAP_X) - GAP_X;
  const height = 20 + layout.rows * (NODE_H + GAP_Y) - GAP_Y;
  return (
    <figure class="flow-preview" dir="ltr">
      <figcaption>{t('flowPreview')}</figcaption>
      <svg role="img" aria-label={t('flowPreview')} viewBox={`0 0 ${width} ${height}`} width={width} height={height}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#5b6470" />
          </marker>
        </defs>
        {layout.edges.map((edge, index) => {
          const from = at.get(edge.from)!;
          const to = at.get(edge.to)!;
          const backwards = to.x <= from.x;
          const x1 = from.x + NODE_W;
          const y1 = from.y + NODE_H / 2;
          const x2 = backwards ? to.x + NODE_W / 2 : to.x;
          const y2 = backwards ? to.y + NODE_H : to.y + NODE_H / 2;
          const path = backwards
            ? `M ${x1} ${y1} C ${x1 + 40} ${y1 + 60}, ${x2} ${y2 + 40}, ${x2} ${y2}`
            : `M ${x1} ${y1} C ${x1 + GAP_X / 2} ${y1}, ${x2 - GAP_X / 2} ${y2}, ${x2} ${y2}`;
          return (
            <g key={index} class="flow-edge">
              <path d={path} fill="none" stroke="#8a94a0" stroke-width="1.5" marker-end="url(#arrow)" />
              {edge.on && (
                <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 4} text-anchor="middle" font-size="10" fill="#5b6470">
                  {edge.on}
                </text>
              )}
            </g>
          );
        })}
        {layout.nodes.map((node) => {
          const { x, y } = at.get(node.id)!;
          return (
            <g key={node.id} class={`flow-node${node.reachable ? '' : ' unreachable'}`}>
              <rect x={x} y={y} width={NODE_W} height={NODE_H} rx="8" />
              <text x={x + NODE_W / 2} y={y + 18} text-anchor="middle" font-size="12" font-weight="600">
                {node.id.length > 18 ? `${node.id.slice(0, 17)}…` : node.id}
              </text>
              <text x={x + NODE_W / 2} y={y + 34} text-anchor="middle" font-size="11" fill="#5b6470">
                {node.type}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

type Check = { state: 'idle' } | { state: 'checking' } | { state: 'valid'; text: string } | { state: 'invalid'; text: string };

/** The JSON editor: each pause in typing checks the flow with the server's rules (validate), without saving. */
function FlowEditor({ bot, onSaved }: { bot: Bot; onSaved: () => void }) {
  const [text, setText] = useState(() => JSON.stringify(bot.flow ?? EXAMPLE, null, 2));
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [parsed, setParsed] = useState<unknown>(bot.flow ?? EXAMPLE);
  const [saved, setSaved] = useState('');
  const { error, run } = useAction();
  const seq = useRef(0);

  useEffect(() => {
    const mine = ++seq.current;
    const timer = setTimeout(() => {
      let flow: unknown;
      try {
        flow = JSON.parse(text);
      } catch (failure) {
        setCheck({ state: 'invalid', text: t('flowNotJson', { message: (failure as Error).message }) });
        return;
      }
      setParsed(flow);
      setCheck({ state: 'checking' });
      post<{ nodes: number; edges: number }>('/admin/bots/validate', { flow, bot_id: bot.id }).then(
        (reply) => mine === seq.current && setCheck({ state: 'valid', text: t('flowValid', { nodes: reply.nodes, edges: reply.edges }) }),
        (failure: Error) => mine === seq.current && setCheck({ state: 'invalid', text: failure.message }),
      );
    }, 350);
    return () => clearTimeout(timer);
  }, [text]);

  const problemId = `flow-check-${bot.id}`;
  return (
    <div class="flow-editor">
      <label class="wide">
        {t('flow')}
        <textarea
          class="code"
          spellcheck={false}
          dir="ltr"
          rows={18}
          value={text}
          aria-invalid={check.state === 'invalid'}
          aria-describedby={problemId}
          onInput={(e) => {
            setSaved('');
            setText(e.currentTarget.value);
          }}
        />
      </label>
      <p id={problemId} class={check.state === 'invalid' ? 'error' : 'hint'} role="status" aria-live="polite">
        {check.state === 'valid' || check.state === 'invalid' ? check.text : '\u00a0'}
      </p>
      <div class="row-actions">
        <button
          class="primary"
          disabled={check.state === 'invalid'}
          onClick={() =>
            void run(async () => {
              const reply = await api<{ bot: Bot }>('PUT', `/admin/bots/${encodeURIComponent(bot.id)}`, { flow: JSON.parse(text) });
              setSaved(t('saved', { version: reply.bot.version }));
              onSaved();
            })
          }
        >
          {t('save')} {bot.name}
        </button>
        {saved && <span role="status">{saved}</span>}
      </div>
      <ErrorLine error={error} />
      <FlowPreview flow={parsed} />
    </div>
  );
}

/** Flow bots: list, create, edit a flow with inline validation and a drawn preview, the account's default flow. */
export function Bots() {
  const [bots, setBots] = useState<Bot[]>();
  const [defaultBot, setDefaultBot] = useState<string | null>(null);
  const [open, setOpen] = useState<Bot | null>(null);
  const [name, setName] = useState('');
  const reload = () =>
    void Promise.all([get<{ bots: Bot[] }>('/admin/bots'), get<{ settings: { default_bot_id: string | null } }>('/admin/settings')]).then(([list, settings]) => {
      setBots(list.bots);
      setDefaultBot(settings.settings.default_bot_id);
    });
  useEffect(reload, []);
  const { error, run } = useAction(reload);
  const edit = (id: string) => run(async () => setOpen((await get<{ bot: Bot }>(`/admin/bots/${encodeURIComponent(id)}`)).bot));
  return (
    <section aria-labelledby="bots-title">
      <h2 id="bots-title">{t('bots')}</h2>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            const reply = await post<{ bot: Bot }>('/admin/bots', { name });
            setName('');
            setOpen(reply.bot);
          });
        }}
      >
        <label>
          {t('botName')}
          <input required dir="auto" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button class="primary">{t('newBot')}</button>
      </form>
      <label class="control">
        {t('defaultBot')}
        <select aria-label={t('defaultBot')} value={defaultBot ?? ''} onChange={(e) => void run(() => patch('/admin/settings', { default_bot_id: e.currentTarget.value || null }))}>
          <option value="">{t('noDefaultBot')}</option>
          {bots?.map((bot) => (
            <option key={bot.id} value={bot.id}>
              {bot.name}
            </option>
          ))}
        </select>
      </label>
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('name')}</th>
            <th scope="col">{t('version')}</th>
            <th scope="col">
              <span class="sr-only">{t('edit')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {bots?.map((bot) => (
            <tr key={bot.id} aria-current={open?.id === bot.id ? 'true' : undefined}>
              <td dir="auto">{bot.name}</td>
              <td>{bot.version}</td>
              <td>
                <button onClick={() => void edit(bot.id)}>
                  {t('edit')} {bot.name}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && (
        <article class="card" aria-label={`${t('flow')}: ${open.name}`}>
          <h3 dir="auto">{open.name}</h3>
          <FlowEditor key={open.id} bot={open} onSaved={reload} />
        </article>
      )}
    </section>
  );
}
