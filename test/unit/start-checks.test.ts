import { describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../firmware-ts/src/audio/chunk.js';
import { GlassesError } from '../../firmware-ts/src/errors.js';
import type { Speaker } from '../../firmware-ts/src/hal/speaker.js';
import type { Recognition } from '../../firmware-ts/src/speech/recognizer.js';
import { runStartChecks, type StartCheckDeps } from '../../firmware-ts/src/start-checks.js';
import type { Synthesizer } from '../../firmware-ts/src/tts/espeak.js';

function chunk(ms: number, value = 1000): AudioChunk {
  return {
    pcm: new Int16Array((ms * 16_000) / 1000).fill(value),
    sampleRateHz: 16_000,
    channels: 1,
    tsMs: 0,
  };
}

const TIME: Recognition = {
  transcript: 'what time is it',
  intent: { name: 'time', slots: {} },
  accepted: true,
  confidence: 0.9,
  ms: 300,
};

function deps(over: Partial<StartCheckDeps> = {}): StartCheckDeps & { said: string[]; played: number[] } {
  const said: string[] = [];
  const played: number[] = [];
  const synthesizer: Synthesizer = {
    synthesize: (text) => {
      said.push(text);
      return Promise.resolve(chunk(900));
    },
  };
  const speaker: Speaker = {
    name: 'fake',
    play: (audio) => {
      for (const c of audio as Iterable<AudioChunk>) played.push(c.pcm.length);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  let t = 0;
  return {
    synthesizer,
    recognizer: { recognize: () => Promise.resolve(TIME) },
    speaker,
    signal: new AbortController().signal,
    now: () => (t += 10),
    said,
    played,
    ...over,
  };
}

describe('runStartChecks', () => {
  it('speaks a sentence, recognises the synthesised bundled command and plays silence', async () => {
    const d = deps();
    const checks = await runStartChecks(d);
    expect(checks).toEqual({
      speech: { checked: true, ok: true, ms: 10 },
      recognizer: { checked: true, ok: true, ms: 10 },
      speaker: { checked: true, ok: true, ms: 10 },
    });
    expect(d.said).toEqual(['Okay, cancelled.', 'what time is it']);
    // 100 ms of 16 kHz silence.
    expect(d.played).toEqual([1600]);
  });

  it('a tool that cannot start fails its part with the coded error; the others are still tried', async () => {
    const noEspeak = new GlassesError(
      'E_TTS_FAILED',
      'espeak-ng -v en-us: cannot start it (spawn espeak-ng ENOENT); install espeak-ng',
    );
    const checks = await runStartChecks(
      deps({ synthesizer: { synthesize: () => Promise.reject(noEspeak) } }),
    );
    expect(checks.speech).toEqual({
      checked: true,
      ok: false,
      code: 'E_TTS_FAILED',
      message: noEspeak.message,
    });
    expect(checks.recognizer).toMatchObject({ checked: true, ok: false, code: 'E_TTS_FAILED' });
    expect(checks.speaker).toMatchObject({ checked: true, ok: true });

    const noDecoder = new GlassesError(
      'E_RECOGNIZER_START',
      'speech: cannot start pocketsphinx_continuous (spawn ENOENT)',
    );
    const unheard = await runStartChecks(
      deps({ recognizer: { recognize: () => Promise.reject(noDecoder) } }),
    );
    expect(unheard.recognizer).toMatchObject({ checked: true, ok: false, code: 'E_RECOGNIZER_START' });
    expect(unheard.speech).toMatchObject({ ok: true });
  });

  it('a wrong or rejected command, or silent speech, fails without saying what was heard', async () => {
    const wrong = await runStartChecks(
      deps({
        recognizer: {
          recognize: () =>
            Promise.resolve({ ...TIME, transcript: 'what is this', intent: { name: 'identify', slots: {} } }),
        },
      }),
    );
    expect(wrong.recognizer).toMatchObject({ checked: true, ok: false, code: 'E_RECOGNIZER_FAILED' });
    expect(JSON.stringify(wrong.recognizer)).not.toContain('what is this');
    const rejected = await runStartChecks(
      deps({ recognizer: { recognize: () => Promise.resolve({ ...TIME, accepted: false }) } }),
    );
    expect(rejected.recognizer).toMatchObject({ ok: false, code: 'E_RECOGNIZER_FAILED' });
    const silent = await runStartChecks(
      deps({ synthesizer: { synthesize: () => Promise.resolve(chunk(900, 0)) } }),
    );
    expect(silent.speech).toMatchObject({ ok: false, code: 'E_TTS_FAILED' });
  });

  it('no speaker given (a file speaker) is not checked', async () => {
    const d = deps();
    delete d.speaker;
    expect((await runStartChecks(d)).speaker).toEqual({ checked: false });
  });
});
