import { PATHS } from '../../core/paths.ts';
import { readAgentState, staleStateProblem } from '../../ecs-agent/agent-state.ts';
import { clusterNameOf } from '../../ecs-agent/arn.ts';
import { type Check, fail, ok } from '../check.ts';

export const agentState: Check = {
  id: 'agent-state',
  title: 'no stale agent state of another cluster',
  async run(context) {
    const state = await readAgentState(context.host);
    const problem = staleStateProblem(state, context.config.ECS_CLUSTER, { imageRoot: false });
    if (problem)
      return fail(problem, 'stop ecs-init and clear the state with "ecs-host-agent apply --reset-agent-state"');
    if (state === null) return ok(`no saved agent state in ${PATHS.ecsAgentData}: the agent registers afresh`);
    const cluster = state.cluster === null ? 'an unnamed cluster' : `cluster "${clusterNameOf(state.cluster)}"`;
    return ok(`saved state of ${cluster}${state.containerInstanceArn ? ` for ${state.containerInstanceArn}` : ''}`);
  },
};
