/**
 * ECS answering from a script on a FakeHost: the agent's own Ecs port, with the SDK's serialisation and error
 * mapping and the request handler that sends through Host.http, without a network.
 */
import { createEcs, type Ecs } from '../../../src/aws/ecs.ts';
import { awsJsonReply, inputOf, targetOf } from '../../support/aws-json.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { useTestCredentials } from '../../support/test-credentials.ts';

export interface EcsCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

export interface EcsAnswer {
  readonly status: number;
  readonly body: unknown;
}

const ENDPOINT = 'http://ecs.invalid';

/** host: where the calls go (its httpCalls record them); a FakeHost of its own by default. */
export function scriptedEcs(answer: (call: EcsCall) => EcsAnswer, calls: EcsCall[] = [], host = new FakeHost()): Ecs {
  useTestCredentials();
  host.onHttp((request) => {
    if (!request.url.startsWith(`${ENDPOINT}/`)) return undefined;
    const call = { operation: targetOf(request), input: inputOf(request) };
    calls.push(call);
    const reply = answer(call);
    return awsJsonReply(reply.status, reply.body);
  });
  const settings = { region: 'eu-west-1', ecsEndpoint: ENDPOINT, ssmEndpoint: null };
  return createEcs(host, settings, { maxAttempts: 1, requestTimeoutMs: 1000 });
}

/** ECS's error shape: the exception name in __type. */
export function ecsError(name: string, message: string): EcsAnswer {
  return { status: 400, body: { __type: name, message } };
}

export function describedInstance(arn: string, status: string, agentConnected: boolean): EcsAnswer {
  return {
    status: 200,
    body: { containerInstances: [{ containerInstanceArn: arn, status, agentConnected }], failures: [] },
  };
}
