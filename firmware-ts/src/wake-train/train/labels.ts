/**
 * Which windows of which clips a head is trained on, and as what.
 *
 * Positives: in a positive clip, the windows the detector scores from the end of the phrase to
 * POSITIVE_AFTER_END_MS after it (frame ends in [end, end + 480 ms]: 6 or 7 frames). Those windows
 * hold the whole phrase (a window spans 16 embeddings of 775 ms each, 2 s of audio), and they are where
 * the runtime should fire: at the phrase's end, before the wearer goes on talking. The windows before
 * the end hold part of the phrase ("hey quar") and are left out, so the head does not learn to fire
 * on a prefix that near-misses share; the windows after the range still hold the phrase and are left
 * out too, neither positive nor negative.
 * Negatives: every window of every negative clip, weighted by the clip's weight (near-misses more).
 * In both, the frames before FIRST_SCORED_FRAME are skipped: the detector never scores them.
 */
import type { WakeDataClip, WakeDataIndex } from '../data/dataset.js';
import { FIRST_SCORED_FRAME, frameEndMs, windowRow, type EmbeddingStore } from './embeddings.js';

/** Positives are the windows scored at the phrase's end and up to this long after it. */
export const POSITIVE_AFTER_END_MS = 480;

export type Split = WakeDataClip['split'];

/** Windows by their first row in the store, with a label, a weight and the clip they come from. */
export interface WindowSet {
  rows: Uint32Array;
  labels: Uint8Array;
  weights: Float32Array;
  clips: Uint32Array;
}

/** The frames (1-based) of a positive clip that are positives. */
export function positiveFrames(phraseEndSeconds: number, frames: number): number[] {
  const out: number[] = [];
  const endMs = phraseEndSeconds * 1000;
  for (let f = FIRST_SCORED_FRAME; f <= frames; f++) {
    const at = frameEndMs(f);
    if (at >= endMs && at <= endMs + POSITIVE_AFTER_END_MS) out.push(f);
  }
  return out;
}

class WindowSetBuilder {
  private rows: number[] = [];
  private labels: number[] = [];
  private weights: number[] = [];
  private clips: number[] = [];

  add(row: number, label: 0 | 1, weight: number, clip: number): void {
    this.rows.push(row);
    this.labels.push(label);
    this.weights.push(weight);
    this.clips.push(clip);
  }

  build(): WindowSet {
    return {
      rows: Uint32Array.from(this.rows),
      labels: Uint8Array.from(this.labels),
      weights: Float32Array.from(this.weights),
      clips: Uint32Array.from(this.clips),
    };
  }
}

export interface LabelledSplit {
  positives: WindowSet;
  negatives: WindowSet;
  /** Positive clips with no positive window (too short, or the phrase ends in the warm-up). */
  positiveClipsWithoutWindows: number;
}

export function labelWindows(index: WakeDataIndex, store: EmbeddingStore, split: Split): LabelledSplit {
  const pos = new WindowSetBuilder();
  const neg = new WindowSetBuilder();
  let without = 0;
  index.clips.forEach((clip, c) => {
    if (clip.split !== split) return;
    const span = store.clips[c];
    if (span === undefined) throw new Error(`no embeddings for clip ${clip.file}`);
    if (clip.label === 'pos') {
      if (clip.phraseEndSeconds === undefined) {
        throw new Error(`positive clip ${clip.file} has no phraseEndSeconds in the data index`);
      }
      const frames = positiveFrames(clip.phraseEndSeconds, span.frames);
      if (frames.length === 0) without++;
      for (const f of frames) pos.add(windowRow(span, f), 1, clip.weight, c);
    } else {
      for (let f = FIRST_SCORED_FRAME; f <= span.frames; f++) neg.add(windowRow(span, f), 0, clip.weight, c);
    }
  });
  return { positives: pos.build(), negatives: neg.build(), positiveClipsWithoutWindows: without };
}
