import { InvalidValue } from './values.ts';
import {
  type Check,
  choice,
  goDuration,
  jsonCidrList,
  jsonPortList,
  jsonRegistryAuth,
  jsonStringList,
  jsonStringMap,
  jsonTags,
  numberPair,
  portRange,
  trueOrFalse,
  wholeNumber,
} from './ecs-checks.ts';

/**
 * What each ECS agent key in /etc/ecs/ecs.config may hold, from the
 * environment variable table of the aws/amazon-ecs-agent README and the
 * agent's parsers (agent/config/parse.go, config.go). Keys not listed pass
 * through after the generic one-line checks of the config loader.
 */
const BOOLEAN_KEYS = [
  'ECS_ALLOW_OFFHOST_INTROSPECTION_ACCESS',
  'ECS_APPARMOR_CAPABLE',
  'ECS_AUDIT_LOGFILE_DISABLED',
  'ECS_AWSVPC_BLOCK_IMDS',
  'ECS_CHECKPOINT',
  'ECS_DISABLE_DOCKER_HEALTH_CHECK',
  'ECS_DISABLE_IMAGE_CLEANUP',
  'ECS_DISABLE_METRICS',
  'ECS_DISABLE_PRIVILEGED',
  'ECS_DISABLE_TASK_METADATA_AZ',
  'ECS_EBSTA_SUPPORTED',
  'ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE',
  'ECS_ENABLE_CONTAINER_METADATA',
  'ECS_ENABLE_GPU_SUPPORT',
  'ECS_ENABLE_HIGH_DENSITY_ENI',
  'ECS_ENABLE_RUNTIME_STATS',
  'ECS_ENABLE_SPOT_INSTANCE_DRAINING',
  'ECS_ENABLE_TASK_CPU_MEM_LIMIT',
  'ECS_ENABLE_TASK_ENI',
  'ECS_ENABLE_TASK_IAM_ROLE',
  'ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST',
  'ECS_ENABLE_UNTRACKED_IMAGE_CLEANUP',
  'ECS_EXCLUDE_IPV6_PORTBINDING',
  'ECS_GMSA_SUPPORTED',
  'ECS_POLL_METRICS',
  'ECS_PULL_DEPENDENT_CONTAINERS_UPFRONT',
  'ECS_SELINUX_CAPABLE',
  'ECS_SHARED_VOLUME_MATCH_FULL_CONFIG',
  'ECS_SKIP_LOCALHOST_TRAFFIC_FILTER',
  'ECS_UPDATES_ENABLED',
  'ECS_WARM_POOLS_CHECK',
];

const LOG_LEVELS = ['crit', 'error', 'warn', 'info', 'debug'];

const KEY_CHECKS: Readonly<Record<string, Check>> = {
  ...Object.fromEntries(BOOLEAN_KEYS.map((name) => [name, trueOrFalse])),

  ECS_INSTANCE_ATTRIBUTES: jsonStringMap,
  ECS_CONTAINER_INSTANCE_TAGS: jsonTags,
  ECS_LOG_OPTS: jsonStringMap,
  ECS_AGENT_LABELS: jsonStringMap,
  ECS_AVAILABLE_LOGGING_DRIVERS: jsonStringList,
  ECS_RESERVED_PORTS: jsonPortList,
  ECS_RESERVED_PORTS_UDP: jsonPortList,
  ECS_AWSVPC_ADDITIONAL_LOCAL_ROUTES: jsonCidrList,
  ECS_ENGINE_AUTH_DATA: jsonRegistryAuth,

  ECS_ENGINE_AUTH_TYPE: choice(['docker', 'dockercfg']),
  ECS_LOGLEVEL: choice(LOG_LEVELS),
  ECS_LOGLEVEL_ON_INSTANCE: choice(['none', ...LOG_LEVELS]),
  ECS_LOG_DRIVER: choice(['awslogs', 'fluentd', 'gelf', 'json-file', 'journald', 'logentries', 'syslog', 'splunk']),
  ECS_LOG_ROLLOVER_TYPE: choice(['size', 'hourly']),
  ECS_LOG_OUTPUT_FORMAT: choice(['logfmt', 'json']),
  ECS_IMAGE_PULL_BEHAVIOR: choice(['default', 'always', 'once', 'prefer-cached']),
  ECS_CONTAINER_INSTANCE_PROPAGATE_TAGS_FROM: choice(['ec2_instance', 'none']),

  // Limits are where the README says the agent ignores or clamps a value.
  ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: goDuration({ min: '1s' }),
  ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION_JITTER: goDuration(),
  ECS_IMAGE_CLEANUP_INTERVAL: goDuration({ min: '10m' }),
  ECS_IMAGE_MINIMUM_CLEANUP_AGE: goDuration(),
  ECS_IMAGE_PULL_INACTIVITY_TIMEOUT: goDuration(),
  ECS_IMAGE_PULL_TIMEOUT: goDuration(),
  ECS_MANIFEST_PULL_TIMEOUT: goDuration(),
  ECS_CONTAINER_STOP_TIMEOUT: goDuration(),
  ECS_CONTAINER_START_TIMEOUT: goDuration(),
  ECS_CONTAINER_CREATE_TIMEOUT: goDuration({ min: '1m' }),
  ECS_POLLING_METRICS_WAIT_DURATION: goDuration({ min: '5s', max: '20s' }),
  ECS_CGROUP_CPU_PERIOD: goDuration({ min: '8ms', max: '100ms' }),

  ECS_RESERVED_MEMORY: wholeNumber(0, 65535),
  ECS_NUM_IMAGES_DELETE_PER_CYCLE: wholeNumber(1),
  ECS_TASK_PIDS_LIMIT: wholeNumber(1, 4_194_304),
  ECS_LOG_MAX_FILE_SIZE_MB: wholeNumber(1),
  ECS_LOG_MAX_ROLL_COUNT: wholeNumber(1),
  ECS_TASK_METADATA_RPS_LIMIT: numberPair(',', '40,60'),
  ECS_DYNAMIC_HOST_PORT_RANGE: portRange,
};

/**
 * The value to write for an ECS agent key: validated for the keys the agent
 * gives a type, JSON re-serialised compact. An empty value is written as
 * `KEY=` (every reader sees ""). Throws InvalidValue; the config loader adds
 * the origin.
 */
export function normalizeEcsValue(name: string, raw: string): string {
  if (name === 'ECS_EXTERNAL') {
    throw new InvalidValue(
      'is for ECS Anywhere only: on EC2 the agent would register as an external instance',
      'leave ECS_EXTERNAL unset',
    );
  }
  const check = KEY_CHECKS[name];
  return check === undefined || raw === '' ? raw : check(raw);
}
