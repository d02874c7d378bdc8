import type {
  DeleteParameterCommandInput,
  GetParameterCommandInput,
  GetParameterCommandOutput,
  GetParametersByPathCommandInput,
  GetParametersByPathCommandOutput,
  PutParameterCommandInput,
  PutParameterCommandOutput,
} from '@aws-sdk/client-ssm';

import type { Host } from '../host/host.ts';
import { type ClientTuning, DEFAULT_TUNING, onFirstUse } from './clients.ts';
import type { AwsSettings } from './region.ts';

export type { Parameter } from '@aws-sdk/client-ssm';

/** The Parameter Store operations the agent calls: the fleet's reboot slots, the users source, ECS-optimized AMIs. */
export interface Ssm {
  getParameter(input: GetParameterCommandInput): Promise<GetParameterCommandOutput>;
  /** One page (NextToken in the input): for a caller that tries each page again by itself. */
  getParametersByPath(input: GetParametersByPathCommandInput): Promise<GetParametersByPathCommandOutput>;
  /** Every page in turn (the SDK's paginator), read as the caller goes on: it may stop early. */
  parametersByPath(input: GetParametersByPathCommandInput): AsyncIterable<GetParametersByPathCommandOutput>;
  putParameter(input: PutParameterCommandInput): Promise<PutParameterCommandOutput>;
  deleteParameter(input: DeleteParameterCommandInput): Promise<void>;
}

/** SSM in settings' region, through host; the SDK's SSM client loads at the first call. */
export function createSsm(host: Host, settings: AwsSettings, tuning: ClientTuning = DEFAULT_TUNING): Ssm {
  const sdk = onFirstUse(async () => (await import('./ssm-sdk.ts')).sdkSsm(host, settings, tuning));
  return {
    getParameter: async (input) => (await sdk()).getParameter(input),
    getParametersByPath: async (input) => (await sdk()).getParametersByPath(input),
    async *parametersByPath(input) {
      yield* (await sdk()).parametersByPath(input);
    },
    putParameter: async (input) => (await sdk()).putParameter(input),
    deleteParameter: async (input) => (await sdk()).deleteParameter(input),
  };
}
