import { LOG_LEVELS } from '../logger.ts';
import { parseWindow } from './window.ts';
import {
  absolutePath,
  bool,
  clusterName,
  duration,
  httpUrl,
  integer,
  InvalidValue,
  oneOf,
  optional,
  type Parse,
  pattern,
  region,
  size,
  timeZone,
} from './values.ts';

/**
 * Every key the agent reads from agent.env, the environment or flags. The table
 * is the single source for validation, defaults, `--help` and the README.
 * Keys starting with ECS_ that are not listed here pass through to /etc/ecs/ecs.config.
 */
export interface KeySpec<T> {
  readonly parse: Parse<T>;
  readonly default: string;
  readonly description: string;
  readonly secret?: boolean;
}

function key<T>(parse: Parse<T>, defaultValue: string, description: string): KeySpec<T> {
  return { parse, default: defaultValue, description };
}

export type UsersSource =
  | { readonly kind: 'ssm'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'control' };

const usersSource: Parse<UsersSource> = (raw) => {
  if (raw === 'control') return { kind: 'control' };
  const match = /^(ssm|file):(\/.*)$/.exec(raw);
  if (match) return { kind: match[1] as 'ssm' | 'file', path: absolutePath(match[2] as string) };
  throw new InvalidValue('is not a users source', 'ssm:/parameter/prefix, file:/path/to/users.json or control');
};

export const KEYS = {
  ECS_CLUSTER: key(clusterName, 'default', 'ECS cluster the instance joins'),
  // Not ECS_-prefixed: those keys pass through to /etc/ecs/ecs.config.
  REGISTRATION_TIMEOUT: key(duration(1000, 3_600_000), '5m', 'how long to wait for the ECS agent to prove it registered'),
  INTROSPECTION_URL: key(httpUrl, 'http://127.0.0.1:51678', 'the ECS agent introspection API'),
  AWS_REGION: key(optional(region), '', 'AWS region; empty: the instance\'s region from IMDS'),
  LOG_LEVEL: key(oneOf(LOG_LEVELS), 'info', 'error, warn, info or debug'),
  CONTROL_URL: key(optional(httpUrl), '', 'control endpoint base URL; empty: no reporting'),
  CONTROL_TOKEN_FILE: key(optional(absolutePath), '', 'file holding the bearer token for the control endpoint'),
  METRICS_INTERVAL: key(duration(10_000, 3_600_000), '60s', 'how often metrics are sampled and sent'),
  USERS_SOURCE: key(optional(usersSource), '', 'where SSH users come from; empty: users are not managed'),
  UPDATE_WINDOW: key(parseWindow, 'Sun 03:00-05:00', 'when security updates may reboot the host'),
  UPDATE_TIMEZONE: key(timeZone, 'UTC', 'time zone of UPDATE_WINDOW'),
  REBOOT_POLICY: key(oneOf(['never', 'if-needed', 'always'] as const), 'if-needed', 'reboot after security updates'),
  MAX_CONCURRENT_REBOOTS: key(integer(1, 1000), '1', 'hosts of the cluster that may reboot at once'),
  STORAGE_MODE: key(oneOf(['none', 'btrfs-file', 'btrfs-device'] as const), 'none', 'Docker image storage on Btrfs'),
  STORAGE_FILE: key(absolutePath, '/var/lib/docker-storage.btrfs', 'backing file for STORAGE_MODE=btrfs-file'),
  STORAGE_SIZE: key(size, '100G', 'thin size of the backing file'),
  STORAGE_DEVICE: key(optional(absolutePathOrVolume()), '', 'block device or EBS volume id for btrfs-device'),
  STORAGE_FORCE_FORMAT: key(bool, 'no', 'format a device that already holds a filesystem'),
  STORAGE_WARN_PERCENT: key(integer(1, 100), '85', 'warn (and report a metric) when the Docker store is fuller than this percentage'),
  ALLOW_ECS_OPTIMIZED: key(bool, 'no', 'run even on an ECS-optimized AMI (not recommended)'),
  GPU_SUPPORT: key(oneOf(['auto', 'no'] as const), 'auto', 'auto: ECS_ENABLE_GPU_SUPPORT=true when an NVIDIA GPU is found; no: never (--no-gpu)'),
  ECSINIT_VERSION: key(
    pattern(/^(latest|\d+\.\d+\.\d+(-\d+)?)$/, 'latest or a version such as 1.89.3-1'),
    'latest',
    'ecs-init version for the signed .deb (Ubuntu, Debian)',
  ),
  ECSINIT_BASE_URL: key(optional(httpUrl), '', 'where the ecs-init .deb and .asc are downloaded; empty: the regional Amazon bucket'),
  ECSINIT_SIGNING_KEY: key(optional(absolutePath), '', 'armored public key that must have signed the ecs-init .deb; empty: the shipped Amazon ECS key'),
  AWS_ENDPOINT_URL_ECS: key(optional(httpUrl), '', 'ECS API endpoint override (VPC endpoints, tests)'),
  AWS_ENDPOINT_URL_SSM: key(optional(httpUrl), '', 'SSM API endpoint override'),
  AWS_EC2_METADATA_SERVICE_ENDPOINT: key(httpUrl, 'http://169.254.169.254', 'instance metadata service (IMDSv2)'),
} satisfies Record<string, KeySpec<unknown>>;

function absolutePathOrVolume(): Parse<string> {
  return (raw) => {
    if (/^vol-[0-9a-f]{8,17}$/.test(raw)) return raw;
    try {
      return absolutePath(raw);
    } catch {
      throw new InvalidValue('is neither a device path nor an EBS volume id', '/dev/... or vol-0123456789abcdef0');
    }
  };
}

export type KeyName = keyof typeof KEYS;

/** Values that must never appear in output or logs. */
export function isSecretKey(name: string): boolean {
  return /AUTH|TOKEN|SECRET|PASSWORD|CREDENTIAL/.test(name) && name !== 'CONTROL_TOKEN_FILE';
}
