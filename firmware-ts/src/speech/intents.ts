/**
 * The on-device commands, as data. From one table come the JSGF grammar the recogniser is
 * constrained to, the words its dictionary needs, and the mapping from a recognised transcript
 * back to an intent with its slots. Anything the table does not produce is not a command: the
 * voice loop sends it to the cloud as an open question.
 */

export type IntentName =
  | 'identify'
  | 'read'
  | 'price'
  | 'buy'
  | 'order'
  | 'order_status'
  | 'yes'
  | 'no'
  | 'stop'
  | 'repeat'
  | 'louder'
  | 'quieter'
  | 'time'
  | 'battery'
  | 'help';

export interface Intent {
  name: IntentName;
  slots: Record<string, string | number>;
}

/** Spoken words a slot takes, and the value each stands for. */
export const SLOT_VALUES = {
  quantity: {
    one: 1,
    two: 2,
    three: 3,
    four: 4,
    five: 5,
    six: 6,
    seven: 7,
    eight: 8,
    nine: 9,
    ten: 10,
  },
  item: {
    coffee: 'coffee',
    tea: 'tea',
    taxi: 'taxi',
    cab: 'taxi',
    pizza: 'pizza',
    sandwich: 'sandwich',
    water: 'water',
  },
} as const satisfies Record<string, Record<string, string | number>>;

export type SlotName = keyof typeof SLOT_VALUES;

export interface CommandSpec {
  readonly intent: IntentName;
  /**
   * Lower-case phrases. `{quantity}` stands for any word of that slot; `{item:taxi|cab}` for
   * only those words of it.
   */
  readonly phrases: readonly string[];
  /** Slot values a phrase implies without saying them ("buy this" buys one). */
  readonly defaults?: Readonly<Record<string, string | number>>;
}

export const COMMANDS: readonly CommandSpec[] = [
  { intent: 'identify', phrases: ['what is this', 'what is that', "what's this", 'what am i looking at'] },
  { intent: 'read', phrases: ['read this', 'read that', 'read it'] },
  {
    intent: 'price',
    phrases: ['how much is this', 'how much is that', 'how much does this cost', 'what does this cost'],
  },
  {
    intent: 'buy',
    phrases: [
      'buy this',
      'buy that',
      'buy it',
      'buy {quantity}',
      'buy {quantity} of these',
      'buy {quantity} of those',
    ],
    defaults: { quantity: 1 },
  },
  {
    intent: 'order',
    phrases: [
      'order a {item}',
      'order {item}',
      'order me a {item}',
      'get me a {item}',
      'call a {item:taxi|cab}',
      'call me a {item:taxi|cab}',
    ],
  },
  { intent: 'order_status', phrases: ['where is my order', "where's my order", 'track my order'] },
  { intent: 'yes', phrases: ['yes', 'yeah', 'yes please', 'okay', 'confirm'] },
  { intent: 'no', phrases: ['no', 'no thanks', 'cancel', 'cancel that', 'never mind'] },
  { intent: 'stop', phrases: ['stop', 'stop that', 'stop talking'] },
  { intent: 'repeat', phrases: ['repeat', 'repeat that', 'say that again'] },
  { intent: 'louder', phrases: ['louder', 'volume up', 'speak up', 'turn it up'] },
  { intent: 'quieter', phrases: ['quieter', 'softer', 'volume down', 'turn it down'] },
  { intent: 'time', phrases: ['what time is it', "what's the time", 'what is the time'] },
  { intent: 'battery', phrases: ['battery', 'battery level', 'how much battery is left'] },
  { intent: 'help', phrases: ['help', 'what can you do', 'what can i say'] },
];

type Token = { word: string } | { slot: SlotName; words: readonly string[] };

