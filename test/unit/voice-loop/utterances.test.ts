import { describe, expect, it } from 'vitest';
import { Utterances } from '../../../firmware-ts/src/voice-loop/utterances.js';

describe('Utterances', () => {
  it('keeps each utterance under its own id until taken or dropped', () => {
    const u = new Utterances();
    const a = u.add(Int16Array.of(1), 300);
    const b = u.add(Int16Array.of(2), 900);
    expect(a).not.toBe(b);
    expect(u.get(a)).toEqual({ pcm: Int16Array.of(1), silenceWaitMs: 300 });
    expect(u.take(a)?.silenceWaitMs).toBe(300);
    expect(u.get(a)).toBeUndefined();
    u.drop(b);
    expect(u.size).toBe(0);
  });

  it('keeps what the recogniser made of an open question with its audio', () => {
    const u = new Utterances();
    const id = u.add(Int16Array.of(1), 300);
    u.note(id, 'what is that', 0.4);
    expect(u.take(id)).toMatchObject({ transcript: 'what is that', confidence: 0.4 });
    u.note(id, 'too late', 1);
    expect(u.size).toBe(0);
  });
});
