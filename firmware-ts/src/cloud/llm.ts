/**
 * Open questions answered by a language model in the cloud, through any OpenAI-compatible Chat
 * Completions server (Qwen on DashScope's compatible mode, OpenAI, Ollama, vLLM, llama.cpp), streamed
 * so the first sentence is spoken before the last has arrived. A failure is never thrown at the voice
 * loop: the wearer hears a short sentence saying what went wrong instead.
 */
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAI,
  OpenAIError,
} from 'openai';
import { GlassesError, isGlassesError, messageOf, type ErrorCode } from '../errors.js';
import type { Clock } from '../hal/clock.js';
import type { Log } from '../log.js';
import type { AnswerSource, Question } from '../voice-loop/ports.js';
import {
  buildMessages,
  questionText,
  TurnHistory,
  type ChatMessage,
  type SceneForMessages,
} from './messages.js';
import { checkCloudUrl } from './security.js';

/** What the wearer hears when the cloud fails; short, because they are spoken. */
export const FALLBACK = {
  unreachable: "I can't reach the cloud right now.",
  timeout: 'The cloud is taking too long, so I stopped waiting.',
  auth: "The cloud didn't accept this device; its token needs checking.",
  lost: 'I lost the connection.', // after part of the answer was said: the rest will not come
  empty: "I didn't get an answer from the cloud.", // the server finished without a word
} as const;

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
}

/** One streamed event of an answer, checked against the API's shape. */
export interface ChatDelta {
  /** The next piece of text; '' for events that carry none (the role, usage). */
  readonly content: string;
  /** Set on the event that ends the answer ('stop', 'length', ...). */
  readonly finishReason: string | null;
}

/**
 * The HTTP side, as a port so unit tests can fake it. `stream` resolves once the server has accepted
 * the request; it and the iterable reject only with E_CLOUD_* (or E_ABORTED) GlassesErrors, and
 * `signal` aborts the request and closes the connection at once.
 */
