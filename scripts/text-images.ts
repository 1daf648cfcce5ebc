/**
 * Renders the OCR test images (PNG) and expected.json: English in DejaVu Sans/Serif/Mono at several
 * sizes, Chinese in Noto Sans/Serif CJK and WenQuanYi Zen Hei, price tags, a paragraph, a two-block
 * page (a caption in a corner and a central paragraph) and a label stuck slanted on a real photo
 * (Debian opencv-doc's building.jpg). Text is drawn by librsvg inside sharp from SVG, so the output is
 * the same bytes on every run with the same sharp and fonts.
 *
 *   npx tsx scripts/text-images.ts OUTDIR
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const PHOTO = '/usr/share/doc/opencv-doc/examples/data/building.jpg';

export interface ExpectedPrice {
  readonly amount: number;
  readonly currency: 'CNY' | 'USD' | 'EUR' | 'GBP' | 'JPY' | null;
}

export interface TextImage {
  readonly file: string;
  /** What the image shows, for test names. */
  readonly kind: 'english' | 'chinese' | 'price' | 'paragraph' | 'blocks' | 'photo';
  /** Font size of the (smallest) text, in pixels. */
  readonly fontPx: number;
  readonly font: string;
  /** Every line, in reading order. */
  readonly lines: readonly string[];
  /** For the blocks page: the lines of the block nearest the centre. */
  readonly centralBlock?: readonly string[];
  readonly prices?: readonly ExpectedPrice[];
}

interface Run {
  readonly text: string;
  readonly x: number;
  /** Baseline. */
  readonly y: number;
  readonly size: number;
  readonly font: string;
  readonly bold?: boolean;
  readonly fill?: string;
  readonly anchor?: 'start' | 'middle';
}

const SANS = 'DejaVu Sans';
const SERIF = 'DejaVu Serif';
const MONO = 'DejaVu Sans Mono';
const CJK_SANS = 'Noto Sans CJK SC';
const CJK_SERIF = 'Noto Serif CJK SC';
const WQY = 'WenQuanYi Zen Hei';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function svg(
  width: number,
  height: number,
  runs: readonly Run[],
  extra = '',
  background = '#ffffff',
): Buffer {
  const texts = runs
    .map(
      (r) =>
        `<text x="${r.x}" y="${r.y}" font-family="${r.font}" font-size="${r.size}"${r.bold === true ? ' font-weight="bold"' : ''} fill="${r.fill ?? '#111111'}" text-anchor="${r.anchor ?? 'start'}">${escapeXml(r.text)}</text>`,
    )
    .join('\n');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      (background === 'none' ? '' : `<rect width="100%" height="100%" fill="${background}"/>`) +
      `${extra}${texts}</svg>`,
  );
}

/** PNG bytes of an SVG page: no alpha, fixed compression, nothing time-dependent. */
function png(image: ReturnType<typeof sharp>): Promise<Buffer> {
  return image.flatten({ background: '#ffffff' }).png({ compressionLevel: 9, palette: false }).toBuffer();
}

/** Single lines: the text, its font and size; the image is as wide as the text needs plus margins. */
const SINGLE_LINES: readonly {
  file: string;
  kind: 'english' | 'chinese';
  text: string;
  font: string;
  size: number;
}[] = [
  {
    file: 'en-sans-32.png',
    kind: 'english',
    text: 'The quick brown fox jumps over the lazy dog',
    font: SANS,
    size: 32,
  },
  {
    file: 'en-serif-28.png',
    kind: 'english',
    text: 'Pack my box with five dozen liquor jugs',
    font: SERIF,
    size: 28,
  },
  {
    file: 'en-mono-24.png',
    kind: 'english',
    text: 'Sphinx of black quartz, judge my vow',
    font: MONO,
    size: 24,
  },
  ...[8, 10, 12, 14, 16, 20].map((size) => ({
    file: `en-sans-${String(size).padStart(2, '0')}.png`,
    kind: 'english' as const,
    text: 'Fresh milk, best before 12 May',
    font: SANS,
    size,
  })),
  { file: 'zh-sans-32.png', kind: 'chinese', text: '今天天气很好', font: CJK_SANS, size: 32 },
  { file: 'zh-serif-28.png', kind: 'chinese', text: '欢迎光临本店', font: CJK_SERIF, size: 28 },
  { file: 'zh-wqy-24.png', kind: 'chinese', text: '北京市朝阳区建国路', font: WQY, size: 24 },
  ...[8, 10, 12, 14, 16, 20].map((size) => ({
    file: `zh-sans-${String(size).padStart(2, '0')}.png`,
    kind: 'chinese' as const,
    text: '新鲜牛奶请冷藏保存',
    font: CJK_SANS,
    size,
  })),
];

