import { z } from 'zod';
import { normalizePhone } from '../phone.js';

/** Reusable parameter schemas. Each takes the contract message for a missing or wrong value. */

const isMissing = (input: unknown) => input === undefined || input === null;

/**
 * A phone number as string or JSON number, normalized by the contract's rules. Missing, or nothing
 * left after stripping non-digits, gives `requiredMessage`. Another type (an array, an object) gives
 * `requiredMessage` too, since it names no phone, unless `wrongType: 'invalid-input'` asks for the
 * endpoint's invalid-input message (add-new-customer and edit-customer have one). Without this, a
 * wrong-typed phone on assign-customer-to-agent would answer "Agent ID is required.".
 * Validity (length, leading 0) is the service's call: it differs per endpoint.
 */
export function phoneParam(requiredMessage: string, options: { wrongType?: 'required' | 'invalid-input' } = {}) {
  const wrongTypeMessage = options.wrongType === 'invalid-input' ? undefined : requiredMessage;
  return z
    .union([z.string(), z.number()], { error: (issue) => (isMissing(issue.input) ? requiredMessage : wrongTypeMessage) })
    .transform(normalizePhone)
    .refine((digits) => digits !== '', { error: requiredMessage });
}

/** A required non-empty string (trimmed); missing, empty or of another type gives `message`. */
export function requiredText(message: string, maxLength = 1024) {
  return z.string({ error: message }).trim().min(1, { error: message }).max(maxLength, { error: message });
}

/** An optional string of bounded length; null counts as absent. */
export function optionalText(maxLength: number) {
  return z.string().max(maxLength).nullish();
}

/** An identifier sent as string or number (query strings carry strings, JSON may carry numbers). */
export function idParam(message: string) {
  return z
    .union([z.string(), z.number()], { error: message })
    .transform((value) => String(value).trim())
    .refine((value) => value !== '' && value.length <= 255, { error: message });
}

/** A 1-based page number from JSON (number) or a query string (text); absent or empty means 1. */
export function pageParam(message = 'Invalid page') {
  return z
    .union([z.number(), z.string()], { error: message })
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return 1;
      const page = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(page) || page < 1) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return page;
    });
}

/**
 * One page of a list, `perPage` items a page: counted first, then the page's rows read (not at all
 * for a page past the end), with the total and the page count.
 */
export async function readPage<Row>(
  page: number,
  perPage: number,
  count: () => Promise<number>,
  readRows: (limit: number, offset: number, total: number) => Promise<Row[]>,
): Promise<{ rows: Row[]; total: number; pages: number }> {
  const total = await count();
  const offset = (page - 1) * perPage;
  const rows = offset < total ? await readRows(perPage, offset, total) : [];
  return { rows, total, pages: Math.ceil(total / perPage) };
}
