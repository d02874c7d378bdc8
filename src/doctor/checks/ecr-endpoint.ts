import { reachabilityCheck } from './reachability.ts';

export const ecrEndpoint = reachabilityCheck('ecr', 'ECR reachable, for task images (TCP + TLS)');
