import { reachabilityCheck } from './reachability.ts';

/** ecs-init downloads the ECS agent image from the regional S3 bucket when it has none cached. */
export const s3Endpoint = reachabilityCheck('s3', 'S3 reachable, for the agent image download (TCP + TLS)');
