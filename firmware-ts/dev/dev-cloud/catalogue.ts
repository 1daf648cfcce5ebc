/**
 * What the development cloud sells: about thirty everyday products the detector can name (COCO
 * labels) and the services the glasses can ask for (speech/intents.ts SLOT_VALUES.item, plus noodles).
 * Matching is by words, not by a model, so a test can say exactly which product a scene should find.
 */

export interface Money {
  readonly amount: number;
  /** ISO 4217. */
  readonly currency: string;
}

/** The wire shapes of firmware-ts/api/orders.openapi.yaml. */
export interface Product {
  readonly productId: string;
  readonly name: string;
  readonly price: Money;
  readonly shop: string;
}

export interface Service {
  readonly serviceId: string;
  readonly name: string;
  readonly price: Money;
  readonly provider: string;
  readonly etaMinutes: number;
}

export interface CatalogueProduct extends Product {
  /** COCO labels (vision/detector/coco-labels.ts) this product is seen as. */
  readonly labels: readonly string[];
  /** Brand and product words as they appear on a label (normalised by `words`). */
  readonly keywords: readonly string[];
}

export interface CatalogueService extends Service {
  readonly keywords: readonly string[];
}

/** Same-day delivery: what a product order's status progression runs towards. */
export const PRODUCT_DELIVERY_MINUTES = 180;

const cny = (amount: number): Money => ({ amount, currency: 'CNY' });

function product(
  productId: string,
  name: string,
  amount: number,
  shop: string,
  labels: readonly string[],
  keywords: readonly string[],
): CatalogueProduct {
  return { productId, name, price: cny(amount), shop, labels, keywords };
}

// Several products share a label on purpose (two apples, three bottles), so the text and the price on
// the label have something to decide.
export const PRODUCTS: readonly CatalogueProduct[] = [
  product(
    'p-apple-fuji',
    'Fuji apples, 1 kg',
    12.8,
    'Corner Fruit Stand',
    ['apple'],
    ['fuji', '富士', '苹果'],
  ),
  product('p-apple-gala', 'Gala apples, 1 kg', 9.9, 'Daily Mart', ['apple'], ['gala', '苹果']),
  product('p-orange-navel', 'Navel oranges, 1 kg', 8.5, 'Corner Fruit Stand', ['orange'], ['navel', '脐橙']),
  product('p-orange-mandarin', 'Mandarin oranges, 1 kg', 6.8, 'Daily Mart', ['orange'], ['mandarin', '橘子']),
  product('p-banana', 'Bananas, 1 kg', 7.5, 'Corner Fruit Stand', ['banana'], ['banana', '香蕉']),
  product('p-broccoli', 'Broccoli, 500 g', 5.9, 'Daily Mart', ['broccoli'], ['broccoli', '西兰花']),
  product('p-carrot', 'Carrots, 1 kg', 4.5, 'Daily Mart', ['carrot'], ['carrot', '胡萝卜']),
  product(
    'p-water-nongfu',
    'Nongfu Spring water, 550 ml',
    2,
    'Daily Mart',
    ['bottle'],
    ['nongfu', '农夫山泉'],
  ),
  product('p-cola', 'Coca-Cola, 500 ml', 3.5, 'Daily Mart', ['bottle'], ['coca cola', 'coke', '可口可乐']),
  product('p-green-tea', 'Bottled green tea, 500 ml', 4, 'Daily Mart', ['bottle'], ['green tea', '绿茶']),
  product('p-mug', 'Ceramic mug, 350 ml', 29, 'Home Goods', ['cup'], ['mug', 'ceramic']),
  product('p-paper-cups', 'Paper cups, 50 pack', 15, 'Daily Mart', ['cup'], ['paper cup', '纸杯']),
  // No COCO label: found only by the words on its packet.
  product('p-nescafe', 'Nescafe instant coffee, 48 sticks', 59, 'Daily Mart', [], ['nescafe', '雀巢']),
  product('p-wine-glass', 'Wine glasses, set of 2', 49, 'Home Goods', ['wine glass'], ['wine', 'glass']),
  product('p-bowl', 'Porcelain bowl', 19, 'Home Goods', ['bowl'], ['bowl', 'porcelain']),
  product(
    'p-book-novel',
    'The Three-Body Problem (paperback)',
    39.8,
    'Campus Bookshop',
    ['book'],
    ['three body', '三体'],
  ),
  product('p-book-notebook', 'A5 notebook', 12, 'Campus Bookshop', ['book'], ['notebook', 'a5']),
  product(
    'p-laptop-thinkpad',
    'Lenovo ThinkPad E14',
    4999,
    'Digital Plaza',
    ['laptop'],
    ['lenovo', 'thinkpad'],
  ),
  product('p-laptop-air', 'MacBook Air 13', 7999, 'Digital Plaza', ['laptop'], ['macbook']),
  product(
    'p-phone-xiaomi',
    'Xiaomi Redmi Note 13',
    1199,
    'Digital Plaza',
    ['cell phone'],
    ['xiaomi', 'redmi', '小米'],
  ),
  product('p-phone-iphone', 'iPhone 15', 5999, 'Digital Plaza', ['cell phone'], ['iphone']),
  product('p-keyboard', 'Wireless keyboard', 129, 'Digital Plaza', ['keyboard'], ['keyboard', 'logitech']),
  product('p-mouse', 'Wireless mouse', 79, 'Digital Plaza', ['mouse'], ['mouse', 'logitech']),
  product('p-football', 'Football, size 5', 99, 'Sports Corner', ['sports ball'], ['football', 'soccer']),
  product('p-basketball', 'Basketball, size 7', 129, 'Sports Corner', ['sports ball'], ['basketball', 'nba']),
  product('p-chair', 'Folding chair', 89, 'Home Goods', ['chair'], ['chair', 'folding']),
  product(
    'p-backpack',
    'Daypack backpack, 20 l',
    159,
    'Sports Corner',
    ['backpack'],
    ['backpack', 'daypack'],
  ),
  product('p-umbrella', 'Folding umbrella', 45, 'Daily Mart', ['umbrella'], ['umbrella', '雨伞']),
  product('p-scissors', 'Office scissors', 15, 'Campus Bookshop', ['scissors'], ['scissors']),
  product('p-clock', 'Wall clock', 69, 'Home Goods', ['clock'], ['clock']),
  product('p-teddy', 'Teddy bear, 40 cm', 79, 'Home Goods', ['teddy bear'], ['teddy']),
  product('p-toothbrush', 'Electric toothbrush', 199, 'Daily Mart', ['toothbrush'], ['toothbrush', 'oral b']),
  product('p-plant', 'Potted pothos plant', 35, 'Home Goods', ['potted plant'], ['pothos', 'plant']),
];

