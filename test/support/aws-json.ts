/**
 * AWS's JSON protocols on the wire, for fakes of a service on a FakeHost: the operation is named by the
 * X-Amz-Target header, the input and the reply are JSON documents, an error names its exception in __type.
 */
import type { HttpRequest, HttpResponse } from '../../src/host/host.ts';

/** The operation of a request ("DescribeClusters"). */
export function targetOf(request: HttpRequest): string {
  const header = Object.entries(request.headers ?? {}).find(([name]) => name.toLowerCase() === 'x-amz-target');
  return String(header?.[1]).split('.').pop() as string;
}

/** The request's input document. */
export function inputOf(request: HttpRequest): Record<string, unknown> {
  const { body } = request;
  const text = body instanceof Uint8Array ? new TextDecoder().decode(body) : (body ?? '{}');
  return JSON.parse(text) as Record<string, unknown>;
}

export function awsJsonReply(status: number, body: unknown): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: new TextEncoder().encode(JSON.stringify(body)),
  };
}
