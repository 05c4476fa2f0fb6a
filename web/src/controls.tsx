import { useEffect, useState } from 'preact/hooks';

export interface ChoiceOption {
  value: string;
  label: string;
}

/**
 * A labelled native select: its accessible name is `name` exactly (aria-label), whatever is
 * selected; `empty` adds a first option with the value ''.
 */
export function Choice(props: { caption: string; name?: string; class?: string; value: string; empty?: string; options: ChoiceOption[]; onChange: (value: string) => void }) {
  return (
    <label class={props.class}>
      {props.caption}
      <select aria-label={props.name ?? props.caption} value={props.value} onChange={(event) => props.onChange(event.currentTarget.value)}>
        {props.empty !== undefined && <option value="">{props.empty}</option>}
        {props.options.map((option) => (
          <option value={option.value} key={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Directory entries (`{id, name}`) as options. */
export const byId = (entries: { id: string; name: string }[]): ChoiceOption[] => entries.map(({ id, name }) => ({ value: id, label: name }));

/** Runs an action, keeps its error message to show, and runs `after` when it succeeded. */
export function useAction(after?: () => void) {
  const [error, setError] = useState('');
  const run = async (work: () => Promise<unknown>) => {
    setError('');
    try {
      await work();
      after?.();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return { error, run };
}

export function ErrorLine({ error }: { error: string }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

/** A field of a description list, left out when it has no value. */
export function Field({ name, value }: { name: string; value: unknown }) {
  if (value === null || value === undefined || value === '') return null;
  return (
    <>
      <dt>{name}</dt>
      <dd dir="auto">{String(value)}</dd>
    </>
  );
}

/** Loads once, and again on the returned `reload`. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): [T | undefined, () => void] {
  const [value, setValue] = useState<T>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    void load().then(setValue);
  }, [...deps, tick]);
  return [value, () => setTick((n) => n + 1)];
}
