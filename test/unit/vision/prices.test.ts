import { describe, expect, it } from 'vitest';
import { findPrices, parseAmount, type Price } from '../../../firmware-ts/src/vision/prices.js';

const found = (text: string): Pick<Price, 'amount' | 'currency'>[] =>
  findPrices(text).map(({ amount, currency }) => ({ amount, currency }));

describe('findPrices', () => {
  it.each([
    ['¥12.50', 12.5, 'CNY'],
    ['￥12', 12, 'CNY'],
    ['12元', 12, 'CNY'],
    ['12.5 元', 12.5, 'CNY'],
    ['9.99元', 9.99, 'CNY'],
    ['5块', 5, 'CNY'],
    ['RMB 99', 99, 'CNY'],
    ['RMB88', 88, 'CNY'],
    ['CNY 99', 99, 'CNY'],
    ['$3.99', 3.99, 'USD'],
    ['$ 3.99', 3.99, 'USD'],
    ['US$3', 3, 'USD'],
    ['USD 1,299.00', 1299, 'USD'],
    ['3.99$', 3.99, 'USD'],
    ['€2,50', 2.5, 'EUR'],
    ['2,50 €', 2.5, 'EUR'],
    ['€1.299,00', 1299, 'EUR'],
    ['£1.20', 1.2, 'GBP'],
    ['GBP 7', 7, 'GBP'],
    ['500円', 500, 'JPY'],
    ['JPY 500', 500, 'JPY'],
  ] as const)('reads %s as %d %s', (text, amount, currency) => {
    expect(found(text)).toEqual([{ amount, currency }]);
  });

  it('finds prices inside label text, in order, and keeps what was matched', () => {
    expect(findPrices('Red apples ¥12.50 / kg, was ¥15')).toEqual([
      { amount: 12.5, currency: 'CNY', text: '¥12.50' },
      { amount: 15, currency: 'CNY', text: '¥15' },
    ]);
    expect(findPrices('香蕉 9.99元/斤')).toEqual([{ amount: 9.99, currency: 'CNY', text: '9.99元' }]);
  });

  it("folds OCR's full-width forms", () => {
    expect(findPrices('￥１２．５０')).toEqual([{ amount: 12.5, currency: 'CNY', text: '¥12.50' }]);
  });

  it('takes a bare amount with two decimals only when no price is marked', () => {
    expect(found('Organic eggs 12.00')).toEqual([{ amount: 12, currency: null }]);
    expect(found('价格：12.00')).toEqual([{ amount: 12, currency: null }]);
    expect(found('Eggs 12.00 now ¥10')).toEqual([{ amount: 10, currency: 'CNY' }]);
    // Without decimals a bare number is a count, an aisle or a size.
    expect(found('Aisle 12')).toEqual([]);
  });

  it.each([
    ['a phone number', 'Call 138-1234-5678'],
    ['a phone number with a yuan sign after it', '13812345678元'],
    ['a long digit run', 'Barcode 6901234567892'],
    ['an ISO date', '2024-05-12'],
    ['a dotted date', 'Best before 12.05.2024'],
    ['a slashed date', '12/05/24'],
    ['a time', 'Open 9:30 to 18:00'],
    ['a time with a dot', 'Opens 9.30 pm'],
    ['a Chinese time', '营业时间 9.30点'],
    ['a weight', 'Net 1.50 kg'],
    ['a percentage', 'Fat 12.50%'],
    ['a version number', 'v1.2.3'],
  ])('does not take %s (%s) as a price', (_what, text) => {
    expect(findPrices(text)).toEqual([]);
  });

  it("refuses OCR's S for $ as dollars, but still gives the amount: 'S3.99' -> 3.99, no currency", () => {
    // S is as often a size or a shelf code as a misread $; an amount without a currency is honest,
    // dollars guessed from an S are wrong as often as right.
    expect(found('S3.99')).toEqual([{ amount: 3.99, currency: null }]);
    // Y for ¥ likewise.
    expect(found('Y12.50')).toEqual([{ amount: 12.5, currency: null }]);
    // An O for 0 is not read as a digit: "$1O" is not $10.
    expect(found('$1O')).toEqual([]);
  });

  it('gives other dollars (HK$, NT$, S$) their amount without naming a currency', () => {
    expect(found('HK$25')).toEqual([{ amount: 25, currency: null }]);
  });
});

describe('parseAmount', () => {
  it.each([
    ['12', 12],
    ['12.5', 12.5],
    ['12,50', 12.5],
    ['1,299', 1299],
    ['1.299', 1299],
    ['1,299.99', 1299.99],
    ['1.299,99', 1299.99],
    ['0.99', 0.99],
  ])('%s -> %d', (text, amount) => {
    expect(parseAmount(text)).toBe(amount);
  });

  it('refuses more than 7 integer digits', () => {
    expect(parseAmount('12345678')).toBeUndefined();
    expect(parseAmount('1234567')).toBe(1234567);
  });
});
