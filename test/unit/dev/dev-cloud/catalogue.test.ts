import { describe, expect, it } from 'vitest';
import {
  findItem,
  PRODUCTS,
  SERVICES,
  searchProducts,
  searchServices,
  words,
} from '../../../../firmware-ts/dev/dev-cloud/catalogue.js';
import { SLOT_VALUES } from '../../../../firmware-ts/src/speech/intents.js';
import { COCO_LABELS } from '../../../../firmware-ts/src/vision/detector/coco-labels.js';

const ids = (results: { productId: string }[]): string[] => results.map((r) => r.productId);
const serviceIds = (results: { serviceId: string }[]): string[] => results.map((r) => r.serviceId);

describe('the catalogue', () => {
  it('sells about thirty products under labels the detector can give, with unique ids, in CNY', () => {
    expect(PRODUCTS.length).toBeGreaterThanOrEqual(30);
    const coco: readonly string[] = COCO_LABELS;
    for (const p of PRODUCTS) for (const label of p.labels) expect(coco, p.productId).toContain(label);
    const all = [...PRODUCTS.map((p) => p.productId), ...SERVICES.map((s) => s.serviceId)];
    expect(new Set(all).size).toBe(all.length);
    for (const x of [...PRODUCTS, ...SERVICES]) expect(x.price.currency).toBe('CNY');
  });
});

describe('words', () => {
  it('reads brand spellings alike: case, hyphens, accents and full-width letters', () => {
    expect(words('Coca-Cola')).toBe(' coca cola ');
    expect(words('COCA COLA!')).toBe(' coca cola ');
    expect(words('Nescafé')).toBe(' nescafe ');
    expect(words('ＸＩＡＯＭＩ')).toBe(' xiaomi ');
  });
});

describe('searchProducts', () => {
  it('finds products by the detected label, the first object weighing most', () => {
    const r = searchProducts({ objects: [{ label: 'banana', score: 0.7 }], text: [] });
    expect(ids(r)).toEqual(['p-banana']);
    const two = searchProducts({
      objects: [
        { label: 'laptop', score: 0.6 },
        { label: 'sports ball', score: 0.7 },
      ],
      text: [],
      limit: 10,
    });
    expect(ids(two).slice(0, 2)).toEqual(['p-laptop-thinkpad', 'p-laptop-air']);
    expect(ids(two)).toContain('p-football');
  });

  it('lets brand words on the label pick among products of the same label', () => {
    expect(
      ids(searchProducts({ objects: [{ label: 'bottle', score: 0.8 }], text: ['Coca-Cola', 'Zero'] }))[0],
    ).toBe('p-cola');
    expect(
      ids(searchProducts({ objects: [{ label: 'cell phone', score: 0.5 }], text: ['Redmi Note 13'] }))[0],
    ).toBe('p-phone-xiaomi');
  });

  it('matches Chinese keywords inside a line without spaces', () => {
    expect(ids(searchProducts({ objects: [], text: ['农夫山泉 饮用天然水'] }))).toEqual(['p-water-nongfu']);
  });

  it('finds a product by its words alone when the detector saw nothing', () => {
    expect(ids(searchProducts({ objects: [], text: ['NESCAFÉ GOLD'] }))).toEqual(['p-nescafe']);
  });

  it('prefers the product whose price was seen on the label', () => {
    const apple = { objects: [{ label: 'apple', score: 0.8 }], text: [] };
    expect(ids(searchProducts(apple))[0]).toBe('p-apple-fuji');
    expect(ids(searchProducts({ ...apple, prices: [{ amount: 9.9, currency: 'CNY' }] }))[0]).toBe(
      'p-apple-gala',
    );
    // Another currency is another price, even with the same number.
    expect(ids(searchProducts({ ...apple, prices: [{ amount: 9.9, currency: 'USD' }] }))[0]).toBe(
      'p-apple-fuji',
    );
  });

  it('finds nothing from a price alone, or from labels it does not sell', () => {
    expect(searchProducts({ objects: [], text: [], prices: [{ amount: 12.8, currency: 'CNY' }] })).toEqual(
      [],
    );
    expect(searchProducts({ objects: [{ label: 'giraffe', score: 0.9 }], text: ['zoo'] })).toEqual([]);
  });

  it('returns the API shape only, at most `limit` results, in the same order every time', () => {
    const q = { objects: [{ label: 'bottle', score: 0.5 }], text: [], limit: 2 };
    const r = searchProducts(q);
    expect(r).toHaveLength(2);
    expect(Object.keys(r[0]!)).toEqual(['productId', 'name', 'price', 'shop']);
    expect(r[0]!.price.currency).toBe('CNY');
    expect(searchProducts(q)).toEqual(r);
  });
});

describe('searchServices', () => {
  it('finds a service for every item the glasses can ask for, and noodles', () => {
    for (const item of [...new Set(Object.values(SLOT_VALUES.item)), 'noodles']) {
      expect(searchServices({ query: item }).length, item).toBeGreaterThan(0);
    }
  });

  it('puts the default first for a plain word, and the named one for a specific word', () => {
    expect(serviceIds(searchServices({ query: 'a coffee' }))).toEqual([
      's-coffee-americano',
      's-coffee-latte',
    ]);
    expect(serviceIds(searchServices({ query: 'order me a latte' }))).toEqual(['s-coffee-latte']);
    expect(serviceIds(searchServices({ query: 'call me a cab' }))).toEqual(['s-taxi']);
    expect(searchServices({ query: 'a coffee', limit: 1 })).toHaveLength(1);
  });

  it('finds nothing for what it does not offer', () => {
    expect(searchServices({ query: 'a helicopter' })).toEqual([]);
    expect(searchServices({ query: '' })).toEqual([]);
  });
});

describe('findItem', () => {
  it('gives name, current price and delivery time by kind and id', () => {
    expect(findItem('service', 's-taxi')).toEqual({
      name: 'Taxi, standard car',
      price: { amount: 25, currency: 'CNY' },
      etaMinutes: 6,
    });
    expect(findItem('product', 'p-banana')?.price).toEqual({ amount: 7.5, currency: 'CNY' });
    expect(findItem('product', 's-taxi')).toBeUndefined();
    expect(findItem('service', 'nope')).toBeUndefined();
  });
});
