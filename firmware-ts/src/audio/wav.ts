/**
 * WAV files in and out. Reading accepts any PCM or float WAV (8/16/24/32-bit integer, 32/64-bit
 * float, WAVE_FORMAT_EXTENSIBLE) and any channel count; `readWavAs16kMono` converts it for the models.
 * Writing is atomic (see util/atomic-file.ts), so a crash never leaves half a WAV.
 */
import { promises as fs } from 'node:fs';
import { GlassesError, messageOf } from '../errors.js';
import { MODEL_SAMPLE_RATE_HZ, type AudioChunk } from './chunk.js';
import { downmix, floatToInt16, resample } from './resample.js';
import { writeFileAtomic } from '../util/atomic-file.js';

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
// Writers that stream (arecord, sox, espeak-ng --stdout to a pipe) leave these in the size fields.
const STREAMING_SIZES = new Set([0, 0xffffffff, 0x7fffffff, 0x7ffff000]);

export interface DecodedWav {
  /** Interleaved samples in [-1, 1]. */
  samples: Float32Array;
  sampleRateHz: number;
  channels: number;
  bitsPerSample: number;
}

interface WavFormat {
  tag: number;
  channels: number;
  rate: number;
  bits: number;
  blockAlign: number;
}

function invalid(file: string, why: string, field?: string): GlassesError {
  return new GlassesError('E_AUDIO_FILE_INVALID', `audio file ${file}: ${why}`, {
    details: field === undefined ? { file } : { file, field },
  });
}

export function decodeWav(buf: Buffer, file: string): DecodedWav {
  if (buf.length === 0) throw invalid(file, 'the file is empty');
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw invalid(file, 'not a WAV file (no RIFF/WAVE header)');
  }
  let format: WavFormat | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw invalid(file, 'the fmt chunk is truncated');
      let tag = buf.readUInt16LE(body);
      if (tag === FORMAT_EXTENSIBLE && size >= 26 && body + 26 <= buf.length) {
        // The first two bytes of the sub-format GUID carry the real format tag.
        tag = buf.readUInt16LE(body + 24);
      }
      format = {
        tag,
        channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4),
        blockAlign: buf.readUInt16LE(body + 12),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (format === undefined) throw invalid(file, 'the data chunk comes before the fmt chunk');
      const available = buf.length - body;
      let length = size;
      if (size > available) {
        if (!STREAMING_SIZES.has(size)) {
          throw invalid(
            file,
            `truncated: the header announces ${size} bytes of audio, the file holds ${available}`,
          );
        }
        length = available;
      } else if (size === 0 && available > 0) {
        length = available;
      }
      return decodeSamples(buf.subarray(body, body + length), format, file);
    }
    // Chunks are padded to an even size.
    offset = body + size + (size % 2);
  }
  throw invalid(file, format === undefined ? 'no fmt chunk: the header is truncated' : 'no data chunk');
}

function decodeSamples(data: Buffer, f: WavFormat, file: string): DecodedWav {
  const read = checkFormat(f, file);
  const bytes = f.bits / 8;
  const count = Math.floor(data.length / bytes);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = read(data, i * bytes);
  return { samples: out, sampleRateHz: f.rate, channels: f.channels, bitsPerSample: f.bits };
}

/**
 * Checks every fmt field buffers are sized from before any is used: a header saying 0 bits per sample
 * or a block align of 0 would otherwise size a buffer of Infinity samples.
 */
function checkFormat(f: WavFormat, file: string): (b: Buffer, at: number) => number {
  if (f.channels < 1 || f.channels > 32) {
    throw invalid(file, `fmt chunk: unsupported channel count ${f.channels} (1 to 32)`, 'channels');
  }
  if (f.rate < 1000 || f.rate > 384_000) {
    throw invalid(file, `fmt chunk: unsupported sample rate ${f.rate} Hz (1000 to 384000)`, 'sampleRate');
  }
  const read = f.bits > 0 && f.bits % 8 === 0 ? sampleReader(f.tag, f.bits) : undefined;
  if (read === undefined) {
    throw invalid(
      file,
      `fmt chunk: unsupported encoding (format tag ${f.tag}, ${f.bits} bits per sample); use 8/16/24/32-bit PCM or 32/64-bit float`,
      'bitsPerSample',
    );
  }
  const expected = (f.bits / 8) * f.channels;
  if (f.blockAlign !== expected) {
    throw invalid(
      file,
      `fmt chunk: block align ${f.blockAlign} does not match ${f.channels} channels of ${f.bits} bits (expected ${expected})`,
      'blockAlign',
    );
  }
  return read;
}

function sampleReader(tag: number, bits: number): ((b: Buffer, at: number) => number) | undefined {
  if (tag === FORMAT_PCM) {
    switch (bits) {
      case 8:
        return (b, at) => ((b[at] ?? 128) - 128) / 128;
      case 16:
        return (b, at) => b.readInt16LE(at) / 32768;
      case 24:
        return (b, at) => b.readIntLE(at, 3) / 8388608;
      case 32:
        return (b, at) => b.readInt32LE(at) / 2147483648;
    }
  }
  if (tag === FORMAT_FLOAT) {
    if (bits === 32) return (b, at) => b.readFloatLE(at);
    if (bits === 64) return (b, at) => b.readDoubleLE(at);
  }
  return undefined;
}

async function readFileNamed(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new GlassesError('E_AUDIO_FILE_MISSING', `audio file ${file}: cannot read it (${messageOf(err)})`, {
      details: { file },
      cause: err,
    });
  }
}

/** Reads any WAV and returns it as 16 kHz mono 16-bit, downmixed and resampled as needed. */
export async function readWavAs16kMono(file: string): Promise<AudioChunk> {
  const wav = decodeWav(await readFileNamed(file), file);
  const mono = downmix(wav.samples, wav.channels);
  const pcm = floatToInt16(resample(mono, wav.sampleRateHz, MODEL_SAMPLE_RATE_HZ));
  return { pcm, sampleRateHz: MODEL_SAMPLE_RATE_HZ, channels: 1, tsMs: 0 };
}

export function encodeWav(pcm: Int16Array, sampleRateHz: number, channels: number): Buffer {
  const dataBytes = pcm.length * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(FORMAT_PCM, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRateHz, 24);
  buf.writeUInt32LE(sampleRateHz * channels * 2, 28);
  buf.writeUInt16LE(channels * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  Buffer.from(pcm.buffer, pcm.byteOffset, dataBytes).copy(buf, 44);
  return buf;
}

export async function writeWav(
  file: string,
  pcm: Int16Array,
  sampleRateHz: number,
  channels = 1,
): Promise<void> {
  await writeFileAtomic(file, encodeWav(pcm, sampleRateHz, channels));
}
