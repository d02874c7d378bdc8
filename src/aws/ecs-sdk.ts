import {
  DeregisterContainerInstanceCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  paginateListTasks,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';

import type { Host } from '../host/host.ts';
import { type ClientTuning, sdkClientConfig } from './clients.ts';
import type { Ecs } from './ecs.ts';
import type { AwsSettings } from './region.ts';

/** The Ecs port on the SDK's client; reached only by ecs.ts's dynamic import. */
export function sdkEcs(host: Host, settings: AwsSettings, tuning: ClientTuning): Ecs {
  const client = new ECSClient(sdkClientConfig(host, settings.region, settings.ecsEndpoint, tuning));
  return {
    describeContainerInstances: (input) => client.send(new DescribeContainerInstancesCommand(input)),
    updateContainerInstancesState: (input) => client.send(new UpdateContainerInstancesStateCommand(input)),
    async listTasks(input) {
      const arns: string[] = [];
      // The paginator writes each page's token into the input it is given: a copy of the caller's.
      for await (const page of paginateListTasks({ client }, { ...input })) arns.push(...(page.taskArns ?? []));
      return arns;
    },
    describeTasks: (input) => client.send(new DescribeTasksCommand(input)),
    async deregisterContainerInstance(input) {
      await client.send(new DeregisterContainerInstanceCommand(input));
    },
    describeClusters: (input, options) => client.send(new DescribeClustersCommand(input), options ?? {}),
  };
}
