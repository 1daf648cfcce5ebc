import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { downmix, floatToInt16, resample } from '../../../firmware-ts/src/audio/resample.js';
import {
  decodeWav,
  encodeWav,
  readWavAs16kMono,
  streamWavAs16kMono,
  writeWav,
} from '../../../firmware-ts/src/audio/wav.js';
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

  it('streams any WAV a second at a time, giving the samples of the whole-file conversion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wav-'));
    const seconds = 3.3;
    const cases = [
      { rate: 48000, channels: 2, bits: 16 },
      { rate: 44100, channels: 1, bits: 24 },
      { rate: 22050, channels: 3, bits: 8 },
      { rate: 16000, channels: 1, bits: 32 },
    ];
    for (const c of cases) {
      const frames = Math.round(c.rate * seconds);
      const bytes = c.bits / 8;
      const data = Buffer.alloc(frames * c.channels * bytes);
      for (let i = 0; i < frames * c.channels; i++) {
        const v = Math.sin(i * 0.013) * 0.6 + Math.sin(i * 0.31) * 0.3;
        if (bytes === 1) data[i] = Math.round(128 + v * 127);
        else data.writeIntLE(Math.round(v * (2 ** (c.bits - 1) - 1)), i * bytes, Math.min(bytes, 6));
      }
      const header = encodeWav(new Int16Array(0), c.rate, c.channels);
      header.writeUInt32LE(36 + data.length, 4);
      header.writeUInt32LE(c.rate * c.channels * bytes, 28);
      header.writeUInt16LE(c.channels * bytes, 32);
      header.writeUInt16LE(c.bits, 34);
      header.writeUInt32LE(data.length, 40);
      const file = join(dir, `${c.rate}-${c.channels}-${c.bits}.wav`);
      writeFileSync(file, Buffer.concat([header, data]));
      const whole = decodeWav(readFileSync(file), file);
      const expected = floatToInt16(
        resample(downmix(whole.samples, whole.channels), whole.sampleRateHz, 16000),
      );
      const pieces: Int16Array[] = [];
      for await (const piece of streamWavAs16kMono(file)) pieces.push(piece);
      expect(pieces.length).toBeGreaterThanOrEqual(3);
      // A piece is about a second of output, never the file.
      expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(16000 + 200);
      const joined = pieces.flatMap((p) => Array.from(p));
      expect(joined).toEqual(Array.from(expected));
      expect(Array.from((await readWavAs16kMono(file)).pcm)).toEqual(Array.from(expected));
    }
  });

  it('refuses a bad header before reading any audio, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wav-'));
    const file = join(dir, 'zero.wav');
    const buf = encodeWav(new Int16Array(100), 16000, 1);
    buf.writeUInt16LE(0, 32);
    buf.writeUInt16LE(0, 34);
    writeFileSync(file, buf);
    const err = await (async () => {
      for await (const _ of streamWavAs16kMono(file)) return 'read';
      return 'nothing';
    })().catch((e: unknown) => e);
    expect(isGlassesError(err, 'E_AUDIO_FILE_INVALID')).toBe(true);
    expect((err as Error).message).toContain(`${file}: fmt chunk`);
    const missing = await readWavAs16kMono(join(dir, 'none.wav')).catch((e: unknown) => e);
    expect(isGlassesError(missing, 'E_AUDIO_FILE_MISSING')).toBe(true);
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
