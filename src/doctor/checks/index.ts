import type { Check } from '../check.ts';
import { agentState } from './agent-state.ts';
import { cgroups } from './cgroups.ts';
import { clockSkew } from './clock-skew.ts';
import { clusterExists } from './cluster.ts';
import { controlEndpoint } from './control-endpoint.ts';
import { dockerApi } from './docker-api.ts';
import { dockerService } from './docker-service.ts';
import { dockerStorageDriver } from './docker-storage-driver.ts';
import { dockerStoreSpace } from './docker-store-space.ts';
import { ecrEndpoint } from './ecr-endpoint.ts';
import { ecsConfig } from './ecs-config.ts';
import { ecsEndpoint } from './ecs-endpoint.ts';
import { ecsInit } from './ecs-init.ts';
import { ecsOptimized } from './ecs-optimized.ts';
import { imds } from './imds.ts';
import { instanceRole } from './instance-role.ts';
import { introspection } from './introspection.ts';
import { osSupport } from './os-support.ts';
import { s3Endpoint } from './s3-endpoint.ts';
import { systemd } from './systemd.ts';

/** Every check, in the order an operator reads them: the host, Docker, ecs-init, AWS, then the agent itself. */
export const CHECKS: readonly Check[] = [
  osSupport,
  ecsOptimized,
  systemd,
  cgroups,
  dockerService,
  dockerApi,
  dockerStorageDriver,
  dockerStoreSpace,
  ecsInit,
  ecsConfig,
  agentState,
  imds,
  instanceRole,
  ecsEndpoint,
  s3Endpoint,
  ecrEndpoint,
  clockSkew,
  clusterExists,
  introspection,
  controlEndpoint,
];
