import type { AnyConcern } from '../core/runner.ts';
import { dockerConcern } from './docker/index.ts';
import { ecsConfigConcern } from './ecs-config/index.ts';
import { ecsConcern } from './ecs/index.ts';
import { gpuConcern } from './gpu/index.ts';
import { storageConcern } from './storage/index.ts';
import { updateToolsConcern } from './updates/tools.ts';
import { usersConcern } from './users/index.ts';
import { volumesConcern } from './volumes/index.ts';

/**
 * Every concern, in the order they converge (storage first: Docker then starts on its final store, nothing to move).
 */
export const CONCERNS: readonly AnyConcern[] = [
  storageConcern,
  volumesConcern,
  dockerConcern,
  gpuConcern,
  ecsConfigConcern,
  ecsConcern,
  updateToolsConcern,
  usersConcern,
];
