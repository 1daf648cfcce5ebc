/**
 * What the synthetic voices say: questions that follow the wake phrase, ordinary sentences for the
 * negatives (made from templates and word lists, so there are thousands of different ones), and the
 * lexicon the near-miss generator draws real words from.
 */
import type { Prng } from './prng.js';

/** Said after the wake phrase in `phrase+question` positives; also said alone as negatives. */
export const QUESTIONS: readonly string[] = [
  'what is this',
  'what am i looking at',
  'read this',
  'how much is this',
  'what time is it',
  'buy this',
  'order a coffee',
  'where is my order',
  'what can you do',
  'battery',
  'louder',
  'stop',
  'what is the weather like today',
  'how far is the station',
  'call a taxi',
  'translate this sign',
  'who is that',
  'set a timer for ten minutes',
  'remind me to buy milk',
  'what does this say',
  'take a picture',
  'is this gluten free',
  'how do i get home',
  'play some music',
  'what was that song',
  'tell me a joke',
  'what is the capital of france',
  'send a message to anna',
  'turn it down',
  'yes please',
];

const SUBJECTS = [
  'i', 'we', 'you', 'they', 'my brother', 'her sister', 'the teacher', 'our neighbour', 'the driver',
  'a friend of mine', 'the old man', 'my mother', 'the children', 'everyone', 'nobody', 'the manager',
  'the doctor', 'my colleague', 'the waiter', 'the students',
]; // prettier-ignore
const VERBS_PAST = [
  'walked to', 'drove to', 'looked at', 'talked about', 'forgot', 'found', 'bought', 'painted', 'cleaned',
  'visited', 'opened', 'closed', 'left', 'fixed', 'sold', 'borrowed', 'carried', 'wanted', 'liked',
  'remembered', 'watched', 'described', 'ordered', 'cooked', 'built',
]; // prettier-ignore
const OBJECTS = [
  'the market', 'a new bicycle', 'the kitchen window', 'an old photograph', 'the blue umbrella',
  'the train station', 'a cup of tea', 'the garden fence', 'the library books', 'a loaf of bread',
  'the football match', 'the shopping list', 'a warm jacket', 'the museum', 'the wooden table',
  'a birthday cake', 'the river bank', 'the concert tickets', 'some fresh apples', 'the printer',
  'the yellow house', 'a paper map', 'the morning news', 'the back door', 'a small dog',
]; // prettier-ignore
const TIMES = [
  'yesterday', 'last week', 'this morning', 'on sunday', 'after lunch', 'before dinner', 'at midnight',
  'in the spring', 'every day', 'two years ago', 'later tonight', 'on the way home',
]; // prettier-ignore
const ADJECTIVES = [
  'quiet', 'busy', 'expensive', 'cheap', 'beautiful', 'broken', 'heavy', 'crowded', 'cold', 'bright',
  'strange', 'comfortable', 'noisy', 'empty', 'famous', 'tiny', 'enormous', 'lovely', 'boring', 'wet',
]; // prettier-ignore
const PLACES = [
  'in the city', 'near the park', 'by the sea', 'at the office', 'in the village', 'on the bus',
  'at the airport', 'in the supermarket', 'at school', 'in the mountains', 'at the hospital',
  'downstairs', 'across the street', 'behind the church', 'at the corner shop',
]; // prettier-ignore
const REASONS = [
  'because it was raining', 'since the shop was closed', 'although it was late', 'because we were hungry',
  'so that nobody would wait', 'while the kettle boiled', 'when the bell rang', 'as the sun went down',
]; // prettier-ignore

