/**
 * The echo check: a wake phrase heard while the glasses are saying its words is their own voice
 * coming back through the mic, not the wearer calling.
 */
export class OwnVoice {
  /** What the glasses are saying now (so far, for an answer still streaming in). */
  private said: (() => string) | undefined;

  /** `phraseWords`: the words of each wake phrase. */
  constructor(private readonly phraseWords: Readonly<Record<string, string>>) {}

  /** Runs `speak` with `said` as what the glasses are saying meanwhile. */
  async speaking<T>(said: () => string, speak: () => Promise<T>): Promise<T> {
    this.said = said;
    try {
      return await speak();
    } finally {
      this.said = undefined;
    }
  }

  isEcho(phrase: string): boolean {
    const words = this.phraseWords[phrase];
    const said = this.said?.();
    return said !== undefined && words !== undefined && said.toLowerCase().includes(words);
  }
}
