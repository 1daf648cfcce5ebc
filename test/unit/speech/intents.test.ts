import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  commandGrammar,
  grammarWords,
  normalizeTranscript,
  parseIntent,
  type CommandSpec,
} from '../../../firmware-ts/src/speech/intents.js';

describe('parseIntent', () => {
  it.each([
    ['what is this', 'identify', {}],
    ['what am i looking at', 'identify', {}],
    ['read this', 'read', {}],
    ['how much is this', 'price', {}],
    ['buy this', 'buy', { quantity: 1 }],
    ['buy two of these', 'buy', { quantity: 2 }],
    ['buy ten of those', 'buy', { quantity: 10 }],
    ['buy seven', 'buy', { quantity: 7 }],
    ['order a coffee', 'order', { item: 'coffee' }],
    ['order me a pizza', 'order', { item: 'pizza' }],
    ['get me a tea', 'order', { item: 'tea' }],
    ['call a cab', 'order', { item: 'taxi' }],
    ['where is my order', 'order_status', {}],
    ["where's my order", 'order_status', {}],
    ['yes', 'yes', {}],
    ['no', 'no', {}],
    ['cancel', 'no', {}],
    ['stop', 'stop', {}],
    ['repeat that', 'repeat', {}],
    ['louder', 'louder', {}],
    ['quieter', 'quieter', {}],
    ['what time is it', 'time', {}],
    ['battery', 'battery', {}],
    ['what can you do', 'help', {}],
  ])('"%s" is %s %j', (text, name, slots) => {
    expect(parseIntent(text)).toEqual({ name, slots });
  });

  it('reads what recognisers add around the words', () => {
    expect(parseIntent('<sil> read(2) this [NOISE] </s>')).toEqual({ name: 'read', slots: {} });
    expect(parseIntent('  Buy TWO of these!  ')).toEqual({ name: 'buy', slots: { quantity: 2 } });
    expect(parseIntent('Buy 3 of these.')).toEqual({ name: 'buy', slots: { quantity: 3 } });
    expect(parseIntent('What time is it?')).toEqual({ name: 'time', slots: {} });
  });

  it.each([
    'what is the capital of france',
    'tell me a joke',
    'buy me a house in paris',
    'read me the news',
    'what is',
    'buy',
    'buy eleven of these',
    'buy 11 of these',
    'order a house',
    'call a coffee',
    'stop stop',
    '',
    '<sil>',
  ])('"%s" is not a command', (text) => {
    expect(parseIntent(text)).toBeUndefined();
  });

  it('returns a fresh object each time', () => {
    const a = parseIntent('buy two of these');
    if (a !== undefined) a.slots.quantity = 99;
    expect(parseIntent('buy two of these')).toEqual({ name: 'buy', slots: { quantity: 2 } });
  });
});

describe('normalizeTranscript', () => {
  it('keeps apostrophes inside words and drops fillers, marks and punctuation', () => {
    expect(normalizeTranscript("<s> What's(2) the time? [SPEECH] </s>")).toBe("what's the time");
  });
});

describe('commandGrammar', () => {
  const grammar = commandGrammar();

  it('is JSGF with one public rule over a rule per intent', () => {
    expect(grammar.startsWith('#JSGF V1.0;\n')).toBe(true);
    expect(grammar).toContain('grammar commands;');
    expect(grammar.match(/^public /gm)).toHaveLength(1);
    for (const c of COMMANDS) expect(grammar).toContain(`<${c.intent}> = `);
    expect(grammar).toContain(
      '<quantity> = one | two | three | four | five | six | seven | eight | nine | ten;',
    );
    expect(grammar).toContain('call a (taxi | cab)');
  });

  it('uses exactly the words grammarWords lists, all lower case', () => {
    const body = grammar
      .split('\n')
      .filter((l) => !l.startsWith('#') && !l.startsWith('grammar'))
      .join(' ')
      .replace(/<[^>]+>|public|[=|();]/g, ' ');
    const used = [...new Set(body.split(/\s+/).filter((w) => w !== ''))].sort();
    expect(used).toEqual(grammarWords());
    for (const w of used) expect(w).toMatch(/^[a-z']+$/);
  });

  it('accepts every phrase of the table, and parseIntent maps each back', () => {
    // Each concrete phrase (slots filled with their first word) parses as its own intent.
    for (const c of COMMANDS) {
      for (const p of c.phrases) {
        const text = p.replace(/\{([a-z]+)(?::([a-z|]+))?\}/g, (_m, slot: string, only?: string) =>
          only === undefined ? (slot === 'quantity' ? 'four' : 'water') : (only.split('|')[0] ?? ''),
        );
        expect(parseIntent(text)?.name, text).toBe(c.intent);
      }
    }
  });

  it('rejects a table with a bad slot, a bad word or a phrase meaning two things', () => {
    expect(() => commandGrammar([{ intent: 'buy', phrases: ['buy {colour}'] }])).toThrow(/unknown slot/);
    expect(() => grammarWords([{ intent: 'buy', phrases: ['buy {item:house}'] }])).toThrow(/not a item/);
    expect(() => grammarWords([{ intent: 'buy', phrases: ['Buy it!'] }])).toThrow(/bad word/);
    const twice: CommandSpec[] = [
      { intent: 'stop', phrases: ['hold on'] },
      { intent: 'no', phrases: ['hold on'] },
    ];
    expect(() => parseIntent('hold on', twice)).toThrow(/means both stop and no/);
  });
});