function service(
  serviceId: string,
  name: string,
  amount: number,
  provider: string,
  etaMinutes: number,
  keywords: readonly string[],
): CatalogueService {
  return { serviceId, name, price: cny(amount), provider, etaMinutes, keywords };
}

// The first service of each kind is what a plain "a coffee" gets; the others need their own word.
export const SERVICES: readonly CatalogueService[] = [
  service('s-coffee-americano', 'Americano, large', 15, 'Corner Cafe', 15, ['coffee', 'americano', '咖啡']),
  service('s-coffee-latte', 'Latte, large', 18, 'Corner Cafe', 15, ['coffee', 'latte', '拿铁']),
  service('s-tea-milk', 'Milk tea', 16, 'Tea House', 15, ['tea', 'milk tea', '奶茶']),
  service('s-tea-green', 'Jasmine green tea', 12, 'Tea House', 15, ['tea', 'green tea', 'jasmine', '绿茶']),
  service('s-taxi', 'Taxi, standard car', 25, 'City Cabs', 6, ['taxi', 'cab', 'car', 'ride', '出租车']),
  service('s-pizza', 'Margherita pizza, 12 inch', 68, 'Pizza Corner', 35, ['pizza', 'margherita', '披萨']),
  service('s-sandwich', 'Club sandwich', 22, 'Corner Cafe', 20, ['sandwich', 'club', '三明治']),
  service('s-water', 'Bottled water, 12 x 550 ml', 24, 'Daily Mart', 25, [
    'water',
    'bottled water',
    '矿泉水',
  ]),
  service('s-noodles', 'Beef noodle soup', 28, 'Noodle Bar', 25, ['noodles', 'noodle', 'ramen', '面条']),
];

