/**
 * What `glasses run` tries once before its loop starts, for the health report: that the glasses can
 * speak (a sentence synthesised), understand (a bundled command synthesised and recognised as the
 * loop does) and be heard (silence played on the speaker). A board that cannot is not healthy, and a
 * flash onto it rolls back. Only our own sentence and command are used: nothing the wearer said.
 */
import { MODEL_SAMPLE_RATE_HZ } from './audio/chunk.js';
import { GlassesError, isGlassesError, messageOf, type ErrorCode } from './errors.js';
import type { Speaker } from './hal/speaker.js';
import { COMMANDS, type IntentName } from './speech/intents.js';
import type { CommandRecognizer } from './speech/recognizer.js';
import type { Synthesizer } from './tts/espeak.js';
import { CANCELLED } from './voice-loop/offer-dialogue.js';

/** A sentence the runtime says. */
export const SPEECH_SAMPLE = CANCELLED;
/** A bundled command, synthesised and recognised: what the loop does with "what time is it". */
export const COMMAND_SAMPLE: { text: string; intent: IntentName } = {
  text: COMMANDS.find((c) => c.intent === 'time')?.phrases[0] ?? 'what time is it',
  intent: 'time',
};
/** Long enough for aplay to open the device and play a period; too short to be heard. */
export const SPEAKER_PROBE_MS = 100;
/** Less than this is not a sentence: a synthesiser that said nothing, or a fraction of it. */
export const MIN_SPEECH_MS = 300;

/** One part, tried at start. The message names the tool or device, never anything heard. */
export type StartCheck =
  | { checked: false }
  | { checked: true; ok: true; ms: number }
  | { checked: true; ok: false; code: ErrorCode; message: string };

export type StartPart = 'speech' | 'recognizer' | 'speaker';

export interface StartCheckDeps {
  synthesizer: Synthesizer;
  recognizer: CommandRecognizer;
  /** Undefined: not tried (a file speaker, whose output must hold only what the glasses said). */
  speaker?: Speaker;
  signal: AbortSignal;
  /** Monotonic ms; injected by tests. */
  now?: () => number;
}

export async function runStartChecks(deps: StartCheckDeps): Promise<Record<StartPart, StartCheck>> {
  const now = deps.now ?? (() => performance.now());
  const timed = async (fn: () => Promise<void>): Promise<StartCheck> => {
    const started = now();
    try {
      await fn();
      return { checked: true, ok: true, ms: Math.round(now() - started) };
    } catch (err) {
      // Aborted too (the deadline, or a stop while starting): it did not work at start.
      return isGlassesError(err)
        ? { checked: true, ok: false, code: err.code, message: err.message }
        : { checked: true, ok: false, code: 'E_INTERNAL', message: messageOf(err) };
    }
  };
  const speech = await timed(async () => {
    const audio = await deps.synthesizer.synthesize(SPEECH_SAMPLE, deps.signal);
    const ms = (audio.pcm.length / audio.sampleRateHz) * 1000;
    if (ms < MIN_SPEECH_MS || !audio.pcm.some((s) => s !== 0)) {
      throw new GlassesError(
        'E_TTS_FAILED',
        `speech: a sentence gave ${Math.round(ms)} ms of audio${ms > 0 ? ', all silent or too short' : ''}; check tts.voice (espeak-ng --voices)`,
      );
    }
  });
  const recognizer = await timed(async () => {
    const audio = await deps.synthesizer.synthesize(COMMAND_SAMPLE.text, deps.signal);
    const r = await deps.recognizer.recognize(audio.pcm, deps.signal);
    if (!r.accepted || r.intent?.name !== COMMAND_SAMPLE.intent) {
      throw new GlassesError(
        'E_RECOGNIZER_FAILED',
        `speech: pocketsphinx did not recognise the bundled command "${COMMAND_SAMPLE.text}" (${r.accepted ? `heard ${r.intent?.name ?? 'no command'}` : 'rejected it'}); check the pocketsphinx-en-us model and tts.voice`,
      );
    }
  });
  const speaker =
    deps.speaker === undefined
      ? ({ checked: false } as const)
      : await timed(async () => {
          const pcm = new Int16Array((SPEAKER_PROBE_MS * MODEL_SAMPLE_RATE_HZ) / 1000);
          await deps.speaker?.play(
            [{ pcm, sampleRateHz: MODEL_SAMPLE_RATE_HZ, channels: 1, tsMs: 0 }],
            deps.signal,
          );
        });
  return { speech, recognizer, speaker };
}