async function singleLine(out: string, l: (typeof SINGLE_LINES)[number]): Promise<TextImage> {
  // Width from a generous per-character estimate: CJK glyphs are one em, Latin ones at most 0.65 em.
  const em = l.kind === 'chinese' ? 1.05 : 0.65;
  // At least 320x64: small text is small on a normal picture, not a picture cut to the text's size.
  const width = Math.max(320, Math.ceil(l.text.length * l.size * em) + 4 * l.size);
  const height = Math.max(64, Math.ceil(l.size * 3));
  const page = svg(width, height, [
    { text: l.text, x: 2 * l.size, y: Math.round(height / 2 + l.size * 0.35), size: l.size, font: l.font },
  ]);
  await fs.writeFile(join(out, l.file), await png(sharp(page)));
  return { file: l.file, kind: l.kind, fontPx: l.size, font: l.font, lines: [l.text] };
}

const TAGS: readonly {
  file: string;
  name: string;
  nameFont: string;
  price: string;
  expected: ExpectedPrice;
}[] = [
  {
    file: 'price-yuan.png',
    name: 'Red apples',
    nameFont: SANS,
    price: '¥12.50',
    expected: { amount: 12.5, currency: 'CNY' },
  },
  {
    file: 'price-yuan-suffix.png',
    name: '香蕉',
    nameFont: CJK_SANS,
    price: '9.99元',
    expected: { amount: 9.99, currency: 'CNY' },
  },
  {
    file: 'price-usd.png',
    name: 'Coffee beans',
    nameFont: SANS,
    price: '$3.99',
    expected: { amount: 3.99, currency: 'USD' },
  },
  {
    file: 'price-rmb.png',
    name: 'Green tea',
    nameFont: SANS,
    price: 'RMB 88',
    expected: { amount: 88, currency: 'CNY' },
  },
];

/** A shelf label: white card with a red border on a grey shelf, product name above a big price. */
async function priceTag(out: string, t: (typeof TAGS)[number]): Promise<TextImage> {
  const card = `<rect x="60" y="40" width="360" height="200" rx="10" fill="#ffffff" stroke="#c00000" stroke-width="6"/>`;
  const page = svg(
    480,
    280,
    [
      { text: t.name, x: 240, y: 105, size: 34, font: t.nameFont, anchor: 'middle' },
      {
        text: t.price,
        x: 240,
        y: 195,
        size: 56,
        font: t.price.endsWith('元') ? CJK_SANS : SANS,
        bold: true,
        fill: '#b00000',
        anchor: 'middle',
      },
    ],
    card,
    '#d8d8d0',
  );
  await fs.writeFile(join(out, t.file), await png(sharp(page)));
  return {
    file: t.file,
    kind: 'price',
    fontPx: 34,
    font: t.nameFont,
    lines: [t.name, t.price],
    prices: [t.expected],
  };
}

const PARAGRAPH = [
  'Keep refrigerated below 5 degrees.',
  'Once opened, use within three days',
  'and do not freeze. Shake well before',
  'pouring. Made with whole milk.',
] as const;

async function paragraph(out: string): Promise<TextImage> {
  const size = 22;
  const page = svg(
    520,
    200,
    PARAGRAPH.map((text, i) => ({ text, x: 30, y: 45 + i * 34, size, font: SANS })),
  );
  await fs.writeFile(join(out, 'paragraph.png'), await png(sharp(page)));
  return { file: 'paragraph.png', kind: 'paragraph', fontPx: size, font: SANS, lines: [...PARAGRAPH] };
}

