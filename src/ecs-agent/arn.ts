/**
 * ECS ARNs as the agent and the ECS API write them. A cluster may be given by
 * name or by ARN (ECS_CLUSTER accepts both), so clusters are compared by name.
 * Container instance ARNs come in the long form `container-instance/<cluster>/<id>`
 * and the legacy short form `container-instance/<id>`.
 */
const ARN_PREFIX = String.raw`arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:`;
const NAME = '[A-Za-z0-9_-]{1,255}';
const INSTANCE_ID = '[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** The end of an ARN inside other text: no further name character follows. */
const END = '(?![A-Za-z0-9_-])';

/** A container instance ARN; group 1 is the cluster name (long form only). */
export const CONTAINER_INSTANCE_ARN = new RegExp(
  `${ARN_PREFIX}container-instance/(?:(${NAME})/)?(?:${INSTANCE_ID})${END}`,
);
/** A cluster ARN; group 1 is the cluster name. */
export const CLUSTER_ARN = new RegExp(`${ARN_PREFIX}cluster/(${NAME})${END}`);

export function isContainerInstanceArn(text: string): boolean {
  const match = CONTAINER_INSTANCE_ARN.exec(text);
  return match !== null && match[0] === text;
}

/** "my-cluster" for "my-cluster" and for "arn:aws:ecs:eu-west-1:123456789012:cluster/my-cluster". */
export function clusterNameOf(nameOrArn: string): string {
  const match = CLUSTER_ARN.exec(nameOrArn);
  return match && match[0] === nameOrArn ? (match[1] as string) : nameOrArn;
}

/** The cluster a long-form container instance ARN names, or null for the short form. */
export function clusterOfContainerInstanceArn(arn: string): string | null {
  return CONTAINER_INSTANCE_ARN.exec(arn)?.[1] ?? null;
}
