/** The readable timeline of `glasses run`, and its JSON lines. */
import { relative } from 'node:path';
import { seconds, stamp } from '../util/stamp.js';
import type { RunEvent } from '../voice-loop/runner.js';

/**
 * An event without what the wearer said (transcript, and the command and slots read from it) or what
 * the glasses said (answers carry what the camera read and what the cloud said about it).
 */
function withoutContent(e: RunEvent): object {
  if (e.type === 'intent') {
    const { transcript: _t, name: _n, slots: _s, ...rest } = e;
    return rest;
  }
  if (e.type === 'say') {
    const { text: _t, ...rest } = e;
    return rest;
  }
  return e;
}

/** What a `say` line says in place of the words. */
const UNSHOWN_SAY: Record<Extract<RunEvent, { type: 'say' }>['source'], string> = {
  device: 'an answer made on the device',
  'answer-source': 'an answer from the answer source',
  prompt: 'a prompt',
};

/**
 * The readable form of a run: one line per event, with audio time on the left. Without `showContent`
 * the lines say that something was heard, understood and answered, and how fast, but not what.
 */
export class Timeline {
  errors = 0;

  constructor(
    private readonly out: (line: string) => void,
    private readonly json: boolean,
    private readonly showContent: boolean,
  ) {
    if (!showContent && !json)
      out('(what is said and answered is not shown on a live run: --show-content shows it)');
  }

  print(e: RunEvent): void {
    if (e.type === 'error') this.errors++;
    if (this.json) {
      this.out(JSON.stringify(this.showContent ? e : withoutContent(e)));
      return;
    }
    const t = stamp(e.atMs);
    switch (e.type) {
      case 'state':
        this.out(`${t}  ${'state'.padEnd(9)} ${e.from} -> ${e.to}`);
        return;
      case 'wake':
        this.out(
          `${t}  ${'wake'.padEnd(9)} ${e.phrase} (score ${e.score.toFixed(2)})${e.echo ? ' in our own voice: ignored' : ''}`,
        );
        return;
      case 'utterance':
        this.out(`${t}  ${'heard'.padEnd(9)} ${(e.durationMs / 1000).toFixed(1)} s of speech (${e.reason})`);
        return;
      case 'intent': {
        const command = this.showContent
          ? `${e.name}${Object.keys(e.slots).length > 0 ? ` ${JSON.stringify(e.slots)}` : ''}`
          : 'a command';
        const what = e.accepted ? command : 'not a command: open question';
        const heard = this.showContent ? `  "${e.transcript}"` : '';
        this.out(
          `${t}  ${(e.purpose === 'barge-in' ? 'barge-in?' : 'intent').padEnd(9)} ${what}${heard}  (${e.recognizeMs} ms on device)`,
        );
        return;
      }
      case 'say': {
        const said = this.showContent ? `"${e.text}"` : UNSHOWN_SAY[e.source];
        this.out(
          `${t}  ${'say'.padEnd(9)} ${said}${e.firstAudioMs === undefined ? '' : `  (first audio ${e.firstAudioMs} ms after the end of speech)`}${e.completed ? '' : `  [cut off at ${seconds(e.cutOffAtMs ?? e.atMs)}]`}`,
        );
        return;
      }
      case 'order':
        this.out(
          `${t}  ${'order'.padEnd(9)} ${e.orderId} ${e.status}${e.state === 'queued' ? ' (queued: the cloud has not confirmed it yet)' : ''}`,
        );
        return;
      case 'error':
        this.out(`${t}  ${'error'.padEnd(9)} ${e.code}: ${e.message}`);
        return;
    }
  }

  done(wallMs: number, files: string[]): void {
    const written =
      files.length === 0 ? '' : `; audio written: ${files.map((f) => relative(process.cwd(), f)).join(', ')}`;
    this.out(`done in ${(wallMs / 1000).toFixed(1)} s${written}`);
  }
}
