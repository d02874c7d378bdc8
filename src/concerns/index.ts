import type { AnyConcern } from '../core/runner.ts';

/** Every concern, in the order they converge. */
export const CONCERNS: readonly AnyConcern[] = [];
