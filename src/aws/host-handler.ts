import type { Host, HttpRequest } from '../host/host.ts';

/**
 * The SDK clients' request handler: every AWS call is sent with Host.http, so the real Host owns the sockets and
 * trust anchors of AWS calls as of every other request, and tests on the fake Host see (and answer) them. The
 * types are the part of the SDK's handler interface (@smithy/types' HttpHandler) this handler reads.
 */
export interface SdkRequest {
  readonly method: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly port?: number;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | readonly string[] | null>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface SdkHandlerOptions {
  /** The caller's (`send(command, { abortSignal })`): the call is abandoned when an AbortSignal aborts. */
  readonly abortSignal?: unknown;
  readonly requestTimeout?: number;
}

export interface SdkResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

export interface SdkRequestHandler {
  readonly metadata: { readonly handlerProtocol: string };
  handle(request: SdkRequest, options?: SdkHandlerOptions): Promise<{ response: SdkResponse }>;
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'PUT', 'POST', 'HEAD']);

/** timeoutMs: a bound on each request, connection and reply together (the Host's timeout). */
export function hostRequestHandler(host: Host, timeoutMs: number): SdkRequestHandler {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request, options = {}) {
      // The Host's errors go to the SDK as they are: its retries tell a timeout or a refused connection by the
      // code (ETIMEDOUT, ECONNREFUSED …) as they tell its own handler's.
      const sent = host.http(hostRequest(request, options.requestTimeout ?? timeoutMs));
      const { abortSignal } = options;
      const response = await (abortSignal instanceof AbortSignal ? abandonedOnAbort(sent, abortSignal) : sent);
      return { response: { statusCode: response.status, headers: { ...response.headers }, body: response.body } };
    },
  };
}

function hostRequest(request: SdkRequest, timeoutMs: number): HttpRequest {
  if (!METHODS.has(request.method)) throw new TypeError(`the Host sends no HTTP ${request.method} requests`);
  const body = bodyOf(request.body);
  const port = request.port === undefined ? '' : `:${request.port}`;
  return {
    method: request.method as HttpRequest['method'],
    url: `${request.protocol}//${request.hostname}${port}${request.path}${queryOf(request.query)}`,
    headers: request.headers,
    ...(body === undefined ? {} : { body }),
    timeoutMs,
  };
}

/** The operations the agent calls send JSON documents: text or bytes, never a stream. */
function bodyOf(body: unknown): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('the Host sends no streamed request bodies');
}

/** As the SDK's own handler writes it: RFC 3986 escapes, so the query is the one the signature covers. */
function queryOf(query: SdkRequest['query']): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === null) parts.push(escape(key));
    else for (const one of typeof value === 'string' ? [value] : value) parts.push(`${escape(key)}=${escape(one)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function escape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The call ends when the caller aborts; the request itself ends at the Host's timeout, its outcome unread. */
function abandonedOnAbort<T>(sent: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    sent.catch(() => {});
    return Promise.reject(aborted(signal));
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      sent.catch(() => {});
      reject(aborted(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sent.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function aborted(signal: AbortSignal): Error {
  return Object.assign(new Error('Request aborted', { cause: signal.reason }), { name: 'AbortError' });
}
