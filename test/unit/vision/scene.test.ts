import { describe, expect, it } from 'vitest';
import type { Detection } from '../../../firmware-ts/src/vision/detector/detector.js';
import type { TextLine } from '../../../firmware-ts/src/vision/ocr/ocr.js';
import {
  focusObject,
  identifyAnswer,
  priceAnswer,
  readAnswer,
  scenePrices,
  spokenPrice,
  withArticle,
  type Scene,
} from '../../../firmware-ts/src/vision/scene.js';

const W = 1000;
const H = 800;

function det(label: string, score: number, box: [number, number, number, number]): Detection {
  return { label, classId: 0, score, box };
}

function line(text: string, box: [number, number, number, number], score = 0.95): TextLine {
  return { text, score, box };
}

function scene(objects: Detection[], lines?: TextLine[]): Scene {
  return {
    source: 'test',
    width: W,
    height: H,
    objects,
    ...(lines === undefined ? {} : { lines, prices: scenePrices(lines, W, H) }),
  };
}

describe('focusObject', () => {
  it('prefers the object covering the centre over a higher-scoring one at the edge', () => {
    const centre = det('cup', 0.6, [400, 300, 200, 200]);
    const edge = det('laptop', 0.95, [0, 0, 150, 120]);
    expect(focusObject([edge, centre], W, H)?.focus).toBe(centre);
  });

  it('prefers a large object just off-centre over a speck near the centre', () => {
    const big = det('laptop', 0.8, [80, 150, 380, 400]);
    const speck = det('mouse', 0.8, [560, 410, 12, 10]);
    expect(focusObject([speck, big], W, H)?.focus).toBe(big);
  });

  it('returns nothing for an empty view', () => {
    expect(focusObject([], W, H)).toBeUndefined();
  });
});

describe('identifyAnswer', () => {
  it('names the focused object and the confident others, once each', () => {
    const s = scene([
      det('orange', 0.9, [420, 320, 160, 160]),
      det('apple', 0.8, [100, 100, 120, 120]),
      det('apple', 0.7, [700, 100, 120, 120]),
      det('banana', 0.6, [700, 500, 200, 100]),
      det('toothbrush', 0.2, [10, 700, 40, 40]),
    ]);
    expect(identifyAnswer(s, 0.5)).toBe("That's an orange, next to an apple and a banana.");
  });

  it('counts several of the same kind', () => {
    const s = scene([det('apple', 0.9, [420, 320, 160, 160]), det('apple', 0.8, [100, 100, 120, 120])]);
    expect(identifyAnswer(s, 0.5)).toBe("That's an apple, one of 2.");
  });

  it('hedges below the confident score rather than guessing', () => {
    expect(identifyAnswer(scene([det('cup', 0.35, [400, 300, 200, 200])]), 0.5)).toBe(
      "I'm not sure. It might be a cup.",
    );
  });

  it('says when it sees nothing it knows', () => {
    expect(identifyAnswer(scene([]), 0.5)).toMatch(/can't tell/);
  });
});

describe('readAnswer', () => {
  it('reads the block nearest the centre, not a caption in the corner', () => {
    const s = scene(
      [],
      [
        line('Page 12', [20, 20, 80, 20]),
        line('Fresh milk', [350, 350, 300, 40]),
        line('best before 1 May', [350, 400, 300, 40]),
      ],
    );
    expect(readAnswer(s, 0.5)).toBe('It says: Fresh milk. best before 1 May.');
  });

  it('reads prices as money, not as signs', () => {
    const s = scene([], [line('Red apples', [350, 350, 300, 40]), line('￥12.50', [350, 400, 300, 40])]);
    expect(readAnswer(s, 0.5)).toBe('It says: Red apples. 12 yuan 50.');
  });

  it('says it is unsure when the reading scores low', () => {
    const s = scene([], [line('Exit', [400, 380, 200, 40], 0.3)]);
    expect(readAnswer(s, 0.5)).toBe("It's hard to read, but I think it says: Exit.");
  });

  it('says when there is no text', () => {
    expect(readAnswer(scene([], []), 0.5)).toBe("I don't see any text to read.");
  });
});

describe('prices', () => {
  it('speaks amounts so a speech engine reads them as money', () => {
    expect(spokenPrice({ amount: 12.5, currency: 'CNY', text: '¥12.50' })).toBe('12 yuan 50');
    expect(spokenPrice({ amount: 1, currency: 'USD', text: '$1' })).toBe('1 dollar');
    expect(spokenPrice({ amount: 3.99, currency: 'USD', text: '$3.99' })).toBe('3 dollars 99');
    expect(spokenPrice({ amount: 8.05, currency: null, text: '8.05' })).toBe('8 05');
  });

  it('gives the central price first and mentions the others', () => {
    const s = scene(
      [],
      [
        line('$3.99', [20, 20, 80, 20]),
        line('Organic apples', [350, 350, 300, 40]),
        line('¥12.50', [350, 400, 300, 40]),
      ],
    );
    expect(priceAnswer(s)).toBe("It's 12 yuan 50. I also see 3 dollars 99.");
  });

  it('says when text has no price, and when there is no text', () => {
    expect(priceAnswer(scene([], [line('Organic apples', [350, 350, 300, 40])]))).toBe(
      "I can't find a price in the text I see.",
    );
    expect(priceAnswer(scene([], []))).toBe("I don't see a price.");
  });

  it('chooses a or an by sound of the first letter', () => {
    expect(withArticle('apple')).toBe('an apple');
    expect(withArticle('cup')).toBe('a cup');
  });
});
