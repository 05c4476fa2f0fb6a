import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layering docs/design.md describes, checked: lower floors (channels, jobs, db, http) import no
 * module, and no file imports itself through others (type imports included, as they couple too).
 */

const root = resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** The project files a file imports (relative imports only; `.js` specifiers name `.ts` files). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')));
}

const files = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'test'))];
const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => files.includes(target))]));
const name = (file: string) => relative(root, file);

describe('architecture', () => {
  it.each(['channels', 'jobs', 'db', 'http', 'media', 'net', 'secrets', 'ratelimit'])('src/%s imports no module', (floor) => {
    const offenders = [...graph]
      .filter(([file]) => name(file).startsWith(`src/${floor}/`))
      .flatMap(([file, targets]) => targets.filter((target) => name(target).startsWith('src/modules/')).map((target) => `${name(file)} → ${name(target)}`));
    expect(offenders).toEqual([]);
  });

  it('has no import circle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) {
        if (state.get(target) === 'open') circles.push([...path.slice(path.indexOf(target)), target].map(name).join(' → '));
        else if (!state.has(target)) visit(target, [...path, target]);
      }
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file, [file]);
    expect(circles).toEqual([]);
  });
});
