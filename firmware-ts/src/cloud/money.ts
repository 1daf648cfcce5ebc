/**
 * Amounts of the orders API (`Money`: a decimal amount and an ISO 4217 code), added and multiplied
 * in hundredths so that 3 x 0.1 is 0.3 and a limit check never fails by a rounding error, and said
 * the way the vision answers say prices.
 */
import type { Currency } from '../vision/prices.js';
import { spokenPrice } from '../vision/scene.js';

export interface Money {
  readonly amount: number;
  readonly currency: string;
}

/** Hundredths of the currency unit. Currencies with three decimals do not occur in this API's shops. */
export function toMinor(m: Money): number {
  return Math.round(m.amount * 100);
}

export function fromMinor(minor: number, currency: string): Money {
  return { amount: minor / 100, currency };
}

export function times(m: Money, quantity: number): Money {
  return fromMinor(toMinor(m) * quantity, m.currency);
}

/** The currencies `spokenPrice` has words for; any other code is spelled after the number. */
const SPOKEN: ReadonlySet<string> = new Set<Currency>(['CNY', 'USD', 'EUR', 'GBP', 'JPY']);

function isSpokenCurrency(code: string): code is Currency {
  return SPOKEN.has(code);
}

/** "12 yuan 50", as `spokenPrice` says a price read off a label; "12 CHF 50" for other codes. */
export function spokenMoney(m: Money): string {
  if (isSpokenCurrency(m.currency)) return spokenPrice({ amount: m.amount, currency: m.currency, text: '' });
  const [whole = '', cents] = spokenPrice({ amount: m.amount, currency: null, text: '' }).split(' ');
  return cents === undefined ? `${whole} ${m.currency}` : `${whole} ${m.currency} ${cents}`;
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

/** "Two" for the start of a sentence; digits above ten, which a speech engine reads well. */
export function quantityWord(n: number): string {
  const word = NUMBER_WORDS[n] ?? String(n);
  return word.charAt(0).toUpperCase() + word.slice(1);
}
