/**
 * The development cloud's "model": no language model at all, an answer built from the request so a
 * new user (and a test) can see that the question, the scene and any audio or picture arrived. It is
 * 1-3 short sentences and always starts "Development cloud:", so nobody mistakes it for a real answer.
 */

/** What a chat request carried, as far as an answer needs it. */
export interface ChatInput {
  /** Text of the system (and developer) messages: instructions, and sometimes the scene. */
  readonly systemTexts: readonly string[];
  /** Text parts of the last user message: the question, and sometimes the scene. */
  readonly userTexts: readonly string[];
  readonly audio: boolean;
  readonly image: boolean;
}

export interface SceneFacts {
  readonly objects: readonly string[];
  readonly text: readonly string[];
  readonly prices: readonly string[];
}

export const ANSWER_PREFIX = 'Development cloud:';

/**
 * The line labels the device (cloud/messages.ts sceneText) or a person with curl might use for each
 * part of the scene: "Objects: cup (in focus, 82%), laptop (55%).", "Text read: \"...\"",
 * "Prices seen: 12 yuan 50.".
 */
const SCENE_LINE = {
  objects: /^\s*(?:objects?|detected(?: objects)?|labels?|seen)\s*:\s*(.*)$/i,
  text: /^\s*(?:text(?: read)?|ocr|read)\s*:\s*(.*)$/i,
  prices: /^\s*prices?(?: seen)?\s*:\s*(.*)$/i,
} as const;

/** Wrappers around the question that are not the question itself. */
const QUESTION_NOISE = [
  /^\s*(?:question|transcript|the wearer (?:asked|said)|asked)\b[^:\n]{0,30}:\s*/i,
  // "(On-device transcript, possibly inaccurate:) ...", "(The recogniser could not transcribe it.)"
  /^\s*\([^)]*\)\s*/,
  /\s*\b(?:the )?audio(?: of the question)? is attached\.?/i,
];
const EMPTY_VALUE = /^(?:none\b.*|nothing\b.*|n\/a|-|\[\]|"")?$/i;
const MAX_QUESTION_CHARS = 100;
const MAX_TEXT_CHARS = 60;

/** A value as written after its label, without a sentence's full stop or JSON quotes. */
function value(raw: string): string {
  const v = raw.trim().replace(/\.$/, '');
  if (!v.startsWith('"')) return v;
  try {
    const parsed: unknown = JSON.parse(v);
    return typeof parsed === 'string' ? parsed : v;
  } catch {
    return v;
  }
}

/** Pulls objects, text and prices out of free text: labelled lines, or a JSON object with those keys. */
export function extractScene(texts: readonly string[]): { scene: SceneFacts; rest: string[] } {
  const objects: string[] = [];
  const text: string[] = [];
  const prices: string[] = [];
  const rest: string[] = [];
  for (const part of texts) {
    if (fromJson(part, objects, text, prices)) continue;
    for (const line of part.split(/\r?\n/)) {
      const o = SCENE_LINE.objects.exec(line)?.[1];
      const t = SCENE_LINE.text.exec(line)?.[1];
      const p = SCENE_LINE.prices.exec(line)?.[1];
      if (o !== undefined) {
        // Scores and notes in brackets hold commas of their own: "(in focus, 82%)".
        objects.push(...listItems(value(o).replace(/\([^)]*\)/g, ''), /[,;|]/).map(withoutScore));
      } else if (t !== undefined) {
        const v = value(t);
        if (!EMPTY_VALUE.test(v)) text.push(v);
      } else if (p !== undefined) {
        // "1,299" is one price: only a comma before a space separates two.
        prices.push(...listItems(value(p), /[;|]|,(?=\s)/));
      } else if (line.trim() !== '' && !line.trim().endsWith(':')) {
        // A line ending in a colon introduces what follows ("What the camera sees now:").
        rest.push(line.trim());
      }
    }
  }
  return { scene: { objects: unique(objects), text: unique(text), prices: unique(prices) }, rest };
}

function fromJson(part: string, objects: string[], text: string[], prices: string[]): boolean {
  if (!part.trimStart().startsWith('{')) return false;
  let json: unknown;
  try {
    json = JSON.parse(part);
  } catch {
    return false;
  }
  if (typeof json !== 'object' || json === null) return false;
  const record = json as Record<string, unknown>;
  const strings = (value: unknown, key: string): string[] =>
    Array.isArray(value)
      ? value.flatMap((v: unknown) => {
          if (typeof v === 'string') return [v];
          if (typeof v === 'object' && v !== null) {
            const inner = (v as Record<string, unknown>)[key];
            if (typeof inner === 'string') return [inner];
            const { amount, currency } = v as Record<string, unknown>;
            if (typeof amount === 'number')
              return [`${amount}${typeof currency === 'string' ? ` ${currency}` : ''}`];
          }
          return [];
        })
      : [];
  objects.push(...strings(record.objects, 'label'));
  text.push(...strings(record.text ?? record.lines, 'text'));
  prices.push(...strings(record.prices, 'text'));
  return true;
}

function listItems(value: string, separator: RegExp): string[] {
  return value
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => !EMPTY_VALUE.test(s));
}

