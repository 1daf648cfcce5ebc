/**
 * What the wearer says to a live run: 1 s of room, "hey quark" (espeak-ng en-us), 0.4 s, the
 * request, then 3 s of room, as 16 kHz mono samples for a capture device (the rig or the file one).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function spokenRequest(parent: string, request: string): Int16Array {
  const dir = mkdtempSync(join(parent, 'request-'));
  try {
    const wav = join(dir, 'request.wav');
    execFileSync('sh', [
      '-c',
      `espeak-ng -v en-us -s 150 -w "${dir}/w.wav" "hey quark" && espeak-ng -v en-us -s 160 -w "${dir}/r.wav" "$1" && ` +
        `sox -R -D "${dir}/w.wav" -r 16000 -c 1 -b 16 "${dir}/w16.wav" && sox -R -D "${dir}/r.wav" -r 16000 -c 1 -b 16 "${dir}/r16.wav" && ` +
        `sox -R -D "${dir}/w16.wav" "|sox -n -r 16000 -c 1 -p trim 0 0.4" "${dir}/r16.wav" "${wav}" pad 1 3`,
      'sh',
      request,
    ]);
    const buf = readFileSync(wav);
    return new Int16Array(buf.buffer.slice(buf.byteOffset + 44, buf.byteOffset + buf.length));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Root-mean-square level of `pcm[from, to)`, 0..32768. */
export function rms(pcm: Int16Array, from = 0, to = pcm.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (pcm[i] ?? 0) ** 2;
  return to > from ? Math.sqrt(sum / (to - from)) : 0;
}
