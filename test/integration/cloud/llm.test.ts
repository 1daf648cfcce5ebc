/**
 * LlmAnswerSource through the real `openai` client against a real HTTP server on loopback that speaks
 * the Chat Completions streaming format (server-sent events), with real deadlines on the real clock.
 * The server is written here, small, so these tests depend on nothing but node:http.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FALLBACK, LlmAnswerSource, openAiChatClient } from '../../../firmware-ts/src/cloud/llm.js';
import { readDeviceToken } from '../../../firmware-ts/src/cloud/security.js';
import { RealClock } from '../../../firmware-ts/src/hal/clock.js';
import type { Log } from '../../../firmware-ts/src/log.js';
import type { Question } from '../../../firmware-ts/src/voice-loop/ports.js';

const QUESTION: Question = {
  pcm: new Int16Array(1600),
  transcript: 'what is the capital of france',
  confidence: 0.9,
};

interface Seen {
  readonly authorization: string | undefined;
  readonly body: { model?: string; stream?: boolean; messages?: { role: string; content: unknown }[] };
  /** Resolves when the response closes: true when it was cut before the server finished it. */
  readonly cut: Promise<boolean>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

let server: Server;
let baseUrl: string;
let handler: Handler;
let seen: Seen[];
let token: string;
/** The E_CLOUD_* code of each failure the source logged. */
let codes: string[];
const tokenDir = mkdtempSync(join(tmpdir(), 'llm-token-'));

function chunk(delta: Record<string, string>, finishReason: string | null = null): string {
  const event = {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'test-model',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
  return `data: ${JSON.stringify(event)}\n\n`;
}

function openStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(chunk({ role: 'assistant', content: '' }));
}

function endStream(res: ServerResponse): void {
  res.write(chunk({}, 'stop'));
  res.end('data: [DONE]\n\n');
}