export interface ChatStreamClient {
  stream(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<ChatDelta>>;
}

export interface OpenAiChatClientOptions {
  readonly baseUrl: string;
  /** The device token (read with readDeviceToken). */
  readonly apiKey: string;
  /** The config key of `baseUrl`, named when the URL is refused. */
  readonly what?: string;
  /** Injected by the cloud benchmark (to time the request leaving); Node's global fetch otherwise. */
  readonly fetch?: typeof fetch;
}

/** The real client: the official `openai` library does the HTTP and SSE parsing. */
export function openAiChatClient(options: OpenAiChatClientOptions): ChatStreamClient {
  const url = checkCloudUrl(options.baseUrl, options.what ?? 'cloud.llmBaseUrl');
  const openai = new OpenAI({
    baseURL: url.href,
    apiKey: options.apiKey,
    // Explicit nulls: otherwise OPENAI_ORG_ID / OPENAI_PROJECT_ID from the environment would be sent
    // to whichever server this is.
    organization: null,
    project: null,
    // The library retries with backoff sleeps on its own timers, blind to the first-token deadline;
    // LlmAnswerSource retries once itself, and only before the answer starts (see `open`).
    maxRetries: 0,
    // Its logger prints raw stream events (answer text) on a parse error; failures are logged here.
    logLevel: 'off',
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  return {
    async stream(request, signal) {
      try {
        const stream = await openai.chat.completions.create(
          { model: request.model, messages: [...request.messages], stream: true },
          { signal, maxRetries: 0 },
        );
        return deltas(stream);
      } catch (err) {
        throw cloudError(err);
      }
    },
  };
}

async function* deltas(stream: AsyncIterable<unknown>): AsyncGenerator<ChatDelta> {
  try {
    for await (const chunk of stream) yield deltaOf(chunk);
  } catch (err) {
    throw cloudError(err);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The library passes on whatever JSON came; anything off the chunk schema is a protocol error. */
export function deltaOf(chunk: unknown): ChatDelta {
  const malformed = (why: string): GlassesError =>
    new GlassesError('E_CLOUD_PROTOCOL', `malformed chat completion chunk: ${why}`);
  if (!isRecord(chunk) || !Array.isArray(chunk.choices)) throw malformed('no choices array');
  // An empty `choices` is legal: the usage event at the end of a stream has none.
  const choice: unknown = chunk.choices[0];
  if (choice === undefined) return { content: '', finishReason: null };
  if (!isRecord(choice)) throw malformed('a choice is not an object');
  const delta = choice.delta ?? {};
  if (!isRecord(delta)) throw malformed('delta is not an object');
  const content = delta.content ?? '';
  if (typeof content !== 'string') throw malformed('delta.content is not a string');
  const finish = choice.finish_reason ?? null;
  if (finish !== null && typeof finish !== 'string') throw malformed('finish_reason is not a string');
  return { content, finishReason: finish };
}

/** The network code (ECONNREFUSED, ENOTFOUND, ...) somewhere in an error's causes. */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; isRecord(e) || e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    if (depth > 4) break;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What the `openai` library (or fetch under it) threw, as a coded error. */
export function cloudError(err: unknown): GlassesError {
  if (isGlassesError(err)) return err;
  if (err instanceof APIUserAbortError) return new GlassesError('E_ABORTED', 'cloud request aborted');
  if (err instanceof APIConnectionTimeoutError) {
    return new GlassesError('E_CLOUD_TIMEOUT', 'the cloud did not answer in time', { cause: err });
  }
  if (err instanceof APIConnectionError) {
    const code = networkCode(err.cause);
    return new GlassesError('E_CLOUD_UNREACHABLE', `cannot connect to the cloud (${code ?? err.message})`, {
      details: { network: code },
      cause: err,
    });
  }
  if (err instanceof APIError) {
    // instanceof gives APIError<any>: the status is a number, or undefined for an event in the stream.
    const status = err.status as number | undefined;
    if (status === 401 || status === 403) {
      // Not the server's message: some servers quote part of the key they refused.
      return new GlassesError('E_CLOUD_AUTH', `the cloud refused the device token (HTTP ${status})`, {
        details: { status },
      });
    }
    const what = status === undefined ? 'an error event in the stream' : `HTTP ${status}`;
    return new GlassesError('E_CLOUD_HTTP', `the cloud answered with ${what}: ${err.message.slice(0, 200)}`, {
      details: { status },
      cause: err,
    });
  }
  // JSON.parse of an event's data, or the library finding no body to read.
  if (err instanceof SyntaxError || err instanceof OpenAIError) {
    return new GlassesError('E_CLOUD_PROTOCOL', `malformed event in the answer stream: ${messageOf(err)}`, {
      cause: err,
    });
  }
  // fetch's body stream: "terminated" when the connection is reset mid-answer.
  const code = networkCode(err);
  return new GlassesError(
    'E_CLOUD_UNREACHABLE',
    `the connection to the cloud failed (${code ?? messageOf(err)})`,
    {
      details: { network: code },
      cause: err,
    },
  );
}

export interface LlmAnswerSourceDeps {
  readonly client: ChatStreamClient;
  readonly model: string;
  readonly clock: Clock;
  /**
   * What the turn of `signal` saw (looking first when the question is about it); its text, and if
   * allowed its image, goes with the question. Its time counts against the first-token deadline.
   */
  readonly sceneFor: (
    signal: AbortSignal,
    question: Question,
  ) => SceneForMessages | undefined | Promise<SceneForMessages | undefined>;
  /** Earlier question/answer pairs sent as context; kept in memory only. */
  readonly historyTurns: number;
  /** From the call of `ask` to the first piece of text. */
  readonly firstTokenTimeoutMs: number;
  /** From the call of `ask` to the end of the answer. */
  readonly answerTimeoutMs: number;
  /** 0..1: below this the question's audio is sent along with its unsure transcript. */
  readonly audioBelowConfidence: number;
  readonly sendImages: boolean;
  readonly log: Log;
}

type DeadlineName = 'first token' | 'answer';

/** The two deadlines of one answer, on the injected clock; either one aborts the request. */
class Deadlines {
  expired: { name: DeadlineName; ms: number } | undefined;
  private readonly firstToken = new AbortController();
  private readonly whole = new AbortController();

  constructor(
    clock: Clock,
    firstTokenMs: number,
    answerMs: number,
    private readonly onExpire: () => void,
  ) {
    this.arm(clock, 'first token', firstTokenMs, this.firstToken.signal);
    this.arm(clock, 'answer', answerMs, this.whole.signal);
  }

  private arm(clock: Clock, name: DeadlineName, ms: number, signal: AbortSignal): void {
    clock.sleep(ms, signal).then(
      () => {
        if (signal.aborted || this.expired !== undefined) return;
        this.expired = { name, ms };
        this.onExpire();
      },
      () => undefined,
    );
  }

  firstTokenArrived(): void {
    this.firstToken.abort();
  }

  cancel(): void {
    this.firstToken.abort();
    this.whole.abort();
  }
}

/** `promise`, or E_ABORTED as soon as `signal` aborts, whether or not the promise ever settles. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(new GlassesError('E_ABORTED', 'cloud request aborted'));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(messageOf(err)));
      },
    );
  });
}

export class LlmAnswerSource implements AnswerSource {
  private readonly history: TurnHistory;

  constructor(private readonly deps: LlmAnswerSourceDeps) {
    this.history = new TurnHistory(deps.historyTurns);
  }

  /** Forgets the earlier turns (the wearer's "start over", or a privacy reset). */
  forget(): void {
    this.history.clear();
  }

  async *ask(question: Question, signal: AbortSignal): AsyncIterable<string> {
    if (signal.aborted) return;
    const { clock, log } = this.deps;
    const startedMs = clock.now();
    // One controller for the HTTP request: the turn's abort (barge-in, "stop"), a deadline, or the
    // consumer stopping early all end it, and so close the connection.
    const request = new AbortController();
    const stop = (): void => {
      request.abort();
    };
    signal.addEventListener('abort', stop, { once: true });
    const deadlines = new Deadlines(clock, this.deps.firstTokenTimeoutMs, this.deps.answerTimeoutMs, stop);
    let answer = '';
    let firstTokenMs: number | undefined;
    let finished = false;
    let failure: unknown;
    let asked = '';
    try {
      asked = questionText(question, this.deps.audioBelowConfidence);
      // Keyed by the turn's signal (what the turn saw); a deadline or barge-in stops a look.
      const seen = this.deps.sceneFor(signal, question);
      const messages = buildMessages({
        question,
        scene: seen instanceof Promise ? await untilAborted(seen, request.signal) : seen,
        history: this.history.turns(),
        audioBelowConfidence: this.deps.audioBelowConfidence,
        sendImages: this.deps.sendImages,
      });
      const pieces = await this.open({ model: this.deps.model, messages }, request.signal);
      const it = pieces[Symbol.asyncIterator]();
      for (;;) {
        const next = await untilAborted(it.next(), request.signal);
        if (next.done === true) break;
        if (next.value.finishReason !== null) finished = true;
        const text = next.value.content;
        if (text === '') continue;
        if (firstTokenMs === undefined) {
          firstTokenMs = Math.round(clock.now() - startedMs);
          deadlines.firstTokenArrived();
        }
        answer += text;
        yield text;
      }
      // OpenAI, DashScope, Ollama, vLLM and llama.cpp all end an answer with a finish_reason; a stream
      // that simply stops was cut (a proxy closing it cleanly), and may end mid-sentence.
      if (!finished) {
        throw new GlassesError('E_CLOUD_PROTOCOL', 'the answer stream ended without a finish reason');
      }
    } catch (err) {
      failure = err;
    } finally {
      // Also runs when the consumer stops reading early: the request must not outlive the turn.
      deadlines.cancel();
      signal.removeEventListener('abort', stop);
      request.abort();
    }
    const elapsedMs = Math.round(clock.now() - startedMs);
    // Barge-in or "stop": the wearer has moved on, so nothing more is said.
    if (isAborted(signal)) {
      log.debug({ elapsedMs, firstTokenMs, answerChars: answer.length }, 'cloud answer aborted by the turn');
      return;
    }
    if (failure === undefined) {
      if (answer.trim() === '') {
        log.warn({ code: 'E_CLOUD_PROTOCOL', elapsedMs }, 'the cloud finished without any answer text');
        yield FALLBACK.empty;
        return;
      }
      this.history.add({ question: asked, answer });
      log.info({ elapsedMs, firstTokenMs, answerChars: answer.length }, 'cloud answered');
      return;
    }
    const error =
      deadlines.expired === undefined
        ? cloudError(failure)
        : new GlassesError(
            'E_CLOUD_TIMEOUT',
            deadlines.expired.name === 'first token'
              ? `no answer from the cloud within ${deadlines.expired.ms} ms`
              : `the answer took longer than ${deadlines.expired.ms} ms`,
            { details: { deadline: deadlines.expired.name } },
          );
    log.warn(
      {
        code: error.code,
        retryable: error.retryable,
        ...error.details,
        elapsedMs,
        firstTokenMs,
        answerChars: answer.length,
      },
      error.message,
    );
    yield fallbackFor(error.code, answer);
  }

  /**
   * Starts the request, retrying once, at once, when the connection failed before the server
   * answered: a keep-alive connection the server closed while the glasses were idle fails exactly so,
   * and nothing has been said yet that a retry could repeat. Errors with a status are not retried; a
   * second try would not fit the first-token deadline anyway.
   */
  private async open(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<ChatDelta>> {
    try {
      return await untilAborted(this.deps.client.stream(request, signal), signal);
    } catch (err) {
      if (!isGlassesError(err, 'E_CLOUD_UNREACHABLE') || signal.aborted) throw err;
      this.deps.log.debug({ code: err.code, ...err.details }, 'cloud connection failed; trying once more');
      return await untilAborted(this.deps.client.stream(request, signal), signal);
    }
  }
}

/** A call, not `signal.aborted`: TypeScript would keep the narrowing of the check at the top. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** The sentence that ends a failed answer. */
export function fallbackFor(code: ErrorCode, saidSoFar: string): string {
  // Pieces are joined as they come: a line break ends a half-said sentence before the apology.
  if (saidSoFar !== '') return `${/\s$/.test(saidSoFar) ? '' : '\n'}${FALLBACK.lost}`;
  if (code === 'E_CLOUD_AUTH') return FALLBACK.auth;
  if (code === 'E_CLOUD_TIMEOUT') return FALLBACK.timeout;
  return FALLBACK.unreachable;
}
