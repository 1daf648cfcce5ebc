/** Small node:http helpers for the development cloud: JSON bodies in, JSON and API errors out. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

/** A failure that becomes `{"error":{"code","message"}}` with its status (orders.openapi.yaml Error). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
}

/** Reads the body, refusing more than `maxBytes` (413) so a stray client cannot fill the memory. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'payload_too_large', `the body is larger than ${maxBytes} bytes`);
}

/**
 * Parses and validates a JSON body; a bad one is a 400 that names the first field at fault. The
 * content-type is not checked: `curl -d` sends a form type for what is JSON.
 */
export async function readJson<S extends z.ZodType>(
  req: IncomingMessage,
  schema: S,
  maxBytes: number,
): Promise<z.infer<S>> {
  const raw = await readBody(req, maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new HttpError(400, 'invalid_request', describeIssues(parsed.error.issues));
  return parsed.data;
}

/** "messages[0].content: Invalid input" — the field named as a client would write it. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const field = issue.path
        .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
        .join('');
      return `${field === '' ? 'body' : field}: ${issue.message}`;
    })
    .join('; ');
}

/** Resolves after `ms`, or early (without throwing) when the client has gone. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
