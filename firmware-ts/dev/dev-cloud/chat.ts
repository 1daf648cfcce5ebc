/**
 * The subset of OpenAI's Chat Completions API that the `openai` npm client sends for the glasses:
 * system/user/assistant messages, user content as text, image_url (a data: JPEG) and input_audio
 * (WAV) parts, streamed as server-sent events or answered as one JSON.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { composeAnswer } from './answer.js';
import type { ChatFaults } from './faults.js';
import { pause, sendJson } from './http.js';

const textPart = z.object({ type: z.literal('text'), text: z.string() });

const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({
    url: z
      .string()
      .regex(
        /^(?:data:image\/(?:jpeg|png|webp);base64,|https?:\/\/)/,
        'expected a data:image/jpeg;base64 URL',
      ),
    detail: z.enum(['auto', 'low', 'high']).optional(),
  }),
});

/** The first bytes of a RIFF/WAVE file, base64: catches a device that sends raw PCM as "wav". */
function looksLikeWav(data: string): boolean {
  const head = Buffer.from(data.slice(0, 16), 'base64');
  return (
    head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WAVE'
  );
}

const audioPart = z.object({
  type: z.literal('input_audio'),
  input_audio: z
    .object({ data: z.string().min(1), format: z.enum(['wav', 'mp3']) })
    .refine((a) => a.format !== 'wav' || looksLikeWav(a.data), {
      message: 'format is wav but data is not a base64 RIFF/WAVE file',
      path: ['data'],
    }),
});

const textContent = z.union([z.string(), z.array(textPart)]);

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: textContent }),
  z.object({ role: z.literal('developer'), content: textContent }),
  z.object({
    role: z.literal('user'),
    content: z.union([
      z.string(),
      z.array(z.discriminatedUnion('type', [textPart, imagePart, audioPart])).min(1),
    ]),
  }),
  z.object({ role: z.literal('assistant'), content: textContent.nullish() }),
]);

/** Fields the client may send that do not change a development answer (temperature...) are ignored. */
export const chatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

type Message = ChatRequest['messages'][number];

function texts(content: Message['content']): string[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return [content];
  return content.flatMap((p) => (p.type === 'text' ? [p.text] : []));
}

/** The answer text for a request (exported for tests that check wording without HTTP). */
export function answerFor(request: ChatRequest): string {
  const system = request.messages.filter((m) => m.role === 'system' || m.role === 'developer');
  const lastUser = request.messages.findLast((m) => m.role === 'user');
  const parts = lastUser === undefined || typeof lastUser.content === 'string' ? [] : lastUser.content;
  return composeAnswer({
    systemTexts: system.flatMap((m) => texts(m.content)),
    userTexts: lastUser === undefined ? [] : texts(lastUser.content),
    audio: parts.some((p) => p.type === 'input_audio'),
    image: parts.some((p) => p.type === 'image_url'),
  });
}

/** Word by word (each with its trailing space), so the device can speak a sentence before the next. */
export function pieces(answer: string): string[] {
  return answer.match(/\S+\s*/g) ?? [];
}

/** Whitespace words: close enough to tokens for a usage block nobody bills. */
function usage(request: ChatRequest, answer: string): Record<string, number> {
  const prompt = request.messages.flatMap((m) => texts(m.content)).join(' ');
  const promptTokens = pieces(prompt).length;
  const completionTokens = pieces(answer).length;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

export interface ChatReply {
  request: ChatRequest;
  faults: ChatFaults;
  nowMs: number;
  /** Aborts when the client goes away, ending a drip early. */
  signal: AbortSignal;
}

/** Answers a validated request: SSE when `stream`, otherwise one chat.completion JSON. */
export async function replyChat(res: ServerResponse, reply: ChatReply): Promise<void> {
  const { request, faults } = reply;
  const answer = answerFor(request);
  const id = `chatcmpl-${randomUUID()}`;
  const head = {
    id,
    created: Math.floor(reply.nowMs / 1000),
    model: request.model,
    system_fingerprint: 'dev-cloud',
  };
  if (request.stream !== true) {
    const body = JSON.stringify({
      ...head,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: answer, refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: usage(request, answer),
    });
    if (faults.malformedEvents === true) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body.slice(0, Math.floor(body.length / 2)));
    } else if (faults.resetMidStream !== undefined && faults.resetMidStream !== false) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      resetAfter(res, body.slice(0, Math.floor(body.length / 2)));
    } else {
      sendJson(res, 200, JSON.parse(body));
    }
    return;
  }

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const line = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
  const event = (data: unknown): void => {
    res.write(line(data));
  };
  const chunk = (delta: Record<string, string>, finish: 'stop' | null): Record<string, unknown> => ({
    ...head,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const resetAt =
    faults.resetMidStream === true ? 1 : faults.resetMidStream === false ? undefined : faults.resetMidStream;
  const drip = faults.dripMs ?? 0;

  const first = chunk({ role: 'assistant', content: '' }, null);
  if (resetAt === 0) {
    resetAfter(res, line(first));
    return;
  }
  event(first);
  const words = pieces(answer);
  for (const [i, content] of words.entries()) {
    await pause(drip, reply.signal);
    if (reply.signal.aborted) return;
    if (resetAt !== undefined && i + 1 >= resetAt) {
      resetAfter(res, line(chunk({ content }, null)));
      return;
    }
    event(chunk({ content }, null));
    if (i === 0 && faults.malformedEvents === true) {
      // A JSON object cut off mid-way, as a proxy that truncates a line would leave it.
      res.write(`data: {"id":"${id}","object":"chat.completion.chunk","choices":[{"delta":{"content":\n\n`);
    }
  }
  await pause(drip, reply.signal);
  if (reply.signal.aborted) return;
  event(chunk({}, 'stop'));
  if (request.stream_options?.include_usage === true)
    event({ ...head, object: 'chat.completion.chunk', choices: [], usage: usage(request, answer) });
  res.end('data: [DONE]\n\n');
}

/**
 * Writes `last`, then destroys the socket once it has reached the kernel: destroyed straight away,
 * node would drop what is still corked in the response, and the client would see no bytes at all.
 */
function resetAfter(res: ServerResponse, last: string): void {
  res.write(last, () => {
    res.destroy();
  });
}
