import { describe, expect, it } from 'vitest';
import { CachedRecognizer } from '../../../firmware-ts/src/speech/cached-recognizer.js';
import type { CommandRecognizer, Recognition } from '../../../firmware-ts/src/speech/recognizer.js';

class Counting implements CommandRecognizer {
  calls = 0;
  fail = false;
  recognize(pcm: Int16Array): Promise<Recognition> {
    this.calls++;
    if (this.fail) return Promise.reject(new Error('decoder died'));
    return Promise.resolve({
      transcript: `n${pcm.length}`,
      intent: undefined,
      accepted: false,
      confidence: 0,
      ms: 1,
    });
  }
}

describe('CachedRecognizer', () => {
  it('recognises the same audio once, and new audio again', async () => {
    const inner = new Counting();
    const r = new CachedRecognizer(inner);
    const signal = new AbortController().signal;
    const a = Int16Array.from([1, 2, 3]);
    expect((await r.recognize(a, signal)).transcript).toBe('n3');
    expect((await r.recognize(Int16Array.from([1, 2, 3]), signal)).transcript).toBe('n3');
    expect(inner.calls).toBe(1);
    await r.recognize(Int16Array.from([1, 2, 4]), signal);
    expect(inner.calls).toBe(2);
  });

  it('does not keep a failure', async () => {
    const inner = new Counting();
    inner.fail = true;
    const r = new CachedRecognizer(inner);
    const signal = new AbortController().signal;
    await expect(r.recognize(Int16Array.from([1]), signal)).rejects.toThrow('decoder died');
    inner.fail = false;
    expect((await r.recognize(Int16Array.from([1]), signal)).transcript).toBe('n1');
  });
});
