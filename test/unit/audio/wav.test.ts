import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav, readWavAs16kMono, writeWav } from '../../../firmware-ts/src/audio/wav.js';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';

function wavError(buf: Buffer): string {
  try {
    decodeWav(buf, 'x.wav');
  } catch (err) {
    if (isGlassesError(err, 'E_AUDIO_FILE_INVALID')) return err.message;
    throw err;
  }
  throw new Error('expected E_AUDIO_FILE_INVALID');
}

function floatWav(samples: number[], rate: number, channels: number): Buffer {
  const data = Buffer.alloc(samples.length * 4);
  samples.forEach((s, i) => data.writeFloatLE(s, i * 4));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(3, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * channels * 4, 28);
  h.writeUInt16LE(channels * 4, 32);
  h.writeUInt16LE(32, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

describe('WAV', () => {
  it('round-trips 16-bit PCM', () => {
    const pcm = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const d = decodeWav(encodeWav(pcm, 16000, 1), 'x.wav');
    expect(d.sampleRateHz).toBe(16000);
    expect(Array.from(d.samples).map((s) => Math.round(s * 32768))).toEqual(Array.from(pcm));
  });

  it('reads 32-bit float stereo', () => {
    const d = decodeWav(floatWav([0.5, -0.5, 0.25, 0.25], 22050, 2), 'f.wav');
    expect(d.channels).toBe(2);
    expect(Array.from(d.samples)).toEqual([0.5, -0.5, 0.25, 0.25]);
  });

  it('refuses empty, non-WAV and truncated files, naming the file', () => {
    expect(wavError(Buffer.alloc(0))).toMatch(/x\.wav: the file is empty/);
    expect(wavError(Buffer.from('hello, this is not audio'))).toMatch(/not a WAV/);
    const good = encodeWav(new Int16Array(1000), 16000, 1);
    expect(wavError(good.subarray(0, 20))).toMatch(/truncated/);
    expect(wavError(good.subarray(0, 500))).toMatch(
      /truncated: the header announces 2000 bytes of audio, the file holds 456/,
    );
  });

  it('refuses a fmt chunk that says 0 bits per sample or a block align of 0, naming the field', () => {
    const withFormat = (bits: number, blockAlign: number): Buffer => {
      const buf = encodeWav(new Int16Array(100), 16000, 1);
      buf.writeUInt16LE(blockAlign, 32);
      buf.writeUInt16LE(bits, 34);
      return buf;
    };
    const fieldOf = (buf: Buffer): unknown => {
      try {
        decodeWav(buf, 'x.wav');
      } catch (err) {
        if (isGlassesError(err, 'E_AUDIO_FILE_INVALID')) return err.details.field;
        throw err;
      }
      throw new Error('expected E_AUDIO_FILE_INVALID');
    };
    expect(wavError(withFormat(0, 0))).toMatch(/x\.wav: fmt chunk: .*0 bits per sample/);
    expect(fieldOf(withFormat(0, 0))).toBe('bitsPerSample');
    expect(fieldOf(withFormat(12, 2))).toBe('bitsPerSample');
    expect(wavError(withFormat(16, 0))).toMatch(/x\.wav: fmt chunk: block align 0 .*expected 2/);
    expect(fieldOf(withFormat(16, 0))).toBe('blockAlign');
  });

  it('accepts the size placeholder streaming writers leave', () => {
    const buf = encodeWav(new Int16Array(100), 16000, 1);
    buf.writeUInt32LE(0x7fffffff, 40);
    expect(decodeWav(buf, 's.wav').samples).toHaveLength(100);
  });

  it('writes atomically, leaving no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wav-'));
    const file = join(dir, 'out.wav');
    await writeWav(file, Int16Array.from([1, 2, 3]), 16000);
    expect(readdirSync(dir)).toEqual(['out.wav']);
    expect(readFileSync(file).length).toBe(44 + 6);
  });

  it('converts any WAV to 16 kHz mono', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wav-'));
    const file = join(dir, 'stereo44k.wav');
    const n = 44100;
    const stereo = new Int16Array(n * 2);
    for (let i = 0; i < n; i++) {
      const v = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 44100));
      stereo[2 * i] = v;
      stereo[2 * i + 1] = v;
    }
    await writeWav(file, stereo, 44100, 2);
    const chunk = await readWavAs16kMono(file);
    expect(chunk.sampleRateHz).toBe(16000);
    expect(chunk.channels).toBe(1);
    expect(chunk.pcm.length).toBe(16000);
    // A 440 Hz tone survives with its amplitude: peak close to 8000.
    const peak = Math.max(...Array.from(chunk.pcm.subarray(1000, 15000)).map(Math.abs));
    expect(peak).toBeGreaterThan(7800);
    expect(peak).toBeLessThan(8200);
  });
});
