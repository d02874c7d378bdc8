import type { PackageManagerName } from '../../os/support.ts';

/**
 * Where ecs-init comes from on each family (DESIGN.md §3) and the unit it
 * installs. Ubuntu and Debian have no ecs-init package in their archives:
 * Amazon publishes a signed .deb per region instead.
 */
export type EcsInitSource =
  | { readonly kind: 'package'; readonly name: string }
  | { readonly kind: 'extras'; readonly topic: string; readonly name: string }
  | { readonly kind: 'signed-deb'; readonly name: string };

export interface EcsInitPlatform {
  readonly source: EcsInitSource;
  readonly unit: string;
}

export const ECS_INIT_PLATFORMS: Readonly<Record<PackageManagerName, EcsInitPlatform>> = {
  dnf: { source: { kind: 'package', name: 'ecs-init' }, unit: 'ecs.service' },
  yum: { source: { kind: 'extras', topic: 'ecs', name: 'ecs-init' }, unit: 'ecs.service' },
  zypper: { source: { kind: 'package', name: 'amazon-ecs-init' }, unit: 'amazon-ecs.service' },
  apt: { source: { kind: 'signed-deb', name: 'amazon-ecs-init' }, unit: 'ecs.service' },
};
