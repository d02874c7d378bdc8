import { reachabilityCheck } from './reachability.ts';

export const ecsEndpoint = reachabilityCheck('ecs', 'ECS endpoint reachable (TCP + TLS)');
