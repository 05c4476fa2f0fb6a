import { describe, expect, it } from 'vitest';
import { renderCustomerText, unknownVariable, variablesOf } from './customer-text.js';

const customer = { name: 'דנה', phone: '972501234567', email: null, custom_fields: JSON.stringify({ plan: 'gold', visits: 3, vip: false, empty: '' }) };

describe('canned response variables', () => {
  it('fills customer fields and custom fields, with spaces inside the braces allowed', () => {
    expect(renderCustomerText('שלום {{customer.name}}, {{ fields.plan }} ({{fields.visits}}, {{fields.vip}}) {{customer.phone}}', customer)).toEqual({
      text: 'שלום דנה, gold (3, false) 972501234567',
      missing: [],
    });
  });

  it('leaves a variable without a value empty and names it', () => {
    expect(renderCustomerText('{{customer.email}}|{{fields.nope}}|{{fields.empty}}|{{fields.constructor}}|{{customer.email}}', customer)).toEqual({
      text: '||||',
      missing: ['customer.email', 'fields.nope', 'fields.empty', 'fields.constructor'],
    });
  });

  it('knows which variables exist', () => {
    expect(variablesOf('{{customer.name}} {{fields.a}} {{customer.name}}')).toEqual(['customer.name', 'fields.a']);
    expect(unknownVariable('{{customer.name}} {{fields.plan_2}}')).toBeUndefined();
    expect(unknownVariable('{{customer.name}} {{customer.age}}')).toBe('customer.age');
    expect(unknownVariable('{{fields.__proto__}}')).toBe('fields.__proto__');
    expect(unknownVariable('{{}}')).toBe('');
    expect(unknownVariable('{ {customer.name} } {customer.name}')).toBeUndefined();
  });
});

describe('fallbacks', () => {
  it('uses the fallback only where the customer has no value', () => {
    expect(renderCustomerText('Hi {{customer.name|there}}, plan {{ fields.plan | none }}', { ...customer, name: null })).toEqual({ text: 'Hi there, plan gold', missing: [] });
    expect(renderCustomerText('Hi {{customer.name|there}}', customer).text).toBe('Hi דנה');
    expect(renderCustomerText('{{fields.empty|-}} {{fields.empty}}', customer)).toEqual({ text: '- ', missing: ['fields.empty'] });
    expect(unknownVariable('{{customer.name|x}} {{fields.plan|y}}')).toBeUndefined();
  });
});
