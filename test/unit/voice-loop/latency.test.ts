import { describe, expect, it } from 'vitest';
import { closingSilenceMs, ReplyLatency } from '../../../firmware-ts/src/voice-loop/latency.js';

const silences = { shortMs: 300, longMs: 900 };

describe('closingSilenceMs', () => {
  it('is the silence the reason names, none for an utterance cut at its maximum length', () => {
    expect(closingSilenceMs('short-silence', silences)).toBe(300);
    expect(closingSilenceMs('long-silence', silences)).toBe(900);
    expect(closingSilenceMs('max-length', silences)).toBe(0);
  });
});

describe('ReplyLatency', () => {
  it('adds the closing silence, the recognition and the wall time from then to the first audio', () => {
    const l = new ReplyLatency();
    l.recognized(3, 300, 120, 10_000);
    expect(l.firstAudioMs(3, 10_450.4)).toBe(870);
  });

  it('knows nothing of a turn not recognised, ended, or with no audio played', () => {
    const l = new ReplyLatency();
    expect(l.firstAudioMs(1, 5)).toBeUndefined();
    l.recognized(1, 300, 100, 0);
    expect(l.firstAudioMs(1, undefined)).toBeUndefined();
    l.endTurn(1);
    expect(l.firstAudioMs(1, 5)).toBeUndefined();
  });
});