type Slot = readonly string[];
const TEMPLATES: readonly (readonly (Slot | string)[])[] = [
  [SUBJECTS, VERBS_PAST, OBJECTS, TIMES],
  [TIMES, SUBJECTS, VERBS_PAST, OBJECTS, PLACES],
  [OBJECTS, 'was', ADJECTIVES, REASONS],
  [SUBJECTS, VERBS_PAST, OBJECTS, REASONS],
  ['the weather', PLACES, 'was', ADJECTIVES, TIMES],
  ['do you think', OBJECTS, 'is', ADJECTIVES],
  ['please bring', OBJECTS, 'to the meeting', TIMES],
  ['it is', ADJECTIVES, PLACES, 'at this time of year'],
  [SUBJECTS, 'said that', OBJECTS, 'looked', ADJECTIVES],
  ['can you remember where', SUBJECTS, VERBS_PAST, OBJECTS],
  ['i wonder why', OBJECTS, 'is so', ADJECTIVES],
  ['let us meet', PLACES, TIMES],
];

/** One ordinary sentence. `avoid` words (the phrase's) never appear. */
export function sentence(rng: Prng, avoid: readonly string[] = []): string {
  for (;;) {
    const template = rng.pick(TEMPLATES);
    const text = template.map((part) => (typeof part === 'string' ? part : rng.pick(part))).join(' ');
    const words = text.split(' ');
    if (!avoid.some((a) => words.includes(a))) return text;
  }
}

/**
 * Real words for the near-miss generator: common short words and names, many of them one sound
 * away from some phrase a product might use.
 */
export const LEXICON: readonly string[] = [
  // -ark, -ork, -art and friends
  'bark', 'clark', 'dark', 'lark', 'mark', 'park', 'shark', 'spark', 'stark', 'quark', 'arc', 'ark',
  'cork', 'fork', 'pork', 'york', 'stork', 'work', 'quirk', 'jerk', 'perk', 'lurk', 'murk', 'clerk',
  'quart', 'cart', 'dart', 'heart', 'part', 'start', 'smart', 'art', 'court', 'short', 'sport', 'port',
  'card', 'guard', 'hard', 'yard', 'cord', 'lord', 'sword', 'quake', 'quack', 'quick', 'quit', 'quite',
  'queen', 'quest', 'quiet', 'quote', 'crack', 'crank', 'clock', 'cloak', 'croak', 'crook', 'car',
  'far', 'jar', 'star', 'bar', 'tar', 'war', 'core', 'more', 'four', 'door', 'floor',
  // names and words near common wake names
  'jarvis', 'travis', 'davis', 'mavis', 'service', 'nervous', 'harvest', 'marvin', 'marvel', 'carvings',
  'jervis', 'purvis', 'elvis', 'dennis', 'tennis', 'jarvie', 'garvey', 'harvey', 'travers', 'jasper',
  'alexa', 'alexis', 'alex', 'electra', 'lexus', 'alaska', 'computer', 'siri', 'serious', 'cereal',
  'mycroft', 'microsoft', 'minecraft', 'aircraft', 'rhasspy', 'raspberry', 'rascal', 'jessie',
  'google', 'giggle', 'cortana', 'banana', 'sofia', 'olivia', 'jack', 'jake', 'john', 'joan', 'mike',
  'max', 'sam', 'tom', 'anna', 'hannah', 'emma', 'mia', 'leo', 'noah', 'ben', 'dan', 'kate', 'claire',
  // greetings and fillers
  'hey', 'hay', 'hi', 'high', 'hello', 'okay', 'say', 'day', 'way', 'pay', 'may', 'they', 'stay',
  'play', 'grey', 'pray', 'hate', 'eight', 'eh', 'a', 'the', 'oh', 'so', 'yo', 'here', 'there',
  // everyday words
  'water', 'quarter', 'coffee', 'market', 'marker', 'garden', 'pardon', 'partner', 'parking', 'barking',
  'working', 'talking', 'walking', 'cooking', 'looking', 'morning', 'warning', 'corner', 'order',
  'border', 'monday', 'sunday', 'today', 'maybe', 'baby', 'lady', 'ready', 'heavy', 'happy',
]; // prettier-ignore
