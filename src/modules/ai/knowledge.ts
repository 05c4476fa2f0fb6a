/**
 * The business's knowledge, cut to what the model needs: all of it when it fits the budget,
 * otherwise the passages (paragraphs, at most PASSAGE_MAX characters) that BM25 ranks highest for
 * the customer's words, in their original order. Simple, explainable, no provider call.
 */

const PASSAGE_MAX = 800;
/** The characters of knowledge one request carries (about 1,500 tokens). */
export const KNOWLEDGE_BUDGET = 6000;
const K1 = 1.2;
const B = 0.75;

function terms(text: string): string[] {
  return text.toLocaleLowerCase().split(/[^\p{L}\p{N}\p{M}]+/u).filter((term) => term.length > 1);
}

/** Paragraphs (blank-line separated); a long one is cut at sentence ends, then hard at PASSAGE_MAX. */
export function splitPassages(knowledge: string): string[] {
  const passages: string[] = [];
  for (const paragraph of knowledge.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean)) {
    let current = '';
    for (const sentence of paragraph.match(/[^.!?。\n]+[.!?。]*\s*|\n/g) ?? [paragraph]) {
      if (current.length + sentence.length > PASSAGE_MAX && current !== '') {
        passages.push(current.trim());
        current = '';
      }
      current += sentence;
      while (current.length > PASSAGE_MAX) {
        passages.push(current.slice(0, PASSAGE_MAX).trim());
        current = current.slice(PASSAGE_MAX);
      }
    }
    if (current.trim() !== '') passages.push(current.trim());
  }
  return passages;
}

/** BM25 scores of each passage for the query. */
export function bm25(passages: string[], query: string): number[] {
  const docs = passages.map(terms);
  const averageLength = docs.reduce((sum, doc) => sum + doc.length, 0) / Math.max(docs.length, 1);
  const documentFrequency = new Map<string, number>();
  for (const doc of docs) for (const term of new Set(doc)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  const queryTerms = [...new Set(terms(query))];
  return docs.map((doc) => {
    const frequency = new Map<string, number>();
    for (const term of doc) frequency.set(term, (frequency.get(term) ?? 0) + 1);
    let score = 0;
    for (const term of queryTerms) {
      const f = frequency.get(term) ?? 0;
      if (f === 0) continue;
      const n = documentFrequency.get(term)!;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      score += (idf * f * (K1 + 1)) / (f + K1 * (1 - B + (B * doc.length) / (averageLength || 1)));
    }
    return score;
  });
}

/** What of the knowledge goes into a request about `query`. */
export function relevantKnowledge(knowledge: string, query: string, budget = KNOWLEDGE_BUDGET): string {
  if (knowledge.length <= budget) return knowledge;
  const passages = splitPassages(knowledge);
  const scores = bm25(passages, query);
  const ranked = passages.map((_p, index) => index).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const chosen: number[] = [];
  let used = 0;
  for (const index of ranked) {
    if (used + passages[index]!.length > budget) continue;
    chosen.push(index);
    used += passages[index]!.length + 2;
  }
  return chosen.sort((a, b) => a - b).map((index) => passages[index]).join('\n\n');
}
