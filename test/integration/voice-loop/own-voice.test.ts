/**
 * The glasses' own voice saying the wake phrase does not wake them, also when the answer is streamed
 * from the cloud: through the real runner, machine and Voice (test/helpers/scripted-loop.ts), the wake
 * phrase is heard while an answer that says it is playing.
 */
import { describe, expect, it } from 'vitest';
import type { AnswerSource } from '../../../firmware-ts/src/voice-loop/ports.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';
import { runScript, wake, type Cue } from '../../helpers/scripted-loop.js';

/** A cloud answer in pieces, the wake phrase split across two of them. */
class StreamingAnswers implements AnswerSource {
  // eslint-disable-next-line @typescript-eslint/require-await
  async *ask(): AsyncIterable<string> {
    yield 'People call me by saying hey';
    yield ' quark, and then they ask';
    yield ' what they want to know.';
  }
}

const question: Cue = { atMs: 1500, words: 'what do people call you' };

const says = (events: RunEvent[]) =>
  events.filter((e): e is Extract<RunEvent, { type: 'say' }> => e.type === 'say');

describe('the own-voice check', () => {
  it('a streamed cloud answer that says the wake phrase does not wake the glasses while it plays', async () => {
    // The answer plays from about 2.1 s for about 3 s; the phrase is heard 1.4 s into it.
    const { events } = await runScript([wake(1000), question, wake(3500)], {
      durationMs: 8000,
      answers: new StreamingAnswers(),
    });
    const wakes = events.filter((e) => e.type === 'wake');
    expect(wakes.map((w) => w.echo)).toEqual([false, true]);
    const [answer] = says(events);
    expect(answer).toMatchObject({
      source: 'answer-source',
      text: 'People call me by saying hey quark, and then they ask what they want to know.',
      completed: true,
    });
    // One turn: the phrase in the glasses' own voice started none.
    expect(
      new Set(events.flatMap((e) => (e.type === 'state' && e.turnId !== undefined ? [e.turnId] : []))),
    ).toEqual(new Set([1]));
  });

  it('the wearer saying it after the answer has ended still wakes them', async () => {
    const { events } = await runScript([wake(1000), question, wake(6500)], {
      durationMs: 10_000,
      answers: new StreamingAnswers(),
    });
    expect(events.filter((e) => e.type === 'wake').map((w) => w.echo)).toEqual([false, false]);
    expect(says(events)[0]?.completed).toBe(true);
  });
});