/** "cup (0.82)", "cup 0.82", "cup: 82%" -> "cup". */
function withoutScore(item: string): string {
  return item.replace(/[\s:(]*\d*\.?\d+%?\)?$/, '').trim() || item;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

/** Sentence ends inside quoted text would make the device's sentence splitter cut the answer there. */
function speakable(s: string, max: number): string {
  const flat = s
    .replace(/[.!?]+(?=\s|$)/g, '')
    .replace(/["\s]+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

function withArticle(label: string): string {
  return /^(?:a|an|the|some|\d)\b/i.test(label) ? label : `${/^[aeiou]/i.test(label) ? 'an' : 'a'} ${label}`;
}

const CAPITALS: Readonly<Record<string, string>> = {
  france: 'Paris',
  germany: 'Berlin',
  italy: 'Rome',
  spain: 'Madrid',
  japan: 'Tokyo',
  china: 'Beijing',
  'the uk': 'London',
  'the united kingdom': 'London',
  england: 'London',
  'the usa': 'Washington, D C',
  'the united states': 'Washington, D C',
};

const ARITHMETIC =
  /(-?\d+(?:\.\d+)?)\s*(plus|\+|minus|-|times|x|\*|multiplied by|divided by|over|\/)\s*(-?\d+(?:\.\d+)?)/i;

/** A few common questions get a real answer, so the loop sounds like it works end to end. */
export function cannedAnswer(question: string): string | undefined {
  const q = question.toLowerCase();
  const capital = /capital (?:city )?of ([a-z ]+?)\s*$/.exec(q.replace(/[?.!]+$/, ''));
  if (capital?.[1] !== undefined) {
    const country = capital[1].trim();
    const city = CAPITALS[country] ?? CAPITALS[`the ${country}`];
    if (city !== undefined) return `The capital of ${titleCase(country)} is ${city}.`;
  }
  const sum = ARITHMETIC.exec(q);
  if (sum?.[1] !== undefined && sum[2] !== undefined && sum[3] !== undefined) {
    const [a, b] = [Number(sum[1]), Number(sum[3])];
    const op = sum[2];
    const value = /plus|\+/.test(op)
      ? a + b
      : /minus|-/.test(op)
        ? a - b
        : /div|over|\//.test(op)
          ? a / b
          : a * b;
    if (Number.isFinite(value)) return `${sum[1]} ${op} ${sum[3]} is ${Math.round(value * 1000) / 1000}.`;
  }
  if (/\b(?:who|what) are you\b/.test(q)) return "I'm a stand-in for the cloud, running on this computer.";
  if (/\bweather\b/.test(q)) return "I can't check the weather: I'm not connected to anything.";
  if (/\bjoke\b/.test(q)) return 'Why did the robot wear glasses? To improve its vision.';
  if (/^(?:hello|hi|hey)\b/.test(q)) return 'Hello, I can hear you.';
  return undefined;
}

function titleCase(s: string): string {
  return s
    .replace(/\b(?!the\b)[a-z]/g, (c) => c.toUpperCase())
    .replace(/\b(uk|usa)\b/i, (m) => m.toUpperCase());
}

/** The answer: what was asked and attached, what the scene holds, and a canned answer if there is one. */
export function composeAnswer(input: ChatInput): string {
  const system = extractScene(input.systemTexts).scene;
  const user = extractScene(input.userTexts);
  const scene: SceneFacts = {
    objects: unique([...user.scene.objects, ...system.objects]),
    text: unique([...user.scene.text, ...system.text]),
    prices: unique([...user.scene.prices, ...system.prices]),
  };
  const question = speakable(
    user.rest.map((l) => QUESTION_NOISE.reduce((q, noise) => q.replace(noise, ''), l)).join(' '),
    MAX_QUESTION_CHARS,
  );
  const sentences = [firstSentence(question, input)];
  const seen = sceneSentence(scene);
  if (seen !== undefined) sentences.push(seen);
  sentences.push(cannedAnswer(question) ?? 'A real model would answer here.');
  return sentences.join(' ');
}

function firstSentence(question: string, input: ChatInput): string {
  const picture = input.image ? ' and a picture' : '';
  if (input.audio) {
    const heard = question === '' ? '' : `; the device heard "${question}"`;
    return `${ANSWER_PREFIX} I received your question as audio${picture}${heard}.`;
  }
  if (question !== '')
    return `${ANSWER_PREFIX} you asked "${question}"${input.image ? ', with a picture' : ''}.`;
  return `${ANSWER_PREFIX} I received ${input.image ? 'a picture but ' : ''}no question.`;
}

function sceneSentence(scene: SceneFacts): string | undefined {
  if (scene.objects.length + scene.text.length + scene.prices.length === 0) return undefined;
  const subject =
    scene.objects.length > 0
      ? `You are looking at ${listOf(scene.objects.slice(0, 4).map((o) => withArticle(speakable(o, 30))))}`
      : 'You are looking at something';
  const details: string[] = [];
  if (scene.text.length > 0)
    details.push(`the text "${speakable(scene.text.slice(0, 2).join(' '), MAX_TEXT_CHARS)}"`);
  if (scene.prices.length > 0)
    details.push(`the price${scene.prices.length > 1 ? 's' : ''} ${listOf(scene.prices.slice(0, 3))}`);
  return details.length > 0 ? `${subject}, with ${listOf(details)}.` : `${subject}.`;
}