const CAPTION = 'Page 12';
const CENTRAL = ['Opening hours', 'Monday to Friday', 'from nine to five'] as const;

/** A small caption in the top-left corner and a paragraph in the middle: "read this" reads the middle. */
async function twoBlocks(out: string): Promise<TextImage> {
  const page = svg(640, 480, [
    { text: CAPTION, x: 16, y: 30, size: 16, font: SANS },
    ...CENTRAL.map((text, i) => ({
      text,
      x: 320,
      y: 215 + i * 38,
      size: 26,
      font: SERIF,
      anchor: 'middle' as const,
    })),
  ]);
  await fs.writeFile(join(out, 'two-blocks.png'), await png(sharp(page)));
  return {
    file: 'two-blocks.png',
    kind: 'blocks',
    fontPx: 16,
    font: `${SANS} + ${SERIF}`,
    lines: [CAPTION, ...CENTRAL],
    centralBlock: [...CENTRAL],
  };
}

const SIGN = ['CITY MUSEUM', 'Open daily 9 to 5'] as const;

/** A sign stuck on a real photo, turned 4 degrees: real texture around the text, and a slant. */
async function photo(out: string): Promise<TextImage> {
  const sign = svg(
    340,
    130,
    [
      { text: SIGN[0], x: 170, y: 58, size: 36, font: SANS, bold: true, anchor: 'middle' },
      { text: SIGN[1], x: 170, y: 105, size: 26, font: SANS, anchor: 'middle' },
    ],
    `<rect x="3" y="3" width="334" height="124" rx="8" fill="#f4f1e8" stroke="#203060" stroke-width="6"/>`,
    'none',
  );
  const slanted = await sharp(sign)
    .rotate(-4, { background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .png()
    .toBuffer();
  const image = sharp(await fs.readFile(PHOTO)).composite([{ input: slanted, left: 250, top: 320 }]);
  // JPEG like a camera's, at a fixed quality (mozjpeg in sharp: the same bytes every run).
  await fs.writeFile(join(out, 'photo-sign.jpg'), await image.jpeg({ quality: 90 }).toBuffer());
  return { file: 'photo-sign.jpg', kind: 'photo', fontPx: 26, font: SANS, lines: [...SIGN] };
}

/**
 * librsvg silently substitutes a missing font (Chinese then renders as boxes, and the OCR tests fail
 * for no visible reason), so the families are looked up first. Skipped where fc-list is absent.
 */
function requireFonts(): void {
  for (const family of [SANS, SERIF, MONO, CJK_SANS, CJK_SERIF, WQY]) {
    let found: string;
    try {
      found = execFileSync('fc-list', [`:family=${family}`, 'family'], { encoding: 'utf8' });
    } catch {
      return;
    }
    if (found.trim() === '') {
      throw new Error(
        `text-images: font "${family}" is not installed (apt-get install fonts-dejavu-core fonts-noto-cjk fonts-wqy-zenhei)`,
      );
    }
  }
}

/** Writes every image and expected.json (`{ images: TextImage[] }`) into `outDir`. */
export async function renderTextImages(outDir: string): Promise<void> {
  requireFonts();
  await fs.mkdir(outDir, { recursive: true });
  const images: TextImage[] = [];
  for (const l of SINGLE_LINES) images.push(await singleLine(outDir, l));
  for (const t of TAGS) images.push(await priceTag(outDir, t));
  images.push(await paragraph(outDir));
  images.push(await twoBlocks(outDir));
  images.push(await photo(outDir));
  await fs.writeFile(join(outDir, 'expected.json'), `${JSON.stringify({ images }, null, 2)}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (outDir === undefined) {
    console.error('usage: npx tsx scripts/text-images.ts OUTDIR');
    process.exit(2);
  }
  await renderTextImages(resolve(outDir));
  console.log(`text-images: written to ${resolve(outDir)}`);
}
