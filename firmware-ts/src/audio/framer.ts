/**
 * Re-cuts audio of any chunk size into fixed frames, so every later stage sees the same frames
 * whether the mic delivers 1024, 1280, 2560 or odd-sized chunks.
 */
export class Framer {
  private readonly pending: Int16Array;
  private filled = 0;
  /** Samples handed out in whole frames so far. */
  private emitted = 0;

  constructor(readonly frameSamples: number) {
    this.pending = new Int16Array(frameSamples);
  }

  /** Returns the whole frames completed by `pcm`; each is a fresh array the caller may keep. */
  push(pcm: Int16Array): Int16Array[] {
    const frames: Int16Array[] = [];
    let offset = 0;
    while (offset < pcm.length) {
      const take = Math.min(this.frameSamples - this.filled, pcm.length - offset);
      this.pending.set(pcm.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.frameSamples) {
        frames.push(this.pending.slice());
        this.filled = 0;
        this.emitted += this.frameSamples;
      }
    }
    return frames;
  }

  /** Sample index (from the stream start) of the first sample of the next frame. */
  get nextFrameStart(): number {
    return this.emitted;
  }

  reset(): void {
    this.filled = 0;
    this.emitted = 0;
  }
}
