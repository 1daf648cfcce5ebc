import { describe, expect, it } from 'vitest';
import { OwnVoice } from '../../../firmware-ts/src/voice-loop/own-voice.js';

describe('OwnVoice', () => {
  const words = { hey_quark: 'hey quark' };

  it('a phrase heard while the glasses say its words is their own voice, and only then', async () => {
    const v = new OwnVoice(words);
    expect(v.isEcho('hey_quark')).toBe(false);
    let during: boolean[] = [];
    await v.speaking(
      () => 'Say Hey Quark to wake me.',
      () => {
        during = [v.isEcho('hey_quark'), v.isEcho('other_phrase')];
        return Promise.resolve();
      },
    );
    expect(during).toEqual([true, false]);
    expect(v.isEcho('hey_quark')).toBe(false);
  });

  it('reads a streamed answer as far as it has come', async () => {
    const v = new OwnVoice(words);
    let text = 'The phrase is';
    const seen: boolean[] = [];
    await v.speaking(
      () => text,
      () => {
        seen.push(v.isEcho('hey_quark'));
        text += ' hey quark.';
        seen.push(v.isEcho('hey_quark'));
        return Promise.resolve();
      },
    );
    expect(seen).toEqual([false, true]);
  });

  it('forgets what was said when speaking fails', async () => {
    const v = new OwnVoice(words);
    await expect(
      v.speaking(
        () => 'hey quark',
        () => Promise.reject(new Error('speaker gone')),
      ),
    ).rejects.toThrow('speaker gone');
    expect(v.isEcho('hey_quark')).toBe(false);
  });
});
