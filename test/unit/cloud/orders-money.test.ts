import { describe, expect, it } from 'vitest';
import { quantityWord, spokenMoney, times, toMinor } from '../../../firmware-ts/src/cloud/money.js';

describe('money', () => {
  it('multiplies in hundredths, so 3 x 0.1 is 0.3', () => {
    expect(times({ amount: 0.1, currency: 'CNY' }, 3)).toEqual({ amount: 0.3, currency: 'CNY' });
    expect(toMinor({ amount: 19.99, currency: 'USD' })).toBe(1999);
  });

  it('says amounts as the price answers do, and spells other currency codes', () => {
    expect(spokenMoney({ amount: 12.5, currency: 'CNY' })).toBe('12 yuan 50');
    expect(spokenMoney({ amount: 1, currency: 'USD' })).toBe('1 dollar');
    expect(spokenMoney({ amount: 4, currency: 'CHF' })).toBe('4 CHF');
    expect(spokenMoney({ amount: 4.05, currency: 'CHF' })).toBe('4 CHF 05');
  });

  it('starts a sentence with the quantity in words', () => {
    expect(quantityWord(2)).toBe('Two');
    expect(quantityWord(10)).toBe('Ten');
    expect(quantityWord(12)).toBe('12');
  });
});
