/**
 * WhatsApp template text: variables are `{{1}}…{{n}}`, numbered from 1 without gaps (a number may
 * appear more than once). Any other use of double braces (`{{0}}`, `{{01}}`, `{{name}}`, `{{ 1 }}`,
 * a lone `{{` or `}}`) makes the text malformed.
 */

const PLACEHOLDER = /\{\{([1-9]\d{0,3})\}\}/g;

/** How many variables the text has, or undefined when its braces break the rules above. */
export function countVariables(text: string): number | undefined {
  const numbers = new Set<number>();
  for (const match of text.matchAll(PLACEHOLDER)) numbers.add(Number(match[1]));
  const rest = text.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) return undefined;
  const count = numbers.size;
  for (let n = 1; n <= count; n++) if (!numbers.has(n)) return undefined;
  return count;
}

/** The text with each `{{i}}` replaced by `values[i - 1]`, in one pass: a value is never read as a variable. */
export function renderTemplate(text: string, values: readonly string[]): string {
  return text.replace(PLACEHOLDER, (placeholder, number: string) => values[Number(number) - 1] ?? placeholder);
}
