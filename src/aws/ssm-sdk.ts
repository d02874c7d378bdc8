import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  paginateGetParametersByPath,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';

import type { Host } from '../host/host.ts';
import { type ClientTuning, sdkClientConfig } from './clients.ts';
import type { AwsSettings } from './region.ts';
import type { Ssm } from './ssm.ts';

/** The Ssm port on the SDK's client; reached only by ssm.ts's dynamic import. */
export function sdkSsm(host: Host, settings: AwsSettings, tuning: ClientTuning): Ssm {
  const client = new SSMClient(sdkClientConfig(host, settings.region, settings.ssmEndpoint, tuning));
  return {
    getParameter: (input) => client.send(new GetParameterCommand(input)),
    getParametersByPath: (input) => client.send(new GetParametersByPathCommand(input)),
    // The paginator writes each page's token into the input it is given: a copy of the caller's.
    parametersByPath: (input) => paginateGetParametersByPath({ client }, { ...input }),
    putParameter: (input) => client.send(new PutParameterCommand(input)),
    async deleteParameter(input) {
      await client.send(new DeleteParameterCommand(input));
    },
  };
}
