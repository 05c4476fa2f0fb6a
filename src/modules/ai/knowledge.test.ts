import { describe, expect, it } from 'vitest';
import { bm25, relevantKnowledge, splitPassages } from './knowledge.js';

const filler = (topic: string) => Array.from({ length: 12 }, (_v, i) => `${topic} paragraph ${i}: ${'lorem ipsum dolor sit amet '.repeat(20)}`).join('\n\n');

describe('knowledge retrieval', () => {
  it('keeps knowledge that fits whole', () => {
    expect(relevantKnowledge('Opening hours: 9-17.', 'when do you open')).toBe('Opening hours: 9-17.');
  });

  it('picks the passage about what the customer asks, within the budget', () => {
    const knowledge = [filler('Warranty'), 'Shipping to Eilat takes 5 business days and costs 40 ILS.', filler('Returns'), 'משלוח לאילת לוקח 5 ימי עסקים.'].join('\n\n');
    const picked = relevantKnowledge(knowledge, 'How long does shipping to Eilat take?', 1000);
    expect(picked).toContain('Shipping to Eilat takes 5 business days');
    expect(picked.length).toBeLessThanOrEqual(1000);
    expect(relevantKnowledge(knowledge, 'כמה זמן לוקח משלוח לאילת', 1000)).toContain('משלוח לאילת לוקח 5 ימי עסקים.');
  });

  it('scores passages with the query terms above those without', () => {
    const scores = bm25(['prices of the gold plan', 'opening hours', 'gold gold gold'], 'gold plan price');
    expect(scores[0]).toBeGreaterThan(scores[1]!);
    expect(scores[1]).toBe(0);
  });

  it('cuts long paragraphs into passages no longer than 800 characters, losing no text', () => {
    const long = 'A sentence that goes on. '.repeat(200);
    const passages = splitPassages(long);
    expect(passages.every((p) => p.length <= 800)).toBe(true);
    expect(passages.join(' ').replace(/\s+/g, ' ').trim()).toBe(long.replace(/\s+/g, ' ').trim());
  });
});
