/**
 * Flashes several boards at once (at most `parallel` at a time), each on its own: one board's failure
 * does not stop the others. Results come back in the order the boards were given.
 */
import type { Board } from './board.js';
import type { LocalBundle } from './bundle-file.js';
import {
  flashBoard,
  type BoardFlashResult,
  type FlashBoardOptions,
  type FlashProgress,
  type FlashSignals,
} from './flash-board.js';

export async function flashAll(
  boards: readonly Board[],
  bundles: LocalBundle | readonly LocalBundle[],
  options: FlashBoardOptions & { parallel: number },
  onProgress: (p: FlashProgress) => void,
  signals: FlashSignals,
): Promise<BoardFlashResult[]> {
  const results: BoardFlashResult[] = new Array<BoardFlashResult>(boards.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < boards.length; i = next++) {
      const board = boards[i];
      if (board !== undefined) results[i] = await flashBoard(board, bundles, options, onProgress, signals);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, boards.length)) }, worker));
  return results;
}
