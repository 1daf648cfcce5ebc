import { describe, expect, it } from 'vitest';
import { framePieces } from '../../../firmware-ts/src/voice-loop/runner.js';

describe('framePieces', () => {
  it('keeps a chunk of one frame or less whole', () => {
    const chunk = { pcm: new Int16Array(1280), sampleRateHz: 16000, channels: 1, tsMs: 40 };
    expect([...framePieces(chunk)]).toEqual([chunk]);
  });

  it('cuts a long chunk into 80 ms pieces with their own times, the last shorter', () => {
    const pcm = Int16Array.from({ length: 3000 }, (_, i) => i);
    const pieces = [...framePieces({ pcm, sampleRateHz: 16000, channels: 1, tsMs: 1000 })];
    expect(pieces.map((p) => [p.pcm.length, p.tsMs])).toEqual([
      [1280, 1000],
      [1280, 1080],
      [440, 1160],
    ]);
    expect(pieces[2]?.pcm[0]).toBe(2560);
  });

  it('counts frames, not samples, in interleaved stereo at 44.1 kHz', () => {
    const pcm = new Int16Array(2 * 3528 * 2);
    const pieces = [...framePieces({ pcm, sampleRateHz: 44100, channels: 2, tsMs: 0 })];
    expect(pieces.map((p) => [p.pcm.length, p.tsMs])).toEqual([
      [7056, 0],
      [7056, 80],
    ]);
  });
});
