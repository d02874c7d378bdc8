import { join } from 'node:path';

import { MOTO_REGION } from '../../support/moto.ts';

/**
 * The configuration of an agent under test, as environment variables: IMDS a loopback stand-in, the ECS agent and
 * Docker dead addresses, the spool in the test's directory, no identity document; the sinks come in `extra`.
 */
export function agentEnv(dir: string, imdsUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ECS_CLUSTER: 'prod',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imdsUrl,
    SPOOL_DIR: join(dir, 'spool'),
    INTROSPECTION_URL: 'http://127.0.0.1:9',
    METRICS_DOCKER_SOCKET: join(dir, 'no-docker.sock'),
    CONTROL_IDENTITY: 'no',
    ...extra,
  };
}

/** What a process of its own needs besides: a PATH, and moto's fake credentials so the SDK asks nothing else. */
export function processEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: MOTO_REGION,
  };
}
