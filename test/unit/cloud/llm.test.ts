/**
 * LlmAnswerSource with a fake chat client and a simulated clock: pieces pass through as they come,
 * deadlines fire on the clock, failures become short spoken fallbacks, abort ends the request.
 */
import { Writable } from 'node:stream';
import { APIConnectionError, APIError } from 'openai';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  cloudError,
  deltaOf,
  FALLBACK,
  LlmAnswerSource,
  type ChatDelta,
  type ChatRequest,
  type ChatStreamClient,
  type LlmAnswerSourceDeps,
} from '../../../firmware-ts/src/cloud/llm.js';
import type { SceneForMessages } from '../../../firmware-ts/src/cloud/messages.js';
import { GlassesError } from '../../../firmware-ts/src/errors.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import type { Question } from '../../../firmware-ts/src/voice-loop/ports.js';

const QUESTION: Question = {
  pcm: new Int16Array(160),
  transcript: 'tell me a secret recipe',
  confidence: 0.9,
};

/** A stream the test feeds by hand; it ends (like the openai library's) when its request aborts. */
class Feed implements AsyncIterable<ChatDelta> {
  private queue: (ChatDelta | Error | 'end')[] = [];
  private wake: (() => void) | undefined;

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => this.wake?.());
  }

  text(content: string, finishReason: string | null = null): this {
    return this.push({ content, finishReason });
  }

  finish(): this {
    return this.push({ content: '', finishReason: 'stop' }).push('end');
  }

  push(item: ChatDelta | Error | 'end'): this {
    this.queue.push(item);
    this.wake?.();
    return this;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ChatDelta> {
    for (;;) {
      while (this.queue.length === 0 && !this.signal.aborted) {
        await new Promise<void>((r) => (this.wake = r));
      }
      if (this.signal.aborted) return;
      const item = this.queue.shift();
      if (item === 'end' || item === undefined) return;
      if (item instanceof Error) throw item;
      yield item;
    }
  }
}

type Script = (request: ChatRequest, signal: AbortSignal, call: number) => Promise<AsyncIterable<ChatDelta>>;

class FakeChat implements ChatStreamClient {
  readonly requests: ChatRequest[] = [];
  readonly signals: AbortSignal[] = [];
  feeds: Feed[] = [];

  constructor(private readonly script: Script = (_r, signal) => Promise.resolve(this.feed(signal))) {}

  feed(signal: AbortSignal): Feed {
    const f = new Feed(signal);
    this.feeds.push(f);
    return f;
  }

