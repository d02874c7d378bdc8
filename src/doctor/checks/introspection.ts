import { messageOf } from '../../core/errors.ts';
import { PATHS } from '../../core/paths.ts';
import { clusterNameOf } from '../../ecs-agent/arn.ts';
import { pollAgentMetadata } from '../../ecs-agent/introspection.ts';
import { type Check, fail, ok } from '../check.ts';

export const introspection: Check = {
  id: 'introspection',
  title: 'the ECS agent answers and registered in the cluster',
  async run(context) {
    const url = context.config.INTROSPECTION_URL;
    const wanted = context.config.ECS_CLUSTER;
    let poll;
    try {
      poll = await pollAgentMetadata(context.host, url, context.timeoutMs);
    } catch (error) {
      return fail(messageOf(error), 'point INTROSPECTION_URL at the ECS agent (default http://127.0.0.1:51678)');
    }
    if (!poll.answered) {
      return fail(
        `the ECS agent does not answer at ${url} (${poll.reason})`,
        `see "systemctl status ecs" and ${PATHS.ecsAgentLog}; the checks above name the usual causes`,
      );
    }
    const { cluster, containerInstanceArn, version } = poll.metadata;
    if (clusterNameOf(cluster) !== wanted) {
      return fail(
        `the agent reports cluster "${clusterNameOf(cluster)}", not "${wanted}"`,
        'clear stale state with "ecs-host-agent apply --reset-agent-state"',
      );
    }
    if (containerInstanceArn === null) {
      return fail(
        `${version} answers for cluster "${wanted}" but has not registered`,
        `see ${PATHS.ecsAgentLog}: usually the instance role lacks ecs:RegisterContainerInstance or ` +
          `the cluster does not exist`,
      );
    }
    return ok(`${version} registered ${containerInstanceArn}`);
  },
};
