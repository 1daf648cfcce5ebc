/**
 * The computations in flight that a file-paced run waits for before it feeds more audio: recognition,
 * answers and speech synthesis. On files the loop's clock is the audio, so anything computed while
 * audio is still being fed would take audio time that depends on how fast the machine is; waiting for
 * it keeps the timeline the same on any machine. Live runs track it too, at no cost.
 */
export class Work {
  private running = 0;

  get busy(): boolean {
    return this.running > 0;
  }

  async track<T>(work: Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work;
    } finally {
      this.running--;
    }
  }
}