  stream(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<ChatDelta>> {
    this.requests.push(request);
    this.signals.push(signal);
    return this.script(request, signal, this.requests.length);
  }
}

function answering(...pieces: string[]): FakeChat {
  const chat: FakeChat = new FakeChat((_r, signal) => {
    const f = chat.feed(signal);
    for (const p of pieces) f.text(p);
    return Promise.resolve(f.finish());
  });
  return chat;
}

function source(client: ChatStreamClient, over: Partial<LlmAnswerSourceDeps> = {}) {
  const clock = new SimulatedClock();
  const llm = new LlmAnswerSource({
    client,
    model: 'test-model',
    clock,
    sceneFor: () => undefined,
    historyTurns: 2,
    firstTokenTimeoutMs: 4000,
    answerTimeoutMs: 20_000,
    audioBelowConfidence: 0.6,
    sendImages: false,
    log: silentLogger(),
    ...over,
  });
  return { llm, clock };
}

async function collect(pieces: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const p of pieces) out.push(p);
  return out;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('LlmAnswerSource', () => {
  it('passes pieces on as they arrive, before the answer has ended', async () => {
    const chat = new FakeChat();
    const { llm } = source(chat);
    const it = llm.ask(QUESTION, new AbortController().signal)[Symbol.asyncIterator]();
    const first = it.next();
    await tick();
    chat.feeds[0]!.text('Paris is ');
    expect(await first).toEqual({ done: false, value: 'Paris is ' });
    chat.feeds[0]!.text('the capital.').finish();
    expect(await it.next()).toEqual({ done: false, value: 'the capital.' });
    expect((await it.next()).done).toBe(true);
    expect(chat.requests[0]?.model).toBe('test-model');
  });

  it('sends the last turns as history, and only completed ones', async () => {
    const chat: FakeChat = new FakeChat((_r, signal, call) => {
      const f = chat.feed(signal).text(`answer ${call}.`);
      return Promise.resolve(call === 2 ? f.push('end') : f.finish());
    });
    const { llm } = source(chat, { historyTurns: 2 });
    for (let i = 1; i <= 5; i++) {
      await collect(llm.ask({ ...QUESTION, transcript: `question ${i}` }, new AbortController().signal));
    }
    const contents = (n: number): unknown[] => chat.requests[n]!.messages.slice(1, -1).map((m) => m.content);
    expect(contents(0)).toEqual([]);
    expect(contents(1)).toEqual(['question 1', 'answer 1.']);
    // Answer 2 was cut off, so it is not context.
    expect(contents(2)).toEqual(['question 1', 'answer 1.']);
    expect(contents(4)).toEqual(['question 3', 'answer 3.', 'question 4', 'answer 4.']);
  });

  it('gives the scene of the turn (by its signal) to the request', async () => {
    const chat = answering('A cup.');
    const turn = new AbortController();
    const scene: SceneForMessages = { source: 's', width: 10, height: 10, objects: [] };
    const seen: AbortSignal[] = [];
    const { llm } = source(chat, {
      sceneFor: (s) => {
        seen.push(s);
        return scene;
      },
    });
    await collect(llm.ask(QUESTION, turn.signal));
    expect(seen).toEqual([turn.signal]);
    const user = chat.requests[0]!.messages.at(-1);
    expect(JSON.stringify(user?.content)).toContain('Objects: none recognised.');
  });

  it('says the cloud is too slow when no token comes within the first-token deadline', async () => {
    const chat = new FakeChat();
    const { llm, clock } = source(chat);
    const done = collect(llm.ask(QUESTION, new AbortController().signal));
    let settled = false;
    void done.then(() => (settled = true));
    await clock.advance(3999);
    expect(settled).toBe(false);
    await clock.advance(1);
    expect(await done).toEqual([FALLBACK.timeout]);
    expect(chat.signals[0]?.aborted).toBe(true);
    expect(clock.pendingSleepers).toBe(0);
  });

  it('keeps the first-token deadline away once text flows, and ends a long answer at its deadline', async () => {
    const chat = new FakeChat();
    const { llm, clock } = source(chat);
    const done = collect(llm.ask(QUESTION, new AbortController().signal));
    await clock.advance(1000);
    chat.feeds[0]!.text('It began');
    await tick();
    await clock.advance(10_000);
    await tick();
    chat.feeds[0]!.text(' and went on');
    await tick();
    await clock.advance(9000);
    expect(await done).toEqual(['It began', ' and went on', '\nI lost the connection.']);
    expect(chat.signals[0]?.aborted).toBe(true);
  });

  it.each([
    ['E_CLOUD_AUTH', FALLBACK.auth],
    ['E_CLOUD_HTTP', FALLBACK.unreachable],
    ['E_CLOUD_PROTOCOL', FALLBACK.unreachable],
    ['E_CLOUD_TIMEOUT', FALLBACK.timeout],
  ] as const)('answers %s before any text with a fallback', async (code, text) => {
    const chat = new FakeChat(() => Promise.reject(new GlassesError(code, 'nope')));
    const { llm } = source(chat);
    expect(await collect(llm.ask(QUESTION, new AbortController().signal))).toEqual([text]);
    expect(chat.requests).toHaveLength(1);
  });

  it('retries once when the connection failed before the server answered', async () => {
    const unreachable = new GlassesError('E_CLOUD_UNREACHABLE', 'ECONNRESET');
    const fails = new FakeChat(() => Promise.reject(unreachable));
    expect(await collect(source(fails).llm.ask(QUESTION, new AbortController().signal))).toEqual([
      FALLBACK.unreachable,
    ]);
    expect(fails.requests).toHaveLength(2);

    const chat: FakeChat = new FakeChat((_r, signal, call) =>
      call === 1 ? Promise.reject(unreachable) : Promise.resolve(chat.feed(signal).text('Yes.').finish()),
    );
    expect(await collect(source(chat).llm.ask(QUESTION, new AbortController().signal))).toEqual(['Yes.']);
  });

  it('ends with "I lost the connection" when the stream breaks after some text', async () => {
    const chat: FakeChat = new FakeChat((_r, signal) =>
      Promise.resolve(
        chat.feed(signal).text('Half a ').push(new GlassesError('E_CLOUD_PROTOCOL', 'bad event')),
      ),
    );
    const { llm } = source(chat);
    expect(await collect(llm.ask(QUESTION, new AbortController().signal))).toEqual([
      'Half a ',
      FALLBACK.lost,
    ]);
  });

  it('never throws, whatever the client throws', async () => {
    const chat = new FakeChat(() => Promise.reject(new TypeError('boom')));
    const { llm } = source(chat);
    expect(await collect(llm.ask(QUESTION, new AbortController().signal))).toEqual([FALLBACK.unreachable]);
  });

  it('says so when the cloud finishes without a word', async () => {
    const { llm } = source(answering());
    expect(await collect(llm.ask(QUESTION, new AbortController().signal))).toEqual([FALLBACK.empty]);
  });

  it('stops at once on abort: the request is aborted and nothing more is said', async () => {
    const chat = new FakeChat();
    const { llm, clock } = source(chat);
    const turn = new AbortController();
    const it = llm.ask(QUESTION, turn.signal)[Symbol.asyncIterator]();
    const first = it.next();
    await tick();
    chat.feeds[0]!.text('Once upon');
    expect((await first).value).toBe('Once upon');
    const second = it.next();
    turn.abort();
    expect(await second).toEqual({ done: true, value: undefined });
    expect(chat.signals[0]?.aborted).toBe(true);
    expect(clock.pendingSleepers).toBe(0);
  });

  it('sends nothing for a turn already aborted', async () => {
    const chat = new FakeChat();
    const turn = new AbortController();
    turn.abort();
    expect(await collect(source(chat).llm.ask(QUESTION, turn.signal))).toEqual([]);
    expect(chat.requests).toHaveLength(0);
  });

  it('aborts the request when the reader stops early', async () => {
    const chat = answering('One.', 'Two.');
    const { llm } = source(chat);
    for await (const piece of llm.ask(QUESTION, new AbortController().signal)) {
      expect(piece).toBe('One.');
      break;
    }
    expect(chat.signals[0]?.aborted).toBe(true);
  });

  it('logs the failure with its code, never the question or the answer', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = pino({ level: 'info' }, sink);
    const chat: FakeChat = new FakeChat((_r, signal) =>
      Promise.resolve(
        chat.feed(signal).text('The secret is ').push(new GlassesError('E_CLOUD_UNREACHABLE', 'reset')),
      ),
    );
    await collect(source(chat, { log }).llm.ask(QUESTION, new AbortController().signal));
    await collect(source(answering('Fine.'), { log }).llm.ask(QUESTION, new AbortController().signal));
    const all = lines.join('');
    expect(all).toContain('"code":"E_CLOUD_UNREACHABLE"');
    expect(all).toContain('cloud answered');
    expect(all).not.toContain('secret');
    expect(all).not.toContain('Fine.');
  });
});

