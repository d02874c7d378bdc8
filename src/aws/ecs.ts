import type {
  DeregisterContainerInstanceCommandInput,
  DescribeClustersCommandInput,
  DescribeClustersCommandOutput,
  DescribeContainerInstancesCommandInput,
  DescribeContainerInstancesCommandOutput,
  DescribeTasksCommandInput,
  DescribeTasksCommandOutput,
  ListTasksCommandInput,
  UpdateContainerInstancesStateCommandInput,
  UpdateContainerInstancesStateCommandOutput,
} from '@aws-sdk/client-ecs';

import type { Config } from '../core/config/load.ts';
import type { Host } from '../host/host.ts';
import { type ClientTuning, DEFAULT_TUNING, onFirstUse } from './clients.ts';
import { type AwsSettings, awsSettings, hostRegion } from './region.ts';

/** The ECS operations the agent calls: registration proof, drain and activate, decommission, doctor. */
export interface Ecs {
  describeContainerInstances(
    input: DescribeContainerInstancesCommandInput,
  ): Promise<DescribeContainerInstancesCommandOutput>;
  updateContainerInstancesState(
    input: UpdateContainerInstancesStateCommandInput,
  ): Promise<UpdateContainerInstancesStateCommandOutput>;
  /** The ARNs of the tasks, every page read. */
  listTasks(input: ListTasksCommandInput): Promise<string[]>;
  describeTasks(input: DescribeTasksCommandInput): Promise<DescribeTasksCommandOutput>;
  deregisterContainerInstance(input: DeregisterContainerInstanceCommandInput): Promise<void>;
  describeClusters(
    input: DescribeClustersCommandInput,
    options?: { readonly abortSignal?: AbortSignal },
  ): Promise<DescribeClustersCommandOutput>;
}

/** ECS in settings' region, through host; the SDK's ECS client loads at the first call. */
export function createEcs(host: Host, settings: AwsSettings, tuning: ClientTuning = DEFAULT_TUNING): Ecs {
  const sdk = onFirstUse(async () => (await import('./ecs-sdk.ts')).sdkEcs(host, settings, tuning));
  return {
    describeContainerInstances: async (input) => (await sdk()).describeContainerInstances(input),
    updateContainerInstancesState: async (input) => (await sdk()).updateContainerInstancesState(input),
    listTasks: async (input) => (await sdk()).listTasks(input),
    describeTasks: async (input) => (await sdk()).describeTasks(input),
    deregisterContainerInstance: async (input) => (await sdk()).deregisterContainerInstance(input),
    describeClusters: async (input, options) => (await sdk()).describeClusters(input, options),
  };
}

/** ECS for this host: its region (AWS_REGION, else IMDS) and config's endpoint override. */
export async function hostEcs(host: Host, config: Config): Promise<Ecs> {
  return createEcs(host, awsSettings(config, await hostRegion(host, config)));
}
