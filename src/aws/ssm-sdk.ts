import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';

import type { Host } from '../host/host.ts';
import { type AwsSettings, type ClientTuning, sdkClientConfig } from './clients.ts';
import type { Ssm } from './ssm.ts';

/** The Ssm port on the SDK's client; reached only by ssm.ts's dynamic import. */
export function sdkSsm(host: Host, settings: AwsSettings, tuning: ClientTuning): Ssm {
  const client = new SSMClient(sdkClientConfig(host, settings.region, settings.ssmEndpoint, tuning));
  return {
    getParameter: (input) => client.send(new GetParameterCommand(input)),
    getParametersByPath: (input) => client.send(new GetParametersByPathCommand(input)),
    putParameter: (input) => client.send(new PutParameterCommand(input)),
    async deleteParameter(input) {
      await client.send(new DeleteParameterCommand(input));
    },
  };
}
