import { describe, expect, it } from 'vitest';
import { sentences } from '../../../firmware-ts/src/tts/sentences.js';

async function all(text: AsyncIterable<string> | string): Promise<string[]> {
  const out: string[] = [];
  for await (const s of sentences(text)) out.push(s);
  return out;
}

async function* pieces(parts: readonly string[]): AsyncGenerator<string> {
  for (const p of parts) {
    await Promise.resolve();
    yield p;
  }
}

/** Every character on its own: the hardest way for text to arrive. */
function byChar(text: string): AsyncIterable<string> {
  return pieces(Array.from(text));
}

describe('sentences', () => {
  it('splits on . ! ? followed by a space, and flushes the rest at the end', async () => {
    expect(await all('It is 3:15. The next train leaves soon! Are you coming? Maybe')).toEqual([
      'It is 3:15.',
      'The next train leaves soon!',
      'Are you coming?',
      'Maybe',
    ]);
  });

  it('yields each sentence as soon as it is complete, before the text has ended', async () => {
    const seen: string[] = [];
    const source = async function* (): AsyncGenerator<string> {
      for (const p of ['It is', ' 3:15', '. The next', ' train...']) {
        seen.push(`piece:${p}`);
        await Promise.resolve();
        yield p;
      }
    };
    for await (const s of sentences(source())) seen.push(`sentence:${s}`);
    expect(seen).toEqual([
      'piece:It is',
      'piece: 3:15',
      'piece:. The next',
      'sentence:It is 3:15.',
      'piece: train...',
      'sentence:The next train...',
    ]);
  });

  it.each([
    ['decimals', 'Pi is about 3.14 and e is 2.718. Next.', ['Pi is about 3.14 and e is 2.718.', 'Next.']],
    ['prices', 'It costs $4.99 today. Buy it.', ['It costs $4.99 today.', 'Buy it.']],
    ['e.g. and i.e.', 'Take a fruit, e.g. An apple. Fine.', ['Take a fruit, e.g. An apple.', 'Fine.']],
    ['titles', 'Mr. Smith and Dr. Jones are here. Hello.', ['Mr. Smith and Dr. Jones are here.', 'Hello.']],
    ['initialisms', 'The U.S. Army is big. Yes.', ['The U.S. Army is big.', 'Yes.']],
    ['middle initials', 'John F. Kennedy spoke. Then.', ['John F. Kennedy spoke.', 'Then.']],
    ['a lower-case next word', 'It is approx. five km. Go.', ['It is approx. five km.', 'Go.']],
    ['list numbers', '1. Turn left. 2. Walk on.', ['1. Turn left.', '2. Walk on.']],
    [
      'an abbreviation in brackets',
      'Fruit (e.g. Pears) is good. Eat.',
      ['Fruit (e.g. Pears) is good.', 'Eat.'],
    ],
    ['versions and hosts', 'See v1.2.3 on example.com. Ok.', ['See v1.2.3 on example.com.', 'Ok.']],
  ])('does not split %s', async (_name, text, expected) => {
    expect(await all(text)).toEqual(expected);
    expect(await all(byChar(text))).toEqual(expected);
  });

  it('keeps closing quotes and runs of marks with their sentence', async () => {
    expect(await all('He said "go." Then he left?! Wait... what? (Really.) Yes')).toEqual([
      'He said "go."',
      'Then he left?!',
      'Wait... what?',
      '(Really.)',
      'Yes',
    ]);
  });

  it('splits on newlines, and skips empty lines and white space', async () => {
    expect(await all('  First line\n\n  second line  \n\n\n')).toEqual(['First line', 'second line']);
    expect(await all('')).toEqual([]);
    expect(await all(pieces(['  ', '\n', ' ']))).toEqual([]);
  });

  it('splits on CJK full stops, which take no space after them', async () => {
    expect(await all('今日は晴れです。明日は雨！本当？はい')).toEqual([
      '今日は晴れです。',
      '明日は雨！',
      '本当？',
      'はい',
    ]);
    expect(await all('他说：“好。”然后走了。')).toEqual(['他说：“好。”', '然后走了。']);
  });

  it('gives the same sentences whatever the pieces', async () => {
    const text = 'It is 3.5 km to the U.S. border. Mr. Lee said "hi!" Then 2 more.\nThe end';
    const whole = await all(text);
    expect(whole).toEqual([
      'It is 3.5 km to the U.S. border.',
      'Mr. Lee said "hi!"',
      'Then 2 more.',
      'The end',
    ]);
    expect(await all(byChar(text))).toEqual(whole);
    for (const size of [2, 3, 5, 7]) {
      const parts: string[] = [];
      for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
      expect(await all(pieces(parts))).toEqual(whole);
    }
  });

  it('holds a full stop at the end of a piece until the next piece shows what it is', async () => {
    const order: string[] = [];
    const source = async function* (): AsyncGenerator<string> {
      for (const p of ['It is 3.', '5 km. ', 'Go']) {
        order.push(`piece:${p}`);
        await Promise.resolve();
        yield p;
      }
    };
    for await (const s of sentences(source())) order.push(`sentence:${s}`);
    expect(order).toEqual([
      'piece:It is 3.',
      'piece:5 km. ',
      'piece:Go',
      'sentence:It is 3.5 km.',
      'sentence:Go',
    ]);
  });
});
