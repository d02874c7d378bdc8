/** Well-known paths on the managed system, in one place. */
export const PATHS = {
  ecsConfig: '/etc/ecs/ecs.config',
  ecsAgentData: '/var/lib/ecs/data',
  ecsAgentLog: '/var/log/ecs/ecs-agent.log',
  agentState: '/var/lib/ecs-host-agent',
  /** Downloads waiting for verification; removed after every install attempt. */
  downloadCache: '/var/cache/ecs-host-agent',
  /** Present when this agent installed ecs-init, so its own images are not mistaken for ECS-optimized AMIs. */
  ecsInitInstalledMarker: '/var/lib/ecs-host-agent/ecs-init-installed-by-agent',
} as const;