describe('deltaOf', () => {
  it('reads content and finish reason, and events without either', () => {
    expect(deltaOf({ choices: [{ delta: { content: 'Hi' }, finish_reason: null }] })).toEqual({
      content: 'Hi',
      finishReason: null,
    });
    expect(deltaOf({ choices: [{ delta: {}, finish_reason: 'stop' }] })).toEqual({
      content: '',
      finishReason: 'stop',
    });
    expect(deltaOf({ choices: [], usage: { total_tokens: 3 } })).toEqual({ content: '', finishReason: null });
  });

  it.each([[null], [{}], [{ choices: [1] }], [{ choices: [{ delta: { content: 5 } }] }]])(
    'refuses %j as E_CLOUD_PROTOCOL',
    (chunk) => {
      expect(() => deltaOf(chunk)).toThrow(expect.objectContaining({ code: 'E_CLOUD_PROTOCOL' }));
    },
  );
});

describe('cloudError', () => {
  const headers = new Headers();
  it.each([
    [
      APIError.generate(401, { error: { message: 'Incorrect API key sk-abc' } }, undefined, headers),
      'E_CLOUD_AUTH',
    ],
    [APIError.generate(403, undefined, undefined, headers), 'E_CLOUD_AUTH'],
    [APIError.generate(503, undefined, undefined, headers), 'E_CLOUD_HTTP'],
    [APIError.generate(429, undefined, undefined, headers), 'E_CLOUD_HTTP'],
    [new APIConnectionError({ message: 'Connection error.' }), 'E_CLOUD_UNREACHABLE'],
    [new SyntaxError('Unexpected token'), 'E_CLOUD_PROTOCOL'],
    [new TypeError('terminated'), 'E_CLOUD_UNREACHABLE'],
  ])('maps %s to %s', (err, code) => {
    const mapped = cloudError(err);
    expect(mapped.code).toBe(code);
    expect(mapped.message).not.toContain('sk-abc');
  });
});
