import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Contract rules: every non-digit is stripped, then a leading `00` (international dialling prefix)
 * is dropped. The result may be empty, which callers treat as "phone number is required".
 */
export function normalizePhone(input: string | number): string {
  const digits = String(input).replace(/\D+/g, '');
  return digits.startsWith('00') ? digits.slice(2) : digits;
}

/** A normalized number is valid when it has 7–15 digits and does not start with 0 (E.164 length). */
export function isValidPhone(digits: string): boolean {
  return /^[1-9]\d{6,14}$/.test(digits);
}

/**
 * ISO 3166 alpha-2 country of an international number, from its calling code (and, where a code is
 * shared, such as +1 or +7, its leading digits). Null when unknown.
 */
export function countryOfPhone(digits: string): string | null {
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  if (!parsed) return null;
  if (parsed.country) return parsed.country;
  const candidates = parsed.getPossibleCountries();
  return candidates.length === 1 ? candidates[0] : null;
}
