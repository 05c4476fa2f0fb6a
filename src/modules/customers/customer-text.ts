import type { CustomerRow } from '../../db/tables.js';
import { isValidCustomFieldName } from './customers.schema.js';

/**
 * Variables of canned responses and bot flows: `{{customer.name}}`, `{{customer.phone}}`,
 * `{{customer.email}}` and `{{fields.<custom field>}}` (spaces inside the braces allowed), each with
 * an optional fallback for a customer without the value: `{{customer.name|there}}`. The server
 * renders them for a customer (GET /app/api/canned-responses/:id/render); a client may apply the
 * same rule itself.
 */

const VARIABLE = /\{\{\s*([^{}|]*?)\s*(?:\|([^{}]*))?\}\}/g;
const CUSTOMER_VARIABLES = ['customer.name', 'customer.phone', 'customer.email'] as const;

function isKnownVariable(name: string): boolean {
  if ((CUSTOMER_VARIABLES as readonly string[]).includes(name)) return true;
  return name.startsWith('fields.') && isValidCustomFieldName(name.slice('fields.'.length));
}

/** The variables a text uses, in order of first use. */
export function variablesOf(text: string): string[] {
  return [...new Set([...text.matchAll(VARIABLE)].map((match) => match[1]!))];
}

/** The first variable the text uses that is not one of the known ones. */
export function unknownVariable(text: string): string | undefined {
  return variablesOf(text).find((name) => !isKnownVariable(name));
}

type CustomerValues = Pick<CustomerRow, 'name' | 'phone' | 'email' | 'custom_fields'>;

function valueOf(name: string, customer: CustomerValues, fields: Record<string, unknown>): string | undefined {
  if (name === 'customer.name') return customer.name ?? undefined;
  if (name === 'customer.phone') return customer.phone;
  if (name === 'customer.email') return customer.email ?? undefined;
  const field = name.slice('fields.'.length);
  // Own fields only: `{{fields.constructor}}` is no field of anyone.
  if (!isKnownVariable(name) || !Object.hasOwn(fields, field)) return undefined;
  const value = fields[field];
  return value === null ? undefined : String(value);
}

/**
 * The text with each variable replaced by the customer's value; one without a value becomes its
 * fallback (or empty, and is listed in `missing`).
 */
export function renderCustomerText(text: string, customer: CustomerValues): { text: string; missing: string[] } {
  const fields = JSON.parse(customer.custom_fields) as Record<string, unknown>;
  const missing = new Set<string>();
  const rendered = text.replace(VARIABLE, (_match, name: string, fallback: string | undefined) => {
    const value = valueOf(name, customer, fields);
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback.trim();
    missing.add(name);
    return '';
  });
  return { text: rendered, missing: [...missing] };
}
