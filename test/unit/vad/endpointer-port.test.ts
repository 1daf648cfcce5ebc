/**
 * The endpointer takes any voice activity detector through its port (vad/vad.ts), Silero or not: its
 * decisions follow the detector's own window, here 256 samples (16 ms) instead of Silero's 512.
 */
import { describe, expect, it } from 'vitest';
import { Endpointer, type EndpointEvent } from '../../../firmware-ts/src/vad/endpointer.js';
import type { VoiceActivityDetector } from '../../../firmware-ts/src/vad/vad.js';

const WINDOW = 256;

/** One scripted probability per whole window pushed; 0 after the script. */
class ScriptedVad implements VoiceActivityDetector {
  readonly windowSamples = WINDOW;
  private buffered = 0;
  private next = 0;
  resets = 0;
  constructor(private readonly probs: readonly number[]) {}
  push(pcm: Int16Array): Promise<number[]> {
    this.buffered += pcm.length;
    const out: number[] = [];
    for (; this.buffered >= WINDOW; this.buffered -= WINDOW) out.push(this.probs[this.next++] ?? 0);
    return Promise.resolve(out);
  }
  reset(): void {
    this.resets++;
    this.buffered = 0;
  }
}

describe('Endpointer on a VoiceActivityDetector that is not Silero', () => {
  it("finds the utterance at the detector's own window boundaries", async () => {
    // 40 quiet windows (640 ms), 50 of speech (800 ms), then silence.
    const probs = [...Array<number>(40).fill(0.1), ...Array<number>(50).fill(0.9)];
    const vad = new ScriptedVad(probs);
    const ep = new Endpointer({
      vad,
      speechThreshold: 0.5,
      preRollMs: 300,
      shortSilenceMs: 350,
      longSilenceMs: 900,
      maxUtteranceMs: 8000,
    });
    expect(vad.resets).toBe(1);
    ep.begin(0);
    const events: EndpointEvent[] = [];
    const pcm = new Int16Array(WINDOW * 200); // 3.2 s
    for (let at = 0; at < pcm.length; at += 1000)
      events.push(
        ...(await ep.push({
          pcm: pcm.subarray(at, at + 1000),
          sampleRateHz: 16000,
          channels: 1,
          tsMs: at / 16,
        })),
      );
    const utterance = events.find((e) => e.type === 'utterance');
    // Speech from window 40 (640 ms) to the end of window 89 (1440 ms); 300 ms of pre-roll before,
    // 100 ms of tail after, closed by the long silence.
    expect(utterance).toMatchObject({ startMs: 340, endMs: 1540, reason: 'long-silence' });
    expect(utterance?.type === 'utterance' && utterance.pcm.length).toBe((1540 - 340) * 16);
  });
});
