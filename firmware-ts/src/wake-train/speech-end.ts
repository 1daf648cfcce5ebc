/**
 * Where the phrase in a clip ends, when no data set index says it: from the loudness of the audio,
 * measured as it streams past so an hour-long clip costs 100 numbers a second.
 */

/** 10 ms windows. */
const WINDOW_MS = 10;

/** RMS loudness of consecutive 10 ms windows of audio that arrives in pieces. */
export class WindowLoudness {
  private readonly window: number;
  private readonly energies: number[] = [];
  private sum = 0;
  private filled = 0;

  constructor(sampleRateHz: number) {
    this.window = Math.round((sampleRateHz * WINDOW_MS) / 1000);
  }

  push(pcm: Int16Array): void {
    for (let i = 0; i < pcm.length; i++) {
      this.sum += (pcm[i] ?? 0) ** 2;
      if (++this.filled === this.window) {
        this.energies.push(Math.sqrt(this.sum / this.window));
        this.sum = 0;
        this.filled = 0;
      }
    }
  }

  /**
   * The end of the last loud part: the last window louder than both 35 dB under the loudest window
   * and 12 dB over the quietest tenth (the noise floor). For a clip with only the phrase in it, that
   * is where the phrase ends.
   */
  speechEndMs(): number {
    const energies = this.energies;
    if (energies.length === 0) return 0;
    const sorted = [...energies].sort((a, b) => a - b);
    const floor = sorted[Math.floor(sorted.length / 10)] ?? 0;
    const loud = Math.max(sorted[sorted.length - 1] ?? 0, 1) * 10 ** (-35 / 20);
    const threshold = Math.max(loud, floor * 10 ** (12 / 20));
    for (let k = energies.length - 1; k >= 0; k--)
      if ((energies[k] ?? 0) >= threshold) return (k + 1) * WINDOW_MS;
    return energies.length * WINDOW_MS;
  }
}

/** Where the phrase in a clip that holds only the phrase ends (see `WindowLoudness.speechEndMs`). */
export function speechEndMs(pcm: Int16Array, sampleRateHz: number): number {
  const loudness = new WindowLoudness(sampleRateHz);
  loudness.push(pcm);
  return loudness.speechEndMs();
}
