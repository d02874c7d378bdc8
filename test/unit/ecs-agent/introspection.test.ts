import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AgentError } from '../../../src/core/errors.ts';
import { IntrospectionError, pollAgentMetadata } from '../../../src/ecs-agent/introspection.ts';
import { FakeHost, jsonResponse, textResponse } from '../../support/fake-host.ts';

const URL = 'http://127.0.0.1:51678';
const ARN = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';

function answering(status: number, body: unknown): FakeHost {
  return new FakeHost().onHttp((request) =>
    request.url === `${URL}/v1/metadata`
      ? typeof body === 'string'
        ? textResponse(status, body)
        : jsonResponse(status, body)
      : undefined,
  );
}

test('a registered agent reports its cluster, container instance ARN and version', async () => {
  const host = answering(200, {
    Cluster: 'prod',
    ContainerInstanceArn: ARN,
    Version: 'Amazon ECS Agent - v1.89.0 (abc)',
  });
  const poll = await pollAgentMetadata(host, `${URL}/`);
  assert.deepEqual(poll, {
    answered: true,
    metadata: { cluster: 'prod', containerInstanceArn: ARN, version: 'Amazon ECS Agent - v1.89.0 (abc)' },
  });
  assert.equal(host.httpCalls[0]?.method, 'GET');
  assert.ok((host.httpCalls[0]?.timeoutMs ?? Infinity) <= 5000, 'a short request timeout');
});

test('an agent still registering has no container instance ARN (null or absent)', async () => {
  for (const reply of [
    { Cluster: 'prod', ContainerInstanceArn: null, Version: 'v' },
    { Cluster: 'prod', Version: 'v' },
  ]) {
    const poll = await pollAgentMetadata(answering(200, reply), URL);
    assert.deepEqual(poll, { answered: true, metadata: { cluster: 'prod', containerInstanceArn: null, version: 'v' } });
  }
});

test('a refused connection or a 5xx is "not answering yet", not an error', async () => {
  const refused = await pollAgentMetadata(new FakeHost(), URL);
  assert.equal(refused.answered, false);
  assert.match(refused.answered ? '' : refused.reason, /connection refused/);
  assert.deepEqual(await pollAgentMetadata(answering(503, 'starting'), URL), { answered: false, reason: 'HTTP 503' });
});

test('a reply that is not the agent metadata is a clear IntrospectionError', async () => {
  const malformed: Array<[number, unknown, RegExp]> = [
    [404, 'not found', /answered HTTP 404.*INTROSPECTION_URL/],
    [200, '<html>', /is not JSON/],
    [200, [1, 2], /is not a JSON object/],
    [200, { Cluster: 7, Version: 'v' }, /no Cluster string/],
    [200, { Cluster: 'prod' }, /no Version string/],
    [200, { Cluster: 'prod', ContainerInstanceArn: 'i-0123', Version: 'v' }, /not a container instance ARN/],
    [200, { Cluster: 'prod', ContainerInstanceArn: 42, Version: 'v' }, /not a container instance ARN/],
  ];
  for (const [status, body, message] of malformed) {
    await assert.rejects(pollAgentMetadata(answering(status, body), URL), (error: unknown) => {
      assert.ok(error instanceof IntrospectionError && error instanceof AgentError);
      assert.equal(error.exitCode, 1);
      assert.match(error.message, message);
      return true;
    });
  }
});
