import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectName } from '../../db/database.js';

/**
 * The conversation list's text search: a customer matches when every term is in their name, phone or
 * email, or when one of their messages holds every term. Full-text indexes only (migration
 * 0008_inbox_search; change both together), never a LIKE scan:
 *
 * - SQLite: `customers_fts` (trigram: any substring of 3 or more characters, in any script) and
 *   `messages_fts` (unicode61: words, matched by prefix).
 * - PostgreSQL: GIN indexes on `to_tsvector('simple', …)`: words matched by prefix; a number also
 *   matches the end of a phone (the index holds the phone reversed).
 *
 * Every term is quoted for the engine's query syntax, so nothing typed is ever an operator.
 */
export interface SearchQuery {
  terms: string[];
}

const MAX_TERMS = 8;
const PHONE_LIKE = /^[\d\s+\-().]+$/;
const HAS_WORD = /[\p{L}\p{N}]/u;

/**
 * The terms of what was typed: a phone number as one term of its digits (spaces and dashes dropped, a
 * leading 0 or 00 too, so a local or international spelling both find the number); anything else as
 * its words. Undefined when nothing is left to search for.
 */
export function parseSearch(text: string | undefined): SearchQuery | undefined {
  const trimmed = text?.trim() ?? '';
  if (trimmed === '') return undefined;
  if (PHONE_LIKE.test(trimmed) && /\d/.test(trimmed)) {
    const digits = trimmed.replace(/\D+/g, '');
    return { terms: [digits.replace(/^0+/, '') || digits] };
  }
  return { terms: trimmed.split(/\s+/).slice(0, MAX_TERMS) };
}

/** An FTS5 string: double quotes doubled, so the term is one phrase and never syntax. */
const fts5String = (term: string) => `"${term.replaceAll('"', '""')}"`;

/** A tsquery lexeme matched by prefix: quotes doubled, backslashes escaped. */
const tsPrefix = (term: string) => `'${term.replaceAll('\\', '\\\\').replaceAll("'", "''")}':*`;

const reversed = (term: string) => [...term].reverse().join('');

// Each branch is a subquery of its own (no reference to the outer row): run once, through its index.

function sqliteCondition(accountId: string, search: SearchQuery): RawBuilder<SqlBool> {
  const branches: Array<RawBuilder<unknown>> = [];
  // The trigram tokenizer cannot match fewer than 3 characters: shorter terms are left to the messages' words.
  const customerTerms = search.terms.filter((term) => [...term].length >= 3);
  if (customerTerms.length > 0) {
    branches.push(sql`customers.rowid in (select rowid from customers_fts where customers_fts match ${customerTerms.map(fts5String).join(' ')})`);
  }
  const wordTerms = search.terms.filter((term) => HAS_WORD.test(term));
  if (wordTerms.length > 0) {
    const match = wordTerms.map((term) => `${fts5String(term)}*`).join(' ');
    // `+` keeps SQLite from walking the account's messages by its index: the matches lead, by rowid.
    branches.push(
      sql`customers.id in (select messages.customer_id from messages where messages.id in (select rowid from messages_fts where messages_fts match ${match}) and +messages.account_id = ${accountId})`,
    );
  }
  if (branches.length === 0) return sql<SqlBool>`1 = 0`;
  return sql<SqlBool>`(${sql.join(branches, sql` or `)})`;
}

function postgresCondition(accountId: string, search: SearchQuery): RawBuilder<SqlBool> {
  // The expressions are the indexes' own, with 'simple' written out: the planner matches them to the indexes.
  const customerQuery = search.terms.map((term) => (/^\d+$/.test(term) ? `(${tsPrefix(term)} | ${tsPrefix(reversed(term))})` : tsPrefix(term))).join(' & ');
  const messageQuery = search.terms.map(tsPrefix).join(' & ');
  return sql<SqlBool>`customers.id in (
    select found.id from customers found
    where found.account_id = ${accountId}
      and to_tsvector('simple', coalesce(found.name, '') || ' ' || found.phone || ' ' || reverse(found.phone) || ' ' || coalesce(found.email, ''))
        @@ to_tsquery('simple', ${customerQuery})
    union all
    select messages.customer_id from messages
    where messages.account_id = ${accountId}
      and to_tsvector('simple', coalesce(messages.text, '')) @@ to_tsquery('simple', ${messageQuery}))`;
}

/** The search as a condition on `customers` of the account (in a query selecting from it). */
export function matchesSearch(dialect: DialectName, accountId: string, search: SearchQuery): RawBuilder<SqlBool> {
  return dialect === 'postgres' ? postgresCondition(accountId, search) : sqliteCondition(accountId, search);
}
