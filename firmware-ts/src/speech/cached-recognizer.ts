/**
 * Remembers the last recognition. The endpointer asks "is this a whole command yet?" on exactly the
 * audio it then emits as the utterance, so the voice loop's recognition of that utterance is free.
 */
import type { CommandRecognizer, Recognition } from './recognizer.js';

function sameAudio(a: Int16Array, b: Int16Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class CachedRecognizer implements CommandRecognizer {
  private last: { pcm: Int16Array; result: Promise<Recognition> } | undefined;

  constructor(private readonly inner: CommandRecognizer & { close?(): Promise<void> }) {}

  /** Releases what the recogniser holds (pocketsphinx's private folder); a later call opens it again. */
  async close(): Promise<void> {
    this.last = undefined;
    await this.inner.close?.();
  }

  recognize(pcm: Int16Array, signal: AbortSignal): Promise<Recognition> {
    if (this.last !== undefined && sameAudio(this.last.pcm, pcm)) return this.last.result;
    const result = this.inner.recognize(pcm, signal);
    const entry = { pcm: pcm.slice(), result };
    this.last = entry;
    // A failed or aborted recognition is not kept: the next caller tries again.
    result.catch(() => {
      if (this.last === entry) this.last = undefined;
    });
    return result;
  }
}
