import assert from 'node:assert/strict';
import { test } from 'node:test';

import { clusterNameOf, clusterOfContainerInstanceArn, isContainerInstanceArn } from '../../../src/ecs-agent/arn.ts';

const LONG = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';
const SHORT = 'arn:aws:ecs:us-west-2:123456789012:container-instance/a9f8e650-e66e-466d-9b0e-3cbce3ba5245';

test('a cluster is known by its name, whether given by name or ARN', () => {
  assert.equal(clusterNameOf('prod'), 'prod');
  assert.equal(clusterNameOf('arn:aws:ecs:eu-west-1:123456789012:cluster/prod'), 'prod');
  assert.equal(clusterNameOf('arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/gov_1'), 'gov_1');
});

test('container instance ARNs in the long and the legacy short form', () => {
  assert.ok(isContainerInstanceArn(LONG));
  assert.ok(isContainerInstanceArn(SHORT));
  assert.equal(clusterOfContainerInstanceArn(LONG), 'prod');
  assert.equal(clusterOfContainerInstanceArn(SHORT), null);
});

test('text that only contains or resembles an ARN is not one', () => {
  assert.equal(isContainerInstanceArn(`${LONG}x`), false);
  assert.equal(isContainerInstanceArn(` ${LONG}`), false);
  assert.equal(
    isContainerInstanceArn('arn:aws:ecs:eu-west-1:1234:container-instance/prod/0123456789abcdef0123456789abcdef'),
    false,
  );
  assert.equal(
    isContainerInstanceArn('arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef'),
    false,
  );
});
