/**
 * The environment that keeps the agent on this machine: every endpoint it could reach at a dead loopback port
 * (the discard port: nothing listens there, here or in a container with only loopback), with fake credentials
 * so the AWS SDK never asks IMDS for real ones.
 */
export const DEAD_ENDPOINT = 'http://127.0.0.1:9';

/** Endpoints the agent's configuration knows (agent.env keys too). */
export const DEAD_ENDPOINTS = {
  AWS_EC2_METADATA_SERVICE_ENDPOINT: DEAD_ENDPOINT,
  AWS_ENDPOINT_URL_ECS: DEAD_ENDPOINT,
  AWS_ENDPOINT_URL_SSM: DEAD_ENDPOINT,
  AWS_ENDPOINT_URL_S3: DEAD_ENDPOINT,
  AWS_ENDPOINT_URL_ECR: DEAD_ENDPOINT,
  ECSINIT_BASE_URL: DEAD_ENDPOINT,
} as const;

/** What only the AWS SDK reads from the environment. */
export const SDK_ENV = {
  AWS_ENDPOINT_URL_CLOUDWATCH: DEAD_ENDPOINT,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
} as const;

export const OFFLINE_ENV = { ...DEAD_ENDPOINTS, ...SDK_ENV, AWS_REGION: 'eu-west-1' } as const;
