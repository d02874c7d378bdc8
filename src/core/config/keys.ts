import { LOG_LEVELS } from '../logger.ts';
import { allowedGroups, loginShell, removalLimit } from './users.ts';
import { parseVolumes } from './volumes.ts';
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
  offOr,
  optional,
  type Parse,
  pattern,
  region,
  size,
  timeZone,
} from './values.ts';

/**
 * Every key the agent reads from agent.env, the environment or flags. The table
 * is the single source for validation, defaults and the README's key table
 * (`npm run docs`, which shows each description as the key's meaning).
 * Keys starting with ECS_ that are not listed here pass through to /etc/ecs/ecs.config.
 */
export interface KeySpec<T> {
  readonly parse: Parse<T>;
  readonly default: string;
  readonly description: string;
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

export interface ListenAddress {
  readonly address: string;
  readonly port: number;
}

/** A port on loopback only: the endpoint has no authentication. */
export const loopbackListen: Parse<ListenAddress> = (raw) => {
  const match = /^(?:(127\.0\.0\.1|\[::1\]):)?(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535)
    throw new InvalidValue(
      'is not a loopback port',
      'a port from 1 to 65535, optionally as 127.0.0.1:PORT or [::1]:PORT',
    );
  return { address: match[1] === '[::1]' ? '::1' : '127.0.0.1', port };
};

/**
 * PORT alone is loopback; ADDRESS:PORT may be any address of the host (0.0.0.0 or [::] for all of them).
 * node:net is asked only for an address given: the config every command reads does not load it.
 */
const listenAddress: Parse<ListenAddress> = (raw) => {
  const match = /^(?:([0-9.]+|\[[0-9A-Fa-f:.]+\]):)?(\d{1,5})$/.exec(raw);
  const address = match?.[1]?.replace(/^\[(.*)\]$/, '$1') ?? '127.0.0.1';
  const port = Number(match?.[2]);
  const isIP = (text: string) => process.getBuiltinModule('node:net').isIP(text);
  if (!match || port < 1 || port > 65535 || (match[1] !== undefined && isIP(address) === 0)) {
    const allowed = 'PORT (on 127.0.0.1), or ADDRESS:PORT with an IPv4 or [bracketed] IPv6 address: 0.0.0.0:9101';
    throw new InvalidValue('is not a listen address', allowed);
  }
  return { address, port };
};

export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}

