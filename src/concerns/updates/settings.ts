import type { Config } from '../../core/config/load.ts';
import type { MaintenanceWindow } from '../../core/config/window.ts';

/** The update and reboot settings of one run. */
export interface UpdateSettings {
  readonly window: MaintenanceWindow;
  readonly timeZone: string;
  readonly rebootPolicy: 'never' | 'if-needed' | 'always';
  readonly maxConcurrentReboots: number;
  readonly drainTimeoutMs: number;
  readonly drainTimeoutPolicy: 'abort' | 'reboot';
  readonly lockPath: string;
  readonly lockTtlMs: number;
  /** REBOOT_TIMEOUT: how long a reboot may take; a longer one is reported, measured on the lock service's clock. */
  readonly rebootTimeoutMs: number;
  readonly cluster: string;
  readonly introspectionUrl: string;
  /** How long, after a reboot, the ECS agent gets to reconnect. */
  readonly agentReconnectTimeoutMs: number;
}

/** Mapped from config, whose loader checked that REBOOT_LOCK_TTL covers drain, reboot and the agent's return. */
export function updateSettings(config: Config): UpdateSettings {
  return {
    window: config.UPDATE_WINDOW,
    timeZone: config.UPDATE_TIMEZONE,
    rebootPolicy: config.REBOOT_POLICY,
    maxConcurrentReboots: config.MAX_CONCURRENT_REBOOTS,
    drainTimeoutMs: config.DRAIN_TIMEOUT,
    drainTimeoutPolicy: config.DRAIN_TIMEOUT_POLICY,
    lockPath: config.REBOOT_LOCK_PATH,
    lockTtlMs: config.REBOOT_LOCK_TTL,
    rebootTimeoutMs: config.REBOOT_TIMEOUT,
    cluster: config.ECS_CLUSTER,
    introspectionUrl: config.INTROSPECTION_URL,
    agentReconnectTimeoutMs: config.REGISTRATION_TIMEOUT,
  };
}
