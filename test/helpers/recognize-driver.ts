/**
 * A child process that recognises one utterance with the real pocketsphinx recogniser and prints the
 * result (or the error's code and message) as one JSON line, for
 * test/integration/speech/pocketsphinx-temp.test.ts: run as another user, or killed with SIGKILL while
 * the decoders run.
 *
 * Environment: RECOGNIZE_PCM (16 kHz mono raw samples), RECOGNIZE_DECODER (optional decoder program).
 */
import { readFileSync } from 'node:fs';
import { silentLogger } from '../../firmware-ts/src/log.js';
import { PocketsphinxRecognizer } from '../../firmware-ts/src/speech/pocketsphinx.js';

async function main(): Promise<void> {
  const file = process.env.RECOGNIZE_PCM;
  if (file === undefined) throw new Error('recognize-driver: RECOGNIZE_PCM is not set');
  const buf = readFileSync(file);
  const pcm = new Int16Array(buf.buffer, buf.byteOffset, buf.length / 2);
  const decoder = process.env.RECOGNIZE_DECODER;
  const recognizer = new PocketsphinxRecognizer({
    log: silentLogger(),
    ...(decoder === undefined ? {} : { decoder }),
  });
  try {
    const r = await recognizer.recognize(pcm, new AbortController().signal);
    process.stdout.write(`${JSON.stringify({ transcript: r.transcript, accepted: r.accepted })}\n`);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    process.stdout.write(`${JSON.stringify({ error: e.code ?? 'unknown', message: e.message })}\n`);
  }
}

await main();
