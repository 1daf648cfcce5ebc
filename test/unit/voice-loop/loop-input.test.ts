import { describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../../firmware-ts/src/audio/chunk.js';
import type { EndpointEvent } from '../../../firmware-ts/src/vad/endpointer.js';
import type { Detection } from '../../../firmware-ts/src/wake/detector.js';
import { LoopInput } from '../../../firmware-ts/src/voice-loop/loop-input.js';
import type { Effect, LoopEvent } from '../../../firmware-ts/src/voice-loop/machine.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/run-events.js';
import { Utterances } from '../../../firmware-ts/src/voice-loop/utterances.js';

const chunk: AudioChunk = { pcm: new Int16Array(1280), sampleRateHz: 16000, channels: 1, tsMs: 1000 };

function setUp(found: { wakes?: Detection[]; endpoints?: EndpointEvent[]; echo?: boolean; use?: boolean }) {
  const log: string[] = [];
  const utterances = new Utterances();
  const input = new LoopInput({
    detector: {
      push: () => {
        log.push('detector');
        return Promise.resolve(found.wakes ?? []);
      },
    },
    endpointer: {
      push: () => {
        log.push('endpointer');
        return Promise.resolve(found.endpoints ?? []);
      },
    },
    silences: { shortMs: 300, longMs: 900 },
    ownVoice: { isEcho: () => found.echo ?? false },
    utterances,
    turnId: () => 4,
    dispatch: (e: LoopEvent, heard?: RunEvent): Effect[] => {
      log.push(
        `dispatch ${e.type}${'echo' in e ? ` echo=${e.echo}` : ''}${heard ? ` reporting ${heard.type}` : ''}`,
      );
      return found.use === true && e.type === 'utterance'
        ? [{ type: 'recognize', turnId: 4, utteranceId: e.utteranceId, purpose: 'command' }]
        : [];
    },
  });
  return { input, log, utterances };
}

describe('LoopInput', () => {
  it('hands a wake phrase to the machine with its report, and only then lets the endpointer hear the audio', async () => {
    const { input, log } = setUp({ wakes: [{ phrase: 'hey_quark', score: 0.9, atMs: 1040 }] });
    await input.push(chunk);
    expect(log).toEqual(['detector', 'dispatch wake echo=false reporting wake', 'endpointer']);
  });

  it('marks a wake phrase in the glasses own voice as an echo', async () => {
    const { input, log } = setUp({ wakes: [{ phrase: 'hey_quark', score: 0.9, atMs: 1040 }], echo: true });
    await input.push(chunk);
    expect(log).toContain('dispatch wake echo=true reporting wake');
  });

  const utterance: EndpointEvent = {
    type: 'utterance',
    pcm: Int16Array.of(7),
    startMs: 200,
    endMs: 1500,
    reason: 'long-silence',
  };

  it('keeps an utterance the machine acts on, with the silence that closed it', async () => {
    const { input, utterances } = setUp({
      endpoints: [{ type: 'speech-start', atMs: 200 }, utterance],
      use: true,
    });
    await input.push(chunk);
    expect(utterances.size).toBe(1);
    expect(utterances.get(1)).toMatchObject({ pcm: Int16Array.of(7), silenceWaitMs: 900 });
  });

  it('drops at once an utterance the machine does not act on', async () => {
    const { input, log, utterances } = setUp({ endpoints: [utterance] });
    await input.push(chunk);
    expect(log).toEqual(['detector', 'endpointer', 'dispatch utterance reporting utterance']);
    expect(utterances.size).toBe(0);
  });
});
