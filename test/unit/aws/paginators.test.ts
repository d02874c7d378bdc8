/**
 * Listings read with the SDK's paginators: every page is read, each request carrying the token of the page
 * before, and a reader that has what it needs stops asking.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { findOptimizedAmiParameter } from '../../../src/aws/optimized-ami.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { listInstanceTasks } from '../../../src/ecs-agent/drain.ts';
import { awsJsonReply, inputOf, targetOf } from '../../support/aws-json.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { useTestCredentials } from '../../support/test-credentials.ts';
import { type EcsCall, scriptedEcs } from '../ecs-agent/scripted-ecs.ts';

const REF = { cluster: 'prod', containerInstanceArn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc' };
const TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/prod';

test('the tasks of an instance: every ListTasks page, then DescribeTasks 100 at a time', async () => {
  const calls: EcsCall[] = [];
  const pages: Record<string, { taskArns: string[]; nextToken?: string }> = {
    first: { taskArns: Array.from({ length: 100 }, (_, i) => `${TASK}/a${i}`), nextToken: 'second' },
    second: { taskArns: [`${TASK}/b0`, `${TASK}/b1`] },
  };
  const ecs = scriptedEcs((call) => {
    if (call.operation === 'ListTasks') return { status: 200, body: pages[String(call.input.nextToken ?? 'first')] };
    const tasks = (call.input.tasks as string[]).map((taskArn) => ({ taskArn, group: 'service:web' }));
    return { status: 200, body: { tasks, failures: [] } };
  }, calls);
  const tasks = await listInstanceTasks(ecs, REF);
  assert.equal(tasks.length, 102);
  assert.equal(tasks.at(-1)?.taskArn, `${TASK}/b1`);
  const described = (call: EcsCall) => (call.input.tasks as unknown[] | undefined)?.length ?? null;
  assert.deepEqual(
    calls.map((call) => [call.operation, call.input.nextToken ?? null, described(call)]),
    [
      ['ListTasks', null, null],
      ['ListTasks', 'second', null],
      ['DescribeTasks', null, 100],
      ['DescribeTasks', null, 2],
    ],
  );
  assert.deepEqual(
    { ...calls[0]?.input },
    { cluster: 'prod', containerInstance: REF.containerInstanceArn, desiredStatus: 'RUNNING' },
  );
});

const SSM = 'http://ssm.invalid';
const PATH = '/aws/service/ecs/optimized-ami/amazon-linux-2023/';
const AMI = 'ami-0123456789abcdef0';

/** Parameter Store's listing of PATH: page n holds one parameter, the AMI on page `hitAt` (never when null). */
function listing(hitAt: number | null) {
  useTestCredentials();
  const host = new FakeHost();
  const tokens: (string | null)[] = [];
  host.onHttp((request) => {
    if (!request.url.startsWith(`${SSM}/`) || targetOf(request) !== 'GetParametersByPath') return undefined;
    const input = inputOf(request);
    tokens.push((input.NextToken as string | undefined) ?? null);
    const page = Number(input.NextToken ?? 0);
    const value = page === hitAt ? `{"image_id":"${AMI}"}` : `ami-${String(page).padStart(17, '0')}`;
    const parameter = { Name: `${PATH}variant-${page}/recommended`, Type: 'String', Value: value, Version: 1 };
    return awsJsonReply(200, { Parameters: [parameter], NextToken: String(page + 1) });
  });
  const config = loadConfig({ file: 'agent.env', fileText: `AWS_ENDPOINT_URL_SSM=${SSM}\n`, env: {}, flags: {} });
  return { find: () => findOptimizedAmiParameter(host, config, 'us-east-1', PATH, AMI), tokens };
}

test('the ECS-optimized AMI parameters: read page after page until one lists the AMI, then no further', async () => {
  const { find, tokens } = listing(3);
  assert.equal(await find(), `${PATH}variant-3/recommended`);
  assert.deepEqual(tokens, [null, '1', '2', '3']);
});

test('the ECS-optimized AMI parameters: a listing that never ends is given up after 200 pages', async () => {
  const { find, tokens } = listing(null);
  assert.equal(await find(), null);
  assert.equal(tokens.length, 200);
});