/** CloudWatch's namespace rules; AWS/ namespaces are AWS's own services'. */
const cloudWatchNamespace: Parse<string> = (raw) => {
  if (/^aws\//i.test(raw)) {
    throw new InvalidValue("is one of AWS's own namespaces", 'a namespace of your own, e.g. ECSHost or MyCompany/ECS');
  }
  const allowed = '1 to 255 letters, digits and . _ - / # : (not : first)';
  return pattern(/^[0-9A-Za-z._\-/#][0-9A-Za-z._\-/#:]{0,254}$/, allowed)(raw);
};

/** Mount points, comma-separated. */
const mountList: Parse<readonly string[]> = (raw) => [
  ...new Set(raw.split(',').map((mount) => absolutePath(mount.trim()))),
];

export const KEYS = {
  ECS_CLUSTER: key(clusterName, 'default', 'ECS cluster the instance joins (also written to /etc/ecs/ecs.config)'),
  // Not ECS_-prefixed: those keys pass through to /etc/ecs/ecs.config.
  REGISTRATION_TIMEOUT: key(
    duration(1000, 3_600_000),
    '5m',
    'how long apply waits for the ECS agent to prove it registered (1s to 1h)',
  ),
  INTROSPECTION_URL: key(httpUrl, 'http://127.0.0.1:51678', 'the ECS agent introspection API'),
  AWS_REGION: key(
    optional(region),
    '',
    "AWS region; empty: the instance's region from IMDS (so needed with --root to download ecs-init)",
  ),
  LOG_LEVEL: key(oneOf(LOG_LEVELS), 'info', 'error, warn, info or debug'),
  CONTROL_URL: key(optional(httpUrl), '', 'control endpoint base URL; empty: no reporting'),
  CONTROL_TOKEN_FILE: key(optional(absolutePath), '', 'file holding the bearer token for the control endpoint'),
  CONVERGE_INTERVAL: key(
    offOr(duration(60_000, 86_400_000)),
    '30m',
    'how often the daemon converges every concern, first at start; off: never',
  ),
  METRICS_INTERVAL: key(duration(10_000, 3_600_000), '60s', 'how often metrics are sampled and sent (10s to 1h)'),
  CONTROL_CA_BUNDLE: key(
    optional(absolutePath),
    '',
    'PEM file of CAs trusted for an https CONTROL_URL; empty: the system CAs',
  ),
  CONTROL_ALLOW_HTTP: key(bool, 'no', 'allow a plain http CONTROL_URL that is not loopback'),
  CONTROL_IDENTITY: key(
    oneOf(['auto', 'no'] as const),
    'auto',
    'auto: send the signed EC2 instance identity document (IMDSv2) when reachable; no: never',
  ),
  SPOOL_DIR: key(absolutePath, '/var/lib/ecs-host-agent/spool', 'where samples wait until every sink on has them'),
  SPOOL_MAX_BYTES: key(spoolSize, '64M', 'spool size cap (at least 2M); the oldest samples are dropped and counted'),
  SPOOL_MAX_AGE: key(
    duration(60_000, 90 * 86_400_000),
    '72h',
    'samples older than this are dropped from the spool (and counted)',
  ),
  METRICS_SINK_FILE: key(
    absolutePath,
    '/var/log/ecs-host-agent/metrics.ndjson',
    'newline JSON file samples go to when no sink is on (no CONTROL_URL, CloudWatch or remote write; rotated)',
  ),
  EVENTS_SINK_FILE: key(
    absolutePath,
    '/var/log/ecs-host-agent/events.ndjson',
    'newline JSON file host events (decommission, reboot) go to when CONTROL_URL is empty (rotated)',
  ),
  METRICS_PROMETHEUS_LISTEN: key(
    optional(listenAddress),
    '',
    'serve Prometheus text: PORT on loopback, or ADDRESS:PORT (beyond it: METRICS_PROMETHEUS_WEB_CONFIG); empty: off',
  ),
  METRICS_PROMETHEUS_WEB_CONFIG: key(
    optional(absolutePath),
    '',
    'TLS and basic auth of the Prometheus page (exporter web config)',
  ),
  METRICS_PROMETHEUS_ALLOW_HTTP: key(bool, 'no', 'allow the Prometheus page beyond loopback without TLS'),
  METRICS_CLOUDWATCH: key(bool, 'no', 'publish host metrics to CloudWatch (PutMetricData) with the OpsWorks names'),
  METRICS_CLOUDWATCH_NAMESPACE: key(cloudWatchNamespace, 'ECSHost', 'CloudWatch namespace of the metrics, not AWS/…'),
  METRICS_CLOUDWATCH_ASG_DIMENSION: key(
    bool,
    'no',
    'add AutoScalingGroupName from the instance metadata tags to every metric',
  ),
  METRICS_CLOUDWATCH_MOUNTS: key(
    optional(mountList),
    '',
    'mount points with disk metrics in CloudWatch, comma-separated; empty: all',
  ),
  METRICS_REMOTE_WRITE_URL: key(optional(httpUrl), '', 'Prometheus remote-write endpoint; empty: off'),
  METRICS_REMOTE_WRITE_BEARER_TOKEN_FILE: key(
    optional(absolutePath),
    '',
    'file holding the bearer token for remote write',
  ),
  METRICS_REMOTE_WRITE_BASIC_AUTH_FILE: key(optional(absolutePath), '', 'file holding USER:PASSWORD for remote write'),
  METRICS_REMOTE_WRITE_SIGV4: key(
    bool,
    'no',
    'sign remote write with AWS SigV4 (Amazon Managed Service for Prometheus)',
  ),
  METRICS_REMOTE_WRITE_CA_BUNDLE: key(
    optional(absolutePath),
    '',
    'PEM CAs trusted for an https remote-write URL; empty: system CAs',
  ),
  METRICS_REMOTE_WRITE_ALLOW_HTTP: key(bool, 'no', 'allow a plain http METRICS_REMOTE_WRITE_URL that is not loopback'),
  METRICS_DOCKER_SOCKET: key(absolutePath, '/var/run/docker.sock', 'Docker API socket read for container metrics'),
  USERS_SOURCE: key(
    optional(usersSource),
    '',
    'where SSH users come from: ssm:/prefix, file:/path.json or control; empty: users are not managed',
  ),
  USERS_REMOVE: key(
    oneOf(['lock', 'delete'] as const),
    'lock',
    'users gone from USERS_SOURCE: lock (locked, expired, keys removed, processes ended) or delete (then userdel)',
  ),
  USERS_ALLOWED_GROUPS: key(allowedGroups, '', 'groups USERS_SOURCE may grant (comma-separated); empty: none'),
  USERS_ALLOW_DOCKER_GROUP: key(
    bool,
    'no',
    'allow the root-equivalent docker group in USERS_SOURCE: the same as listing docker in USERS_ALLOWED_GROUPS',
  ),
  USERS_MAX_REMOVALS: key(
    removalLimit,
    '10%',
    'most managed users one sync may remove: a count, or a percentage (at least 1); more refuses the sync',
  ),
  USERS_SYNC_INTERVAL: key(duration(30_000, 86_400_000), '5m', 'how often the daemon syncs SSH users'),
  USERS_SHELL: key(loginShell, '/bin/bash', 'login shell of the users the agent creates'),
  UPDATE_WINDOW: key(
    parseWindow,
    'Sun 03:00-05:00',
    'days (Sat,Sun, Mon-Fri, *) and a time range in which security updates are applied and the host may reboot',
  ),
  UPDATE_TIMEZONE: key(timeZone, 'UTC', 'IANA time zone of UPDATE_WINDOW'),
  REBOOT_POLICY: key(
    oneOf(['never', 'if-needed', 'always'] as const),
    'if-needed',
    'reboot after security updates: never, if-needed (when the distribution says so) or always',
  ),
  MAX_CONCURRENT_REBOOTS: key(integer(1, 1000), '1', 'hosts of the cluster that may reboot at once'),
  UPDATES_CHECK_INTERVAL: key(
    offOr(duration(60_000, 86_400_000)),
    '1h',
    'how often the daemon looks for security updates; off: never (no automatic updates)',
  ),
  DRAIN_TIMEOUT: key(duration(1000, 86_400_000), '30m', 'how long a drain waits for the tasks of the instance to stop'),
  DRAIN_TIMEOUT_POLICY: key(
    oneOf(['abort', 'reboot'] as const),
    'abort',
    'when a drain times out: abort (re-activate, no reboot) or reboot anyway',
  ),
  DECOMMISSION_ON_SHUTDOWN: key(
    bool,
    'no',
    'drain and deregister the container instance when the host powers off (ecs-host-agent-decommission.service)',
  ),
  DECOMMISSION_TIMEOUT: key(
    duration(10_000, 3_600_000),
    '5m',
    'how long decommission waits for the tasks to leave (at most 5m at poweroff)',
  ),
  SPOT_INTERRUPTION_DRAIN: key(
    bool,
    'yes',
    'drain at once when IMDS announces a spot interruption (spot/instance-action)',
  ),
  REBOOT_LOCK_PATH: key(ssmPath, '/ecs-host-agent/reboot-lock', 'SSM parameter path of the fleet-wide reboot slots'),
  REBOOT_LOCK_TTL: key(
    duration(60_000, 86_400_000),
    '2h',
    'how long a reboot slot lasts unrenewed before another host may take it (a dead holder); ' +
      'longer than DRAIN_TIMEOUT + REBOOT_TIMEOUT + REGISTRATION_TIMEOUT',
  ),
  REBOOT_TIMEOUT: key(
    duration(10_000, 3_600_000),
    '10m',
    'longest a reboot may take, from systemctl reboot until the agent runs again (counted in REBOOT_LOCK_TTL)',
  ),
  AL2023_RELEASE_UPGRADE: key(
    bool,
    'no',
    'Amazon Linux 2023: take security updates from a newer release when one is offered',
  ),
  STORAGE_MODE: key(oneOf(['none', 'btrfs-file', 'btrfs-device'] as const), 'none', 'Docker image storage on Btrfs'),
  STORAGE_FILE: key(absolutePath, '/var/lib/docker-storage.btrfs', 'backing file for STORAGE_MODE=btrfs-file'),
  STORAGE_SIZE: key(size, '100G', 'thin size of the backing file'),
  STORAGE_DEVICE: key(optional(absolutePathOrVolume()), '', 'block device or EBS volume id for btrfs-device'),
  STORAGE_FORCE_FORMAT: key(bool, 'no', 'format a device that already holds a filesystem'),
  STORAGE_WARN_PERCENT: key(
    integer(1, 100),
    '85',
    'warn (and report a metric) when the Docker store is fuller than this percentage',
  ),
  VOLUMES: key(parseVolumes, '', 'data volumes to format when empty and mount: DEVICE:FSTYPE:MOUNTPOINT[:OPTIONS];…'),
  ALLOW_ECS_OPTIMIZED: key(bool, 'no', 'run even on an ECS-optimized AMI (not recommended)'),
  GPU_SUPPORT: key(
    oneOf(['auto', 'no'] as const),
    'auto',
    'auto: ECS_ENABLE_GPU_SUPPORT=true when an NVIDIA GPU is found; no: never',
  ),
  ECSINIT_VERSION: key(
    pattern(/^(latest|\d+\.\d+\.\d+(-\d+)?)$/, 'latest or a version such as 1.89.3-1'),
    'latest',
    'ecs-init version for the signed .deb (Ubuntu, Debian)',
  ),
  ECSINIT_BASE_URL: key(
    optional(httpUrl),
    '',
    'where the ecs-init .deb and .asc are downloaded; empty: the regional Amazon bucket',
  ),
  ECSINIT_SIGNING_KEY: key(
    optional(absolutePath),
    '',
    'armored public key that must have signed the ecs-init .deb; empty: the shipped Amazon ECS key',
  ),
  AWS_ENDPOINT_URL_ECS: key(optional(httpUrl), '', 'ECS API endpoint override (VPC endpoints, tests)'),
  AWS_ENDPOINT_URL_SSM: key(optional(httpUrl), '', 'SSM API endpoint override (VPC endpoints, tests)'),
  AWS_ENDPOINT_URL_S3: key(
    optional(httpUrl),
    '',
    'S3 endpoint override (where ecs-init downloads the agent image); doctor checks it is reachable',
  ),
  AWS_ENDPOINT_URL_ECR: key(optional(httpUrl), '', 'ECR API endpoint override; doctor checks it is reachable'),
  AWS_ENDPOINT_URL_CLOUDWATCH: key(optional(httpUrl), '', 'CloudWatch API endpoint override (METRICS_CLOUDWATCH)'),
  AWS_EC2_METADATA_SERVICE_ENDPOINT: key(httpUrl, 'http://169.254.169.254', 'instance metadata service (IMDSv2)'),
} satisfies Record<string, KeySpec<unknown>>;

/**
 * A spool smaller than the largest sample the protocol allows (1 MiB) with its segment header would drop samples as
 * soon as they are written while saying they wait; 2M keeps room for that sample and the next.
 */
export const SPOOL_MIN_BYTES = 2 * 2 ** 20;

function spoolSize(raw: string): number {
  const bytes = size(raw);
  if (bytes >= SPOOL_MIN_BYTES) return bytes;
  throw new InvalidValue('is smaller than the largest sample the spool must hold', 'a size of at least 2M (e.g. 64M)');
}

/** SSM parameter hierarchy: "/" then names of letters, digits, "_", "." and "-" (no leading "aws" or "ssm"). */
function ssmPath(raw: string): string {
  const path = raw.replace(/\/+$/, '');
  if (/^(\/[A-Za-z0-9_.-]+)+$/.test(path) && !/^\/(aws|ssm)(\/|$)/i.test(path) && path.length <= 900) return path;
  throw new InvalidValue(
    'is not an SSM parameter path',
    'an absolute SSM path such as /ecs-host-agent/reboot-lock (letters, digits, _ . -; not under /aws or /ssm)',
  );
}

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
