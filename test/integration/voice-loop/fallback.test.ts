/**
 * Every failure of a turn ends in a short spoken fallback and the loop back at idle, through the real
 * runner, machine, effects, responder and voice: the recogniser, synthesis, playback, the camera's
 * answer and the cloud's each fail once, and the next turn is answered as if nothing happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GlassesError } from '../../../firmware-ts/src/errors.js';
import { SAMPLES_DIR } from '../../../firmware-ts/src/paths.js';
import { glasses } from '../board/cli.js';
import { pathWithout } from '../../helpers/tools-path.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';
import type { AnswerSource, VisionPort } from '../../../firmware-ts/src/voice-loop/ports.js';
import { command, runScript, wake, type Cue } from '../../helpers/scripted-loop.js';

const FALLBACK = "Sorry, that didn't work. Please try again.";
const TIME = /^It's 12 o'clock PM\.$/;

/** Wake, a command that fails; wake again, "what time is it", which must be answered. */
function script(first: Cue): Cue[] {
  return [wake(1000), first, wake(9000), command(9500, 'what time is it', 'time')];
}

const errors = (events: RunEvent[]): string[] => events.flatMap((e) => (e.type === 'error' ? [e.code] : []));

/** The states the first turn went through, and that the loop was idle before the second wake. */
function firstTurn(events: RunEvent[]): string[] {
  return events
    .filter((e): e is Extract<RunEvent, { type: 'state' }> => e.type === 'state' && e.turnId !== 2)
    .filter((e) => e.atMs < 9000)
    .map((e) => e.to);
}

describe('a failed turn ends in a spoken fallback, then idle', () => {
  it('the recogniser cannot start (E_RECOGNIZER_START)', async () => {
    let calls = 0;
    const run = await runScript(script(command(1500, 'battery', 'battery')), {
      durationMs: 14_000,
      faults: {
        recognize: () =>
          calls++ === 0 ? new GlassesError('E_RECOGNIZER_START', 'pocketsphinx: not found') : undefined,
      },
    });
    expect(errors(run.events)).toEqual(['E_RECOGNIZER_START']);
    expect(run.said[0]).toBe(FALLBACK);
    expect(firstTurn(run.events)).toEqual(['attending', 'understanding', 'answering', 'idle']);
    expect(run.said[1]).toMatch(TIME);
  });

  it('synthesis fails: the fallback made at start is played', async () => {
    const run = await runScript(script(command(1500, 'battery', 'battery')), {
      durationMs: 14_000,
      faults: {
        synthesize: (text) =>
          text.startsWith("I can't read a battery")
            ? new GlassesError('E_TTS_FAILED', 'espeak-ng -v en-us: exited 1')
            : undefined,
      },
    });
    expect(errors(run.events)).toEqual(['E_TTS_FAILED']);
    const say = run.events.find((e) => e.type === 'say');
    expect(say).toMatchObject({ text: FALLBACK, source: 'prompt', completed: true });
    expect(firstTurn(run.events).at(-1)).toBe('idle');
    expect(run.said.at(-1)).toMatch(TIME);
  });

  it('synthesis fails from the start: the failure tone is played instead, and the loop goes on', async () => {
    let plays = 0;
    const run = await runScript([wake(1000), command(1500, 'battery', 'battery')], {
      durationMs: 8000,
      faults: {
        synthesize: () => new GlassesError('E_TTS_FAILED', 'espeak-ng -v zz: no such voice'),
        play: () => {
          plays++;
          return undefined;
        },
      },
    });
    expect(errors(run.events)).toEqual(['E_TTS_FAILED']);
    expect(run.said).toEqual([]);
    // The earcon, the answer's stream (empty: nothing could be synthesised), then the failure tone.
    expect(plays).toBe(3);
    expect(firstTurn(run.events).at(-1)).toBe('idle');
  });

  it('playback fails: nothing can be heard, the turn just ends', async () => {
    let plays = 0;
    const run = await runScript(script(command(1500, 'battery', 'battery')), {
      durationMs: 14_000,
      faults: {
        // The earcon plays; the answer's playback fails; then the speaker is back.
        play: () =>
          ++plays === 2 ? new GlassesError('E_SPEAKER_FAILED', 'aplay -D default: exited 1') : undefined,
      },
    });
    expect(errors(run.events)).toEqual(['E_SPEAKER_FAILED']);
    expect(firstTurn(run.events)).toEqual(['attending', 'understanding', 'answering', 'idle']);
    expect(run.said).toHaveLength(1);
    expect(run.said[0]).toMatch(TIME);
  });

  it("the camera's answer fails", async () => {
    const vision: VisionPort = {
      answer: () =>
        Promise.reject(new GlassesError('E_CAMERA_FAILED', 'camera /dev/video0: no frame in 2 s')),
      sceneFor: () => undefined,
    };
    const run = await runScript(script(command(1500, 'what is this', 'identify')), {
      durationMs: 14_000,
      vision,
    });
    expect(errors(run.events)).toEqual(['E_CAMERA_FAILED']);
    expect(run.said).toEqual([FALLBACK, expect.stringMatching(TIME)]);
    expect(firstTurn(run.events).at(-1)).toBe('idle');
  });

  it("the cloud's answer fails part-way", async () => {
    const answers: AnswerSource = {
      // eslint-disable-next-line @typescript-eslint/require-await
      async *ask() {
        yield 'The moon is about ';
        throw new GlassesError('E_CLOUD_UNREACHABLE', 'llm: connection reset');
      },
    };
    const run = await runScript(
      [
        wake(1000),
        { atMs: 1500, words: 'how far away is the moon' },
        wake(9000),
        command(9500, 'what time is it', 'time'),
      ],
      { durationMs: 14_000, answers },
    );
    expect(errors(run.events)).toEqual(['E_CLOUD_UNREACHABLE']);
    expect(run.said).toContain(FALLBACK);
    expect(run.said.at(-1)).toMatch(TIME);
    expect(firstTurn(run.events).at(-1)).toBe('idle');
  });
});

describe('through the real runtime', () => {
  it('glasses run without pocketsphinx says the fallback (espeak-ng) after the wake phrase and is idle again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fallback-'));
    try {
      const r = await glasses(
        [
          'run',
          '--mic',
          join(SAMPLES_DIR, 'hey_quark_what_time.wav'),
          '--speaker',
          join(dir, 'said.wav'),
          '--json',
          '--log-level',
          'silent',
        ],
        { PATH: pathWithout(join(dir, 'bin'), 'pocketsphinx_continuous') },
      );
      const events = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as RunEvent);
      expect(r.code).toBe(1);
      expect(errors(events)).toEqual(['E_RECOGNIZER_START']);
      expect(events.find((e) => e.type === 'say')).toMatchObject({ text: FALLBACK, completed: true });
      const states = events.flatMap((e) => (e.type === 'state' ? [e.to] : []));
      expect(states).toEqual(['attending', 'understanding', 'answering', 'idle']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