/**
 * Text as space-separated lower-case words with accents and punctuation gone, padded with spaces so
 * ` word ` finds whole words: "Coca-Cola" and "COCA COLA" both read " coca cola ", "Nescafé" reads
 * " nescafe ". NFKD also turns full-width letters into ASCII.
 */
export function words(text: string): string {
  const plain = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  return ` ${plain} `;
}

const HAN = /\p{Script=Han}/u;

/** Chinese is not written with spaces, so a Chinese keyword is found anywhere in the text. */
function mentions(normalised: string, keyword: string): boolean {
  const k = words(keyword);
  return HAN.test(keyword) ? normalised.replace(/ /g, '').includes(k.trim()) : normalised.includes(k);
}

export interface ProductQuery {
  readonly objects: readonly { readonly label: string; readonly score: number }[];
  readonly text: readonly string[];
  readonly prices?: readonly Money[] | undefined;
  readonly limit?: number | undefined;
}

/** Weights: a label is what the wearer looks at, a brand word narrows it, a price settles a tie. */
const LATER_OBJECT_WEIGHT = 0.8;
const KEYWORD_WEIGHT = 0.6;
const MAX_KEYWORD_HITS = 3;
const PRICE_WEIGHT = 0.5;
export const DEFAULT_LIMIT = 3;

/** Products for a scene, best first. A price alone finds nothing: it only prefers among matches. */
export function searchProducts(query: ProductQuery): Product[] {
  const text = words(query.text.join(' '));
  const labels = query.objects.map((o, i) => ({
    label: words(o.label),
    // The first object is the one the wearer looked at (ProductQuery.objects in the API).
    weight: o.score * (i === 0 ? 1 : LATER_OBJECT_WEIGHT),
  }));
  const scored: { product: CatalogueProduct; score: number }[] = [];
  for (const p of PRODUCTS) {
    const own = p.labels.map(words);
    const labelScore = Math.max(0, ...labels.filter((l) => own.includes(l.label)).map((l) => l.weight));
    const hits = p.keywords.filter((k) => mentions(text, k)).length;
    let score = labelScore + KEYWORD_WEIGHT * Math.min(hits, MAX_KEYWORD_HITS);
    if (score === 0) continue;
    if (query.prices?.some((m) => sameMoney(m, p.price)) === true) score += PRICE_WEIGHT;
    scored.push({ product: p, score });
  }
  // Stable sort: equal scores keep catalogue order, so results are the same on every run.
  scored.sort((a, b) => b.score - a.score);
  return scored.slice(0, query.limit ?? DEFAULT_LIMIT).map((s) => productView(s.product));
}

/** Services for what was asked ("a coffee", "call me a cab", "latte"), best first. */
export function searchServices(query: {
  readonly query: string;
  readonly limit?: number | undefined;
}): Service[] {
  const text = words(query.query);
  const scored = SERVICES.map((s) => ({
    service: s,
    score: s.keywords.filter((k) => mentions(text, k)).length,
  }))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score);
  return scored.slice(0, query.limit ?? DEFAULT_LIMIT).map((s) => serviceView(s.service));
}

/** What an order needs of an item: its name, current price and how long it takes to arrive. */
export interface OrderableItem {
  readonly name: string;
  readonly price: Money;
  readonly etaMinutes: number;
}

export function findItem(kind: 'product' | 'service', itemId: string): OrderableItem | undefined {
  if (kind === 'product') {
    const p = PRODUCTS.find((x) => x.productId === itemId);
    return p && { name: p.name, price: p.price, etaMinutes: PRODUCT_DELIVERY_MINUTES };
  }
  const s = SERVICES.find((x) => x.serviceId === itemId);
  return s && { name: s.name, price: s.price, etaMinutes: s.etaMinutes };
}

/** Equal to the cent: amounts are decimal fractions that binary floats do not hold exactly. */
export function sameMoney(a: Money, b: Money): boolean {
  return a.currency === b.currency && Math.round(a.amount * 100) === Math.round(b.amount * 100);
}

function productView(p: CatalogueProduct): Product {
  return { productId: p.productId, name: p.name, price: p.price, shop: p.shop };
}

function serviceView(s: CatalogueService): Service {
  return {
    serviceId: s.serviceId,
    name: s.name,
    price: s.price,
    provider: s.provider,
    etaMinutes: s.etaMinutes,
  };
}
