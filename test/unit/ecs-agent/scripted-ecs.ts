/**
 * A real ECSClient whose HTTP layer answers from a script, so unit tests run
 * the SDK's own serialisation and error mapping without a network.
 */
import { ECSClient } from '@aws-sdk/client-ecs';

export interface EcsCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

export interface EcsAnswer {
  readonly status: number;
  readonly body: unknown;
}

export function scriptedEcsClient(answer: (call: EcsCall) => EcsAnswer, calls: EcsCall[] = []): ECSClient {
  return new ECSClient({
    region: 'eu-west-1',
    endpoint: 'http://ecs.invalid',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: { headers: Record<string, string>; body?: unknown }) {
        const call = {
          operation: String(request.headers['x-amz-target']).split('.').pop() as string,
          input: JSON.parse(bodyText(request.body)) as Record<string, unknown>,
        };
        calls.push(call);
        const reply = answer(call);
        return {
          response: {
            statusCode: reply.status,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: new TextEncoder().encode(JSON.stringify(reply.body)),
          },
        };
      },
    },
  });
}

function bodyText(body: unknown): string {
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return typeof body === 'string' ? body : '{}';
}

/** ECS's error shape: the exception name in __type. */
export function ecsError(name: string, message: string): EcsAnswer {
  return { status: 400, body: { __type: name, message } };
}

export function describedInstance(arn: string, status: string, agentConnected: boolean): EcsAnswer {
  return { status: 200, body: { containerInstances: [{ containerInstanceArn: arn, status, agentConnected }], failures: [] } };
}
