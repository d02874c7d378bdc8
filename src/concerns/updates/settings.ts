import type { Config } from '../../core/config/load.ts';
import { formatDuration } from '../../core/config/values.ts';
import type { MaintenanceWindow } from '../../core/config/window.ts';
import { ConfigError } from '../../core/errors.ts';

/** The update and reboot settings, checked together: a slot must outlive the drain it covers. */
export interface UpdateSettings {
  readonly window: MaintenanceWindow;
  readonly timeZone: string;
  readonly rebootPolicy: 'never' | 'if-needed' | 'always';
  readonly maxConcurrentReboots: number;
  readonly drainTimeoutMs: number;
  readonly drainTimeoutPolicy: 'abort' | 'reboot';
  readonly lockPath: string;
  readonly lockTtlMs: number;
  readonly cluster: string;
  readonly introspectionUrl: string;
  /** How long, after a reboot, the ECS agent gets to reconnect. */
  readonly agentReconnectTimeoutMs: number;
}

export function updateSettings(config: Config): UpdateSettings {
  if (config.REBOOT_LOCK_TTL <= config.DRAIN_TIMEOUT) {
    throw new ConfigError(
      `${config.origins.REBOOT_LOCK_TTL}: REBOOT_LOCK_TTL=${formatDuration(config.REBOOT_LOCK_TTL)} must be longer than ` +
        `DRAIN_TIMEOUT=${formatDuration(config.DRAIN_TIMEOUT)} (${config.origins.DRAIN_TIMEOUT}), or another host may reclaim the slot while this one drains`,
    );
  }
  return {
    window: config.UPDATE_WINDOW,
    timeZone: config.UPDATE_TIMEZONE,
    rebootPolicy: config.REBOOT_POLICY,
    maxConcurrentReboots: config.MAX_CONCURRENT_REBOOTS,
    drainTimeoutMs: config.DRAIN_TIMEOUT,
    drainTimeoutPolicy: config.DRAIN_TIMEOUT_POLICY,
    lockPath: config.REBOOT_LOCK_PATH,
    lockTtlMs: config.REBOOT_LOCK_TTL,
    cluster: config.ECS_CLUSTER,
    introspectionUrl: config.INTROSPECTION_URL,
    agentReconnectTimeoutMs: config.REGISTRATION_TIMEOUT,
  };
}
