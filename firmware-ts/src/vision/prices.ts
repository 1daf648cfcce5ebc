/**
 * Prices in text read off a label: "¥12.50", "9.99元", "RMB 88", "$3.99", "3.99$", "€2,50", "£1.20",
 * "JPY 500", and a bare "12.00" only when the text has no marked price at all. Phone numbers, dates,
 * times, percentages, weights and long digit runs are not prices.
 */

export type Currency = 'CNY' | 'USD' | 'EUR' | 'GBP' | 'JPY';

export interface Price {
  amount: number;
  /** null: no currency sign or code next to the amount (or a dollar this runtime does not name). */
  currency: Currency | null;
  /** The matched text, NFKC-normalised (a full-width "￥１２" reads "¥12"). */
  text: string;
}

/** Amounts with more integer digits than this are codes, phone or account numbers, not prices. */
const MAX_INTEGER_DIGITS = 7;

/**
 * An amount: digits grouped by thousands ("1,299", "1.299") or not, and an optional decimal part of
 * one or two digits after '.' or ',' (Europe writes "2,50").
 */
const NUMBER = String.raw`\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?`;

/** Signs and codes before the amount. "US$" before "$"; "HK$", "NT$", "S$"... are other dollars. */
const PREFIX = String.raw`US\$|[A-Z]{1,2}\$|\$|¥|€|£|RMB|CNY|USD|EUR|GBP|JPY`;
/** Signs, codes and words after the amount. 块 is the spoken "kuai" for yuan, 円 is yen. */
const SUFFIX = String.raw`元|块|円|\$|€|£|RMB|CNY|USD|EUR|GBP|JPY`;

/**
 * The characters around an amount that make it part of something else: another digit, or a
 * separator followed by a digit (dates 12.05.2024, 2024-05-12, 12/05; times 9:30; phone numbers
 * 138-1234-5678), or a percent sign.
 */
const NOT_BEFORE = String.raw`(?<![\d]|[\d][.,:/\-])`;
const NOT_AFTER = String.raw`(?![\d%]|[.,:/\-]\d)`;

const MARKED = new RegExp(
  // A letter straight after the digits means OCR read a letter for a digit ("$1O"): not an amount.
  String.raw`(?<![A-Za-z])(?<pre>${PREFIX})\s?(?<a>${NUMBER})${NOT_AFTER}(?![A-Za-z])` +
    String.raw`|${NOT_BEFORE}(?<b>${NUMBER})\s?(?<suf>${SUFFIX})(?![A-Za-z])`,
  'gu',
);

/**
 * A bare amount with exactly two decimals ("12.00"), not followed by a unit or a clock word
 * ("1.50 kg", "9.30 pm", "3.00点"). A letter just before is allowed, so "S3.99" (OCR's usual misreading
 * of "$3.99") still gives 3.99, without a currency: guessing dollars from an S would be wrong as often
 * as right ("S" is also a size or a shelf code).
 */
const BARE = new RegExp(
  String.raw`${NOT_BEFORE}(?<![.,])(?<n>\d{1,5}[.,]\d{2})${NOT_AFTER}(?!\s?(?:[A-Za-z]|点|时|分|秒|月|日|号|年|克|斤))`,
  'gu',
);

const CODES: Readonly<Record<string, Currency>> = {
  '¥': 'CNY',
  元: 'CNY',
  块: 'CNY',
  RMB: 'CNY',
  CNY: 'CNY',
  $: 'USD',
  US$: 'USD',
  USD: 'USD',
  '€': 'EUR',
  EUR: 'EUR',
  '£': 'GBP',
  GBP: 'GBP',
  円: 'JPY',
  JPY: 'JPY',
};

/** Prices in `text`, in the order they appear. */
export function findPrices(text: string): Price[] {
  // NFKC folds OCR's full-width forms (￥, １２．５０, ＄) into the ASCII ones matched below.
  const s = text.normalize('NFKC');
  const marked: Price[] = [];
  for (const m of s.matchAll(MARKED)) {
    const g = m.groups ?? {};
    const number = g.a ?? g.b;
    const sign = g.pre ?? g.suf;
    if (number === undefined || sign === undefined) continue;
    const amount = parseAmount(number);
    if (amount === undefined) continue;
    marked.push({ amount, currency: CODES[sign] ?? null, text: m[0].trim() });
  }
  if (marked.length > 0) return marked;
  const bare: Price[] = [];
  for (const m of s.matchAll(BARE)) {
    const number = m.groups?.n;
    const amount = number === undefined ? undefined : parseAmount(number);
    if (number !== undefined && amount !== undefined) bare.push({ amount, currency: null, text: number });
  }
  return bare;
}

/**
 * "1,299.00" -> 1299, "2,50" -> 2.5, "1.299,00" -> 1299: the last '.' or ',' followed by one or two
 * digits is the decimal point, the others group thousands. Undefined for too many integer digits.
 */
export function parseAmount(number: string): number | undefined {
  const last = Math.max(number.lastIndexOf('.'), number.lastIndexOf(','));
  const decimal = last >= 0 && number.length - last - 1 <= 2;
  const integer = (decimal ? number.slice(0, last) : number).replace(/[.,]/g, '');
  const fraction = decimal ? number.slice(last + 1) : '';
  if (integer.length === 0 || integer.replace(/^0+(?=\d)/, '').length > MAX_INTEGER_DIGITS) return undefined;
  const amount = Number(fraction === '' ? integer : `${integer}.${fraction}`);
  return Number.isFinite(amount) ? amount : undefined;
}
