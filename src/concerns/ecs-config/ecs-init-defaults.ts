/**
 * Keys ecs-init sets for the ECS agent unless ecs.config sets them
 * (getContainerConfig and getPlatformSpecificEnvVariables in
 * aws/amazon-ecs-agent ecs-init/docker). An empty value in ecs.config still
 * replaces the default, and the agent then treats the key as unset: its own
 * default, which for these is off.
 */
export const ECS_INIT_DEFAULTS: Readonly<Record<string, { readonly value: string; readonly effect: string }>> = {
  ECS_ENABLE_TASK_IAM_ROLE: { value: 'true', effect: 'task IAM roles are turned off' },
  ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST: {
    value: 'true',
    effect: 'task IAM roles for tasks in host network mode are turned off',
  },
  ECS_ENABLE_TASK_ENI: { value: 'true', effect: 'awsvpc network mode (task ENIs) is turned off' },
  ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE: {
    value: 'true',
    effect: 'the awslogs driver no longer uses the task execution role',
  },
  ECS_UPDATES_ENABLED: { value: 'true', effect: 'agent updates (UpdateContainerAgent) are refused' },
  ECS_AVAILABLE_LOGGING_DRIVERS: {
    value: '["json-file","syslog","awslogs","fluentd","none"]',
    effect:
      'only the json-file and none log drivers are offered: tasks using awslogs, syslog or fluentd are not placed here',
  },
  ECS_VOLUME_PLUGIN_CAPABILITIES: {
    value: '["efsAuth"]',
    effect: 'EFS volumes with IAM authorization are not offered',
  },
};

/** Warnings for keys ecs-init defaults that the file sets to "", naming what that turns off. */
export function emptyDefaultWarnings(ecsInit: ReadonlyMap<string, string>, file: string): string[] {
  return Object.entries(ECS_INIT_DEFAULTS).flatMap(([key, { value, effect }]) =>
    ecsInit.get(key) === ''
      ? [
          `${file}: ${key} is empty: that replaces ecs-init's default ${value}, so ${effect}; ` +
            'remove the key to keep the default',
        ]
      : [],
  );
}