const SLOT_PATTERN = /^\{([a-z]+)(?::([a-z'|]+))?\}$/;

function isSlotName(name: string): name is SlotName {
  return Object.hasOwn(SLOT_VALUES, name);
}

function tokenize(phrase: string): Token[] {
  return phrase.split(' ').map((part) => {
    const m = SLOT_PATTERN.exec(part);
    if (m === null) {
      if (!/^[a-z']+$/.test(part)) throw new Error(`command phrase "${phrase}": bad word "${part}"`);
      return { word: part };
    }
    const name = m[1] ?? '';
    if (!isSlotName(name)) throw new Error(`command phrase "${phrase}": unknown slot {${name}}`);
    const all = Object.keys(SLOT_VALUES[name]);
    const words = m[2] === undefined ? all : m[2].split('|');
    for (const w of words) {
      if (!all.includes(w)) throw new Error(`command phrase "${phrase}": "${w}" is not a ${name}`);
    }
    return { slot: name, words };
  });
}

function slotValue(slot: SlotName, word: string): string | number {
  return (SLOT_VALUES[slot] as Record<string, string | number>)[word] ?? word;
}

/** Every word sequence the grammar accepts, with the intent it means. */
interface Expansion {
  text: string;
  intent: Intent;
}

function expand(spec: CommandSpec, phrase: string): Expansion[] {
  let partial: { words: string[]; slots: Record<string, string | number> }[] = [
    { words: [], slots: { ...spec.defaults } },
  ];
  for (const token of tokenize(phrase)) {
    if ('word' in token) {
      partial = partial.map((p) => ({ words: [...p.words, token.word], slots: p.slots }));
    } else {
      partial = partial.flatMap((p) =>
        token.words.map((w) => ({
          words: [...p.words, w],
          slots: { ...p.slots, [token.slot]: slotValue(token.slot, w) },
        })),
      );
    }
  }
  return partial.map((p) => ({ text: p.words.join(' '), intent: { name: spec.intent, slots: p.slots } }));
}

function buildExpansions(commands: readonly CommandSpec[]): Map<string, Intent> {
  const byText = new Map<string, Intent>();
  for (const spec of commands) {
    for (const phrase of spec.phrases) {
      for (const e of expand(spec, phrase)) {
        const seen = byText.get(e.text);
        if (seen !== undefined && !sameIntent(seen, e.intent)) {
          throw new Error(`command phrase "${e.text}" means both ${seen.name} and ${e.intent.name}`);
        }
        byText.set(e.text, e.intent);
      }
    }
  }
  return byText;
}

const expansionCache = new WeakMap<readonly CommandSpec[], Map<string, Intent>>();

function expansionsOf(commands: readonly CommandSpec[]): Map<string, Intent> {
  let map = expansionCache.get(commands);
  if (map === undefined) {
    map = buildExpansions(commands);
    expansionCache.set(commands, map);
  }
  return map;
}

export function sameIntent(a: Intent, b: Intent): boolean {
  if (a.name !== b.name) return false;
  const keys = Object.keys(a.slots);
  return keys.length === Object.keys(b.slots).length && keys.every((k) => a.slots[k] === b.slots[k]);
}

const DIGIT_WORDS = Object.fromEntries(
  Object.entries(SLOT_VALUES.quantity).map(([word, n]) => [String(n), word]),
) as Record<string, string>;

/**
 * Lower case, words only. Drops the decorations recognisers add: pocketsphinx's alternate
 * pronunciation marks (`read(2)`), fillers (`<sil>`, `[NOISE]`) and punctuation; spells out
 * the digits 1-10 ("buy 2" from a cloud recogniser).
 */
export function normalizeTranscript(text: string): string {
  return text
    .toLowerCase()
    .replace(/\(\d+\)/g, '')
    .replace(/<[^>]*>|\[[^\]]*\]/g, ' ')
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '' && w !== "'")
    .map((w) => DIGIT_WORDS[w] ?? w)
    .join(' ');
}

/** The command a transcript says, or undefined when it is not exactly one of the phrases. */
export function parseIntent(text: string, commands: readonly CommandSpec[] = COMMANDS): Intent | undefined {
  const intent = expansionsOf(commands).get(normalizeTranscript(text));
  return intent === undefined ? undefined : { name: intent.name, slots: { ...intent.slots } };
}

/** Every word the grammar uses, sorted: the recogniser's dictionary must know them all. */
export function grammarWords(commands: readonly CommandSpec[] = COMMANDS): string[] {
  const words = new Set<string>();
  for (const spec of commands) {
    for (const phrase of spec.phrases) {
      for (const t of tokenize(phrase)) {
        if ('word' in t) words.add(t.word);
        else for (const w of t.words) words.add(w);
      }
    }
  }
  return [...words].sort();
}

function ruleName(intent: IntentName): string {
  return `<${intent}>`;
}

function jsgfAlternatives(phrases: readonly string[]): string {
  return phrases
    .map((phrase) =>
      tokenize(phrase)
        .map((t) => {
          if ('word' in t) return t.word;
          const all = Object.keys(SLOT_VALUES[t.slot]);
          return t.words.length === all.length ? `<${t.slot}>` : `(${t.words.join(' | ')})`;
        })
        .join(' '),
    )
    .join(' | ');
}

/**
 * The commands as a JSGF grammar (one public rule, `<command>`), e.g. for pocketsphinx `-jsgf`.
 * Slots become rules of their own (`<quantity>`), restricted slots inline alternatives.
 */
export function commandGrammar(commands: readonly CommandSpec[] = COMMANDS, name = 'commands'): string {
  const intents = [...new Set(commands.map((c) => c.intent))];
  const lines = [
    '#JSGF V1.0;',
    '',
    `grammar ${name};`,
    '',
    `public <command> = ${intents.map(ruleName).join(' | ')};`,
    '',
  ];
  for (const intent of intents) {
    const phrases = commands.filter((c) => c.intent === intent).flatMap((c) => c.phrases);
    lines.push(`${ruleName(intent)} = ${jsgfAlternatives(phrases)};`);
  }
  const slots = new Set<SlotName>();
  for (const c of commands) {
    for (const p of c.phrases) {
      for (const t of tokenize(p)) {
        if ('slot' in t && t.words.length === Object.keys(SLOT_VALUES[t.slot]).length) slots.add(t.slot);
      }
    }
  }
  for (const slot of slots) lines.push(`<${slot}> = ${Object.keys(SLOT_VALUES[slot]).join(' | ')};`);
  return `${lines.join('\n')}\n`;
}
