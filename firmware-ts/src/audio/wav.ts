/**
 * WAV files in and out. Reading accepts any PCM or float WAV (8/16/24/32-bit integer, 32/64-bit
 * float, WAVE_FORMAT_EXTENSIBLE) and any channel count; `readWavAs16kMono` converts it for the models.
 * Writing is atomic (see util/atomic-file.ts), so a crash never leaves half a WAV.
 */
import { promises as fs } from 'node:fs';
import { GlassesError, messageOf } from '../errors.js';
import { MODEL_SAMPLE_RATE_HZ, type AudioChunk } from './chunk.js';
import { downmix, floatToInt16, StreamingResampler } from './resample.js';
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

/** Where the samples are: the data chunk's first byte and length, and their format. */
interface WavLayout {
  format: WavFormat;
  dataStart: number;
  dataLength: number;
}

/** A read the layout walker asks for; it is answered with the bytes there (fewer at the end). */
interface ReadRequest {
  at: number;
  length: number;
}

/**
 * Walks the RIFF chunks to the data chunk, asking for the few bytes it needs, so a buffer and a file
 * of any length are parsed by the same code and a file is never read whole to find its samples.
 */
function* wavLayout(size: number, file: string): Generator<ReadRequest, WavLayout, Buffer> {
  if (size === 0) throw invalid(file, 'the file is empty');
  const riff = yield { at: 0, length: 12 };
  if (
    riff.length < 12 ||
    riff.toString('ascii', 0, 4) !== 'RIFF' ||
    riff.toString('ascii', 8, 12) !== 'WAVE'
  ) {
    throw invalid(file, 'not a WAV file (no RIFF/WAVE header)');
  }
  let format: WavFormat | undefined;
  let offset = 12;
  while (offset + 8 <= size) {
    const head = yield { at: offset, length: 8 };
    const id = head.toString('ascii', 0, 4);
    const chunkSize = head.readUInt32LE(4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (chunkSize < 16 || body + 16 > size) throw invalid(file, 'the fmt chunk is truncated');
      const fmt = yield { at: body, length: Math.min(chunkSize, 26) };
      let tag = fmt.readUInt16LE(0);
      if (tag === FORMAT_EXTENSIBLE && fmt.length >= 26) {
        // The first two bytes of the sub-format GUID carry the real format tag.
        tag = fmt.readUInt16LE(24);
      }
      format = {
        tag,
        channels: fmt.readUInt16LE(2),
        rate: fmt.readUInt32LE(4),
        blockAlign: fmt.readUInt16LE(12),
        bits: fmt.readUInt16LE(14),
      };
    } else if (id === 'data') {
      if (format === undefined) throw invalid(file, 'the data chunk comes before the fmt chunk');
      const available = size - body;
      let length = chunkSize;
      if (chunkSize > available) {
        if (!STREAMING_SIZES.has(chunkSize)) {
          throw invalid(
            file,
            `truncated: the header announces ${chunkSize} bytes of audio, the file holds ${available}`,
          );
        }
        length = available;
      } else if (chunkSize === 0 && available > 0) {
        length = available;
      }
      return { format, dataStart: body, dataLength: length };
    }
    // Chunks are padded to an even size.
    offset = body + chunkSize + (chunkSize % 2);
  }
  throw invalid(file, format === undefined ? 'no fmt chunk: the header is truncated' : 'no data chunk');
}

export function decodeWav(buf: Buffer, file: string): DecodedWav {
  const walk = wavLayout(buf.length, file);
  let step = walk.next(Buffer.alloc(0));
  while (step.done !== true) {
    step = walk.next(buf.subarray(step.value.at, step.value.at + step.value.length));
  }
  const { format, dataStart, dataLength } = step.value;
  return decodeSamples(buf.subarray(dataStart, dataStart + dataLength), format, file);
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

function unreadable(file: string, err: unknown): GlassesError {
  return new GlassesError('E_AUDIO_FILE_MISSING', `audio file ${file}: cannot read it (${messageOf(err)})`, {
    details: { file },
    cause: err,
  });
}

/** Input read, decoded and resampled at a time: memory stays at a few seconds of audio. */
export const WAV_READ_SECONDS = 1;

/**
 * A WAV file of any length as 16 kHz mono 16-bit pieces, read, downmixed and resampled a second at a
 * time; the pieces joined are the same samples `readWavAs16kMono` returns. Piece lengths are not
 * fixed (the resampler holds back its kernel's span until the input after it has arrived).
 * A bad header is refused before any audio is read. Stops, closing the file, when `signal` aborts.
 */
export async function* streamWavAs16kMono(file: string, signal?: AbortSignal): AsyncGenerator<Int16Array> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    throw unreadable(file, err);
  }
  try {
    const size = (await handle.stat()).size;
    const walk = wavLayout(size, file);
    let step = walk.next(Buffer.alloc(0));
    while (step.done !== true) {
      const { at, length } = step.value;
      const bytes = Buffer.alloc(Math.max(0, Math.min(length, size - at)));
      await readFully(handle, bytes, at, file);
      step = walk.next(bytes);
    }
    const { format, dataStart, dataLength } = step.value;
    const read = checkFormat(format, file);
    const frameBytes = format.blockAlign;
    const sampleBytes = format.bits / 8;
    const frames = Math.floor(dataLength / frameBytes);
    const piece = Buffer.alloc(Math.max(1, Math.round(format.rate * WAV_READ_SECONDS)) * frameBytes);
    const resampler = new StreamingResampler(format.rate, MODEL_SAMPLE_RATE_HZ);
    for (let frame = 0; frame < frames;) {
      if (signal?.aborted === true) return;
      const take = Math.min(frames - frame, piece.length / frameBytes);
      const bytes = piece.subarray(0, take * frameBytes);
      await readFully(handle, bytes, dataStart + frame * frameBytes, file);
      frame += take;
      const samples = new Float32Array(take * format.channels);
      for (let i = 0; i < samples.length; i++) samples[i] = read(bytes, i * sampleBytes);
      const out = resampler.push(downmix(samples, format.channels));
      if (out.length > 0) yield floatToInt16(out);
    }
    const tail = resampler.end();
    if (tail.length > 0) yield floatToInt16(tail);
  } finally {
    await handle.close();
  }
}

/** Fills `into` from `at`; the file ending first means it shrank while it was read. */
async function readFully(handle: fs.FileHandle, into: Buffer, at: number, file: string): Promise<void> {
  let done = 0;
  while (done < into.length) {
    let n: number;
    try {
      ({ bytesRead: n } = await handle.read(into, done, into.length - done, at + done));
    } catch (err) {
      throw unreadable(file, err);
    }
    if (n === 0) throw invalid(file, `truncated: the file ended at byte ${at + done} while it was read`);
    done += n;
  }
}

/**
 * Reads any WAV and returns it as 16 kHz mono 16-bit, downmixed and resampled as needed. The whole
 * clip is in memory: for a file of any length, iterate `streamWavAs16kMono` instead.
 */
export async function readWavAs16kMono(file: string): Promise<AudioChunk> {
  const pieces: Int16Array[] = [];
  for await (const piece of streamWavAs16kMono(file)) pieces.push(piece);
  const pcm = new Int16Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    pcm.set(p, at);
    at += p.length;
  }
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
