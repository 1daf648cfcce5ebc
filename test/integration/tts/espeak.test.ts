/** The real espeak-ng: text in on stdin, 16 kHz mono out, killed on abort. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { durationMs } from '../../../firmware-ts/src/audio/chunk.js';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { EspeakSynthesizer } from '../../../firmware-ts/src/tts/espeak.js';

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const v of pcm) sum += v * v;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const never = new AbortController().signal;

describe('EspeakSynthesizer', () => {
  it('speaks "hello world" as 16 kHz mono audio of a plausible length', async () => {
    const tts = new EspeakSynthesizer({ log: silentLogger() });
    const audio = await tts.synthesize('hello world', never);
    expect(audio.sampleRateHz).toBe(16000);
    expect(audio.channels).toBe(1);
    // Two words at 175 words per minute, with espeak-ng's short lead-in and final pause.
    expect(durationMs(audio)).toBeGreaterThan(400);
    expect(durationMs(audio)).toBeLessThan(2500);
    expect(rms(audio.pcm)).toBeGreaterThan(500);
  });

  it('speaks faster with more words per minute', async () => {
    const text = 'The next train to the airport leaves from platform four.';
    const slow = await new EspeakSynthesizer({ wordsPerMinute: 120, log: silentLogger() }).synthesize(
      text,
      never,
    );
    const fast = await new EspeakSynthesizer({ wordsPerMinute: 300, log: silentLogger() }).synthesize(
      text,
      never,
    );
    expect(durationMs(fast)).toBeLessThan(durationMs(slow) * 0.7);
  });

  it('takes text that starts with "-" or holds quotes as text, not options', async () => {
    const tts = new EspeakSynthesizer({ log: silentLogger() });
    for (const text of ['--help', '-v xx "quoted" and \'single\' $(rm -rf /) `x`; done']) {
      const audio = await tts.synthesize(text, never);
      expect(durationMs(audio)).toBeGreaterThan(300);
      expect(rms(audio.pcm)).toBeGreaterThan(500);
    }
  });

  it('gives empty audio for empty text, without running espeak-ng', async () => {
    const tts = new EspeakSynthesizer({ command: '/nonexistent/espeak-ng', log: silentLogger() });
    const audio = await tts.synthesize('  ', never);
    expect(audio.pcm).toHaveLength(0);
  });

  it('kills espeak-ng and rejects with E_ABORTED when aborted', async () => {
    const lines: { msg?: string; pid?: number }[] = [];
    const log = pino(
      { level: 'debug' },
      {
        write(line: string) {
          lines.push(JSON.parse(line) as { msg?: string; pid?: number });
        },
      },
    );
    const tts = new EspeakSynthesizer({ log });
    const controller = new AbortController();
    // About two seconds of synthesis on a desktop core.
    const said = tts.synthesize('word '.repeat(4000), controller.signal);
    setTimeout(() => {
      controller.abort();
    }, 100);
    await expect(said).rejects.toSatisfy((e) => isGlassesError(e, 'E_ABORTED'));
    const pid = lines.find((l) => l.msg === 'espeak-ng started')?.pid;
    expect(pid).toBeTypeOf('number');
    expect(isRunning(pid!)).toBe(false);
  });

  it('rejects at once, without starting espeak-ng, when the signal has already aborted', async () => {
    const tts = new EspeakSynthesizer({ command: '/nonexistent/espeak-ng', log: silentLogger() });
    const controller = new AbortController();
    controller.abort();
    await expect(tts.synthesize('hello', controller.signal)).rejects.toSatisfy((e) =>
      isGlassesError(e, 'E_ABORTED'),
    );
  });

  it('reports a missing espeak-ng with E_TTS_FAILED and what to install', async () => {
    const tts = new EspeakSynthesizer({ command: '/nonexistent/espeak-ng', log: silentLogger() });
    await expect(tts.synthesize('hello', never)).rejects.toSatisfy(
      (e) => isGlassesError(e, 'E_TTS_FAILED') && /ENOENT.*install espeak-ng/.test(e.message),
    );
  });

  it('reports an unknown voice with espeak-ng’s own reason', async () => {
    const tts = new EspeakSynthesizer({ voice: 'nosuchvoice', log: silentLogger() });
    await expect(tts.synthesize('hello', never)).rejects.toSatisfy(
      (e) => isGlassesError(e, 'E_TTS_FAILED') && /voice does not exist/.test(e.message),
    );
  });

  it('refuses an out-of-range option when built', () => {
    expect(() => new EspeakSynthesizer({ pitch: 120, log: silentLogger() })).toThrow(/pitch/);
  });
});