/** A promise the test resolves by hand: the server holds its next chunk until then. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open = (): void => undefined;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

function source(over: { firstTokenTimeoutMs?: number; answerTimeoutMs?: number; url?: string } = {}) {
  return new LlmAnswerSource({
    client: openAiChatClient({ baseUrl: over.url ?? baseUrl, apiKey: token }),
    model: 'test-model',
    clock: new RealClock(),
    sceneFor: () => undefined,
    historyTurns: 4,
    firstTokenTimeoutMs: over.firstTokenTimeoutMs ?? 5000,
    answerTimeoutMs: over.answerTimeoutMs ?? 10_000,
    audioBelowConfidence: 0.6,
    sendImages: false,
    log: codeLog(),
  });
}

function codeLog(): Log {
  const sink = new Writable({
    write(line: Buffer, _enc, done) {
      const entry = JSON.parse(line.toString()) as { code?: string };
      if (entry.code !== undefined) codes.push(entry.code);
      done();
    },
  });
  return pino({ level: 'warn' }, sink);
}

async function collect(pieces: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const p of pieces) out.push(p);
  return out;
}

/** Fails clearly instead of hanging when something that should arrive does not. */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not happen within ${ms} ms`));
    }, ms);
  });
  return Promise.race([p, late]).finally(() => {
    clearTimeout(timer);
  });
}

beforeAll(async () => {
  const file = join(tokenDir, 'token');
  writeFileSync(file, 'integration-test-token\n', { mode: 0o600 });
  token = await readDeviceToken(file);
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const cut = new Promise<boolean>((resolve) => {
        res.on('close', () => {
          resolve(!res.writableFinished);
        });
      });
      seen.push({
        authorization: req.headers.authorization,
        body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Seen['body'],
        cut,
      });
      void handler(req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

beforeEach(() => {
  seen = [];
  codes = [];
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
  rmSync(tokenDir, { recursive: true, force: true });
});

describe('LlmAnswerSource over HTTP', () => {
  it('passes each piece on before the stream has ended', async () => {
    const held = gate();
    let finished = false;
    handler = async (_req, res) => {
      openStream(res);
      res.write(chunk({ content: 'Paris is the capital ' }));
      await held.opened;
      res.write(chunk({ content: 'of France.' }));
      endStream(res);
      finished = true;
    };
    const it = source().ask(QUESTION, new AbortController().signal)[Symbol.asyncIterator]();
    const first = await within(3000, it.next(), 'the first piece (held back by the server)');
    expect(first).toEqual({ done: false, value: 'Paris is the capital ' });
    expect(finished).toBe(false);
    held.open();
    expect(await it.next()).toEqual({ done: false, value: 'of France.' });
    expect((await it.next()).done).toBe(true);

    const request = seen[0];
    expect(request?.authorization).toBe('Bearer integration-test-token');
    expect(request?.body.model).toBe('test-model');
    expect(request?.body.stream).toBe(true);
    expect(request?.body.messages?.at(-1)).toEqual({
      role: 'user',
      content: [{ type: 'text', text: 'what is the capital of france' }],
    });
    expect(await request?.cut).toBe(false);
  });

  it.each([
    [500, FALLBACK.unreachable, 'E_CLOUD_HTTP'],
    [503, FALLBACK.unreachable, 'E_CLOUD_HTTP'],
    [401, FALLBACK.auth, 'E_CLOUD_AUTH'],
  ])('answers HTTP %i with a fallback, without retrying', async (status, text, code) => {
    handler = (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'no', type: 'server_error' } }));
    };
    expect(await collect(source().ask(QUESTION, new AbortController().signal))).toEqual([text]);
    expect(seen).toHaveLength(1);
    expect(codes).toEqual([code]);
  });

  it('ends with "I lost the connection" when the connection is reset mid-answer', async () => {
    const held = gate();
    handler = async (req, res) => {
      openStream(res);
      res.write(chunk({ content: 'The answer is' }));
      await held.opened;
      req.socket.destroy();
    };
    const it = source().ask(QUESTION, new AbortController().signal)[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('The answer is');
    held.open();
    expect(await it.next()).toEqual({ done: false, value: `\n${FALLBACK.lost}` });
    expect((await it.next()).done).toBe(true);
    expect(codes).toEqual(['E_CLOUD_UNREACHABLE']);
  });

  it.each([
    ['not JSON', 'data: {"choices": [ oops\n\n'],
    ['off the schema', 'data: {"choices": {"delta": "x"}}\n\n'],
  ])('answers a malformed event (%s) with a fallback', async (_what, event) => {
    handler = (_req, res) => {
      openStream(res);
      res.write(event);
      endStream(res);
    };
    expect(await collect(source().ask(QUESTION, new AbortController().signal))).toEqual([
      FALLBACK.unreachable,
    ]);
    expect(codes).toEqual(['E_CLOUD_PROTOCOL']);
  });

  it('gives up on a slow first token at its deadline and closes the connection', async () => {
    handler = (_req, res) => {
      // Headers and the role arrive at once; the text never does.
      openStream(res);
    };
    const started = performance.now();
    const pieces = await collect(
      source({ firstTokenTimeoutMs: 300 }).ask(QUESTION, new AbortController().signal),
    );
    const elapsedMs = performance.now() - started;
    expect(pieces).toEqual([FALLBACK.timeout]);
    expect(codes).toEqual(['E_CLOUD_TIMEOUT']);
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
    expect(elapsedMs).toBeLessThan(1500);
    expect(await within(2000, seen[0]!.cut, 'the server seeing the connection close')).toBe(true);
  });

  it('gives up on an answer that takes too long, after what was said', async () => {
    handler = (_req, res) => {
      openStream(res);
      res.write(chunk({ content: 'Well, ' }));
    };
    const pieces = await collect(
      source({ answerTimeoutMs: 800 }).ask(QUESTION, new AbortController().signal),
    );
    expect(pieces).toEqual(['Well, ', FALLBACK.lost]);
    expect(codes).toEqual(['E_CLOUD_TIMEOUT']);
  });

  it('closes the connection at once on abort, and says nothing more', async () => {
    handler = (_req, res) => {
      openStream(res);
      res.write(chunk({ content: 'Once upon a time' }));
    };
    const turn = new AbortController();
    const it = source().ask(QUESTION, turn.signal)[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('Once upon a time');
    const next = it.next();
    turn.abort();
    expect(await within(500, next, 'the end of the answer after abort')).toEqual({
      done: true,
      value: undefined,
    });
    expect(await within(2000, seen[0]!.cut, 'the server seeing the connection close')).toBe(true);
  });

  it('says it cannot reach the cloud when nothing listens', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const url = `http://127.0.0.1:${port}/v1`;
    expect(await collect(source({ url }).ask(QUESTION, new AbortController().signal))).toEqual([
      FALLBACK.unreachable,
    ]);
    expect(codes).toEqual(['E_CLOUD_UNREACHABLE']);
  });
});
