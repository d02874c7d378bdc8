import { messageOf } from '../../core/errors.ts';
import { type Check, fail, ok } from '../check.ts';

/** Only the cluster named "default" is created by a registering agent (aws/amazon-ecs-agent#826). */
export const clusterExists: Check = {
  id: 'cluster',
  title: 'the configured cluster exists',
  async run(context) {
    const cluster = context.config.ECS_CLUSTER;
    const create = `create it ("aws ecs create-cluster --cluster-name ${cluster}") or fix ECS_CLUSTER`;
    let reply;
    try {
      const ecs = await context.ecs();
      reply = await ecs.describeClusters(
        { clusters: [cluster] },
        { abortSignal: AbortSignal.timeout(context.timeoutMs * 2) },
      );
    } catch (error) {
      return fail(
        `ECS DescribeClusters failed: ${messageOf(error)}`,
        'check the ecs-endpoint and instance-role checks; the caller needs ecs:DescribeClusters',
      );
    }
    const found = reply.clusters?.find((candidate) => candidate.clusterName === cluster);
    if (!found) {
      if (cluster === 'default')
        return ok('cluster "default" does not exist yet; the agent creates it when it registers');
      return fail(`ECS has no cluster "${cluster}" (${reply.failures?.[0]?.reason ?? 'not returned'})`, create);
    }
    if (found.status !== 'ACTIVE') return fail(`cluster "${cluster}" is ${found.status}`, create);
    return ok(
      `cluster "${cluster}" is ACTIVE with ${found.registeredContainerInstancesCount ?? 0} container instances`,
    );
  },
};
