import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countryOfPhone, isValidPhone, normalizePhone } from './phone.js';

const digit = fc.constantFrom(...'0123456789');
const digits = (constraints: { minLength?: number; maxLength?: number } = {}) => fc.array(digit, constraints).map((d) => d.join(''));

/** Text without an ASCII digit: punctuation, letters, any unicode (other scripts' digits included). */
const junk = fc.string({ unit: 'binary', maxLength: 4 }).map((text) => text.replace(/[0-9]/g, ''));

/** `number` with junk between and around its digits, the way people write phone numbers. */
const written = (number: fc.Arbitrary<string>) =>
  number.chain((d) =>
    fc.array(junk, { minLength: d.length + 1, maxLength: d.length + 1 }).map((gaps) => ({
      digits: d,
      text: gaps.map((gap, i) => gap + (d[i] ?? '')).join(''),
    })),
  );

describe('normalizePhone', () => {
  it('keeps only ASCII digits, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(normalizePhone(text)).toMatch(/^[0-9]*$/);
      }),
    );
  });

  it('strips every non-digit and keeps the digits in order', () => {
    const noDoubleZero = digits({ maxLength: 20 }).filter((d) => !d.startsWith('00'));
    fc.assert(
      fc.property(written(noDoubleZero), ({ digits: d, text }) => {
        expect(normalizePhone(text)).toBe(d);
      }),
    );
  });

  it('drops one leading 00 (the international dialling prefix), however it is written', () => {
    fc.assert(
      fc.property(written(digits({ maxLength: 18 }).map((rest) => `00${rest}`)), ({ digits: d, text }) => {
        expect(normalizePhone(text)).toBe(d.slice(2));
      }),
    );
  });

  it('reads a JSON number as its decimal digits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(normalizePhone(n)).toBe(String(n));
      }),
    );
  });

  it.each([
    ['+972-50-123-4567', '972501234567'],
    ['00972501234567', '972501234567'],
    ['(972) 50 123 4567', '972501234567'],
    ['+1 (415) 555-0123', '14155550123'],
    ['0000123', '00123'],
    ['+()- ', ''],
    ['', ''],
  ])('normalizes %j to %j', (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });
});

describe('isValidPhone', () => {
  it('accepts exactly 7 to 15 digits not starting with 0', () => {
    fc.assert(
      fc.property(digits({ maxLength: 20 }), (d) => {
        expect(isValidPhone(d)).toBe(d.length >= 7 && d.length <= 15 && !d.startsWith('0'));
      }),
    );
  });

  it('refuses anything that is not only digits', () => {
    const withJunk = fc
      .tuple(digits({ minLength: 7, maxLength: 15 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }), fc.nat())
      .filter(([, extra]) => /[^0-9]/.test(extra))
      .map(([d, extra, at]) => {
        const i = at % (d.length + 1);
        return d.slice(0, i) + extra + d.slice(i);
      });
    fc.assert(
      fc.property(withJunk, (text) => {
        expect(isValidPhone(text)).toBe(false);
      }),
    );
  });

  it.each([
    ['1234567', true],
    ['123456789012345', true],
    ['972501234567', true],
    ['123456', false],
    ['1234567890123456', false],
    ['0501234567', false],
    ['', false],
  ])('isValidPhone(%j) is %s', (d, valid) => {
    expect(isValidPhone(d)).toBe(valid);
  });
});

describe('countryOfPhone', () => {
  it.each([
    ['972501234567', 'IL'],
    ['14155550123', 'US'],
    ['442079460000', 'GB'],
    ['4915123456789', 'DE'],
    ['33612345678', 'FR'],
    ['5511987654321', 'BR'],
    ['79161234567', 'RU'],
    ['77011234567', 'KZ'],
    ['61412345678', 'AU'],
    ['819012345678', 'JP'],
  ])('derives %s → %s from the calling code', (d, country) => {
    expect(countryOfPhone(d)).toBe(country);
  });

  it.each([['9991234567'], ['1234567'], ['123456789012345']])('answers null for %s, whose calling code is unknown or ambiguous', (d) => {
    expect(countryOfPhone(d)).toBeNull();
  });

  it('answers null or an ISO 3166 alpha-2 code for any valid number, never throwing', () => {
    const valid = fc.tuple(fc.constantFrom(...'123456789'), digits({ minLength: 6, maxLength: 14 })).map(([first, rest]) => first + rest);
    fc.assert(
      fc.property(valid, (d) => {
        const country = countryOfPhone(d);
        if (country !== null) expect(country).toMatch(/^[A-Z]{2}$/);
      }),
    );
  });
});
