import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countVariables, renderTemplate } from './template-text.js';

/** Text that cannot form braces of its own: no `{` or `}` at all. */
const plainText = fc.string({ maxLength: 12 }).map((text) => text.replace(/[{}]/g, ''));

/**
 * A well-formed body with n variables: plain text around placeholders whose numbers cover 1..n
 * (in any order, some repeated), as the list of its parts.
 */
const wellFormedBody = fc.integer({ min: 0, max: 25 }).chain((n) =>
  fc
    .tuple(
      fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i + 1), { minLength: n, maxLength: n }),
      fc.array(fc.integer({ min: 1, max: Math.max(n, 1) }), { maxLength: n === 0 ? 0 : 5 }),
    )
    .chain(([numbers, repeats]) => {
      const placeholders = [...numbers, ...repeats];
      return fc.array(plainText, { minLength: placeholders.length + 1, maxLength: placeholders.length + 1 }).map((texts) => ({ n, placeholders, texts }));
    }),
);

const assemble = (texts: string[], placeholders: string[]) => texts.map((text, i) => text + (placeholders[i] ?? '')).join('');

describe('countVariables', () => {
  it('counts the distinct variables of a body numbered 1..n without gaps', () => {
    fc.assert(
      fc.property(wellFormedBody, ({ n, placeholders, texts }) => {
        expect(countVariables(assemble(texts, placeholders.map((k) => `{{${k}}}`)))).toBe(n);
      }),
    );
  });

  it('refuses a body whose numbers leave a gap', () => {
    fc.assert(
      fc.property(wellFormedBody, fc.nat(), ({ n, placeholders, texts }, pick) => {
        fc.pre(n >= 2);
        const missing = 1 + (pick % (n - 1)); // any of 1..n-1: n itself missing is just a body with n-1 variables
        const body = assemble(texts, placeholders.filter((k) => k !== missing).map((k) => `{{${k}}}`));
        expect(countVariables(body)).toBeUndefined();
      }),
    );
  });

  it('refuses stray or malformed braces anywhere', () => {
    const malformed = fc.constantFrom('{{0}}', '{{01}}', '{{name}}', '{{ 1 }}', '{{', '}}', '{{1', '1}}', '{{-1}}', '{{10000}}');
    fc.assert(
      fc.property(plainText, malformed, plainText, (before, bad, after) => {
        expect(countVariables(`${before}{{1}}${before}${bad}${after}`)).toBeUndefined();
      }),
    );
  });

  it.each([
    ['Welcome to our store!', 0],
    ['Hi {{1}}! Your order {{2}} will arrive on {{3}}.', 3],
    ['{{1}}{{2}}', 2],
    ['{{2}} before {{1}}, and {{1}} again', 2],
    ['Hi {{1}}, {{3}}', undefined],
    ['{{0}}', undefined],
  ])('%j has %s variables', (body, expected) => {
    expect(countVariables(body)).toBe(expected);
  });
});

describe('renderTemplate', () => {
  it('replaces each {{i}} by the i-th value, in one pass', () => {
    // Values may look like variables themselves: they are never substituted again.
    const value = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('{{1}}', '{{2}}', '$1', '$&'));
    fc.assert(
      fc.property(wellFormedBody, fc.array(value, { minLength: 25, maxLength: 25 }), ({ n, placeholders, texts }, pool) => {
        const values = pool.slice(0, n);
        const body = assemble(texts, placeholders.map((k) => `{{${k}}}`));
        expect(renderTemplate(body, values)).toBe(assemble(texts, placeholders.map((k) => values[k - 1])));
      }),
    );
  });

  it('leaves plain text alone', () => {
    fc.assert(
      fc.property(plainText, (text) => {
        expect(renderTemplate(text, ['x'])).toBe(text);
      }),
    );
  });
});
