/**
 * The reboot sequence wired to moto_server (ECS + SSM), a loopback
 * introspection server and a scratch root whose boot id a simulated reboot
 * changes: shared by the in-process tests and the driver the crash tests kill.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { createEcs } from '../../../src/aws/ecs.ts';
import { createFleetLock, type FleetLock, LOCK_CLIENT_TUNING, lockTiming } from '../../../src/aws/fleet-lock.ts';
import { createSsm } from '../../../src/aws/ssm.ts';
import { reportSequenceTo } from '../../../src/concerns/updates/reboot/report.ts';
import type { UpdateSettings } from '../../../src/concerns/updates/settings.ts';
import { createEventReporter, DAEMON_RETRIES } from '../../../src/control/events.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import type { Identity, SequenceDeps, SequenceStep } from '../../../src/concerns/updates/reboot/sequence.ts';
import { parseWindow } from '../../../src/core/config/window.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { MOTO_REGION } from '../../support/moto.ts';

export interface SequenceSetup extends Identity {
  readonly root: string;
  readonly endpoint: string;
  readonly introspectionUrl: string;
  readonly slots: number;
  readonly drainTimeoutMs: number;
  readonly drainTimeoutPolicy: 'abort' | 'reboot';
  readonly lockTtlMs: number;
  /** Agent config (CONTROL_URL, SPOOL_DIR …) to report outcomes with; none: not reported. */
  readonly controlEnv?: Readonly<Record<string, string>>;
}

export const BOOT_ID = '/proc/sys/kernel/random/boot_id';
export const LOCK_PATH = '/ecs-host-agent-tests/reboot-lock';

/** A scratch root with a boot id, as /proc has one. */
export function createBootedRoot(root: string): string {
  mkdirSync(join(root, 'proc/sys/kernel/random'), { recursive: true });
  writeFileSync(join(root, BOOT_ID), `${randomUUID()}\n`);
  return root;
}

/** A window around now, whatever time the test runs. */
export function windowAroundNow(): string {
  const now = new Date();
  const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString().slice(11, 16);
  return `* ${at(-60)}-${at(60)}`;
}

export function settingsFor(setup: SequenceSetup): UpdateSettings {
  return {
    window: parseWindow(windowAroundNow()),
    timeZone: 'UTC',
    rebootPolicy: 'if-needed',
    maxConcurrentReboots: setup.slots,
    drainTimeoutMs: setup.drainTimeoutMs,
    drainTimeoutPolicy: setup.drainTimeoutPolicy,
    lockPath: LOCK_PATH,
    lockTtlMs: setup.lockTtlMs,
    rebootTimeoutMs: 60_000,
    cluster: setup.cluster,
    introspectionUrl: setup.introspectionUrl,
    agentReconnectTimeoutMs: 30_000,
  };
}

export function fleetLockFor(setup: Pick<SequenceSetup, 'endpoint' | 'cluster' | 'slots' | 'lockTtlMs'>): FleetLock {
  const settings = { region: MOTO_REGION, ecsEndpoint: null, ssmEndpoint: setup.endpoint };
  const host = new RealHost('/');
  const ssm = createSsm(host, settings, LOCK_CLIENT_TUNING);
  const options = { path: LOCK_PATH, cluster: setup.cluster, slots: setup.slots, ttlMs: setup.lockTtlMs };
  return createFleetLock(ssm, options, lockTiming(host));
}

/** A simulated reboot: the root gets a new boot id (and the caller may end the process, as a reboot would). */
export function sequenceDeps(setup: SequenceSetup, checkpoint?: (step: SequenceStep) => Promise<void>): SequenceDeps {
  const host = new RealHost(setup.root);
  const { cluster, containerInstanceArn, instanceId } = setup;
  return {
    host,
    logger: silentLogger,
    ecs: createEcs(host, { region: MOTO_REGION, ecsEndpoint: setup.endpoint, ssmEndpoint: null }),
    lock: fleetLockFor(setup),
    settings: settingsFor(setup),
    identity: async () => ({ cluster, containerInstanceArn, instanceId }),
    reboot: () => host.writeFileAtomic(BOOT_ID, `${randomUUID()}\n`),
    pollIntervalMs: 100,
    ...(checkpoint ? { checkpoint } : {}),
    ...(setup.controlEnv ? { report: reportTo(host, setup.controlEnv) } : {}),
  };
}

function reportTo(host: RealHost, env: Readonly<Record<string, string>>): NonNullable<SequenceDeps['report']> {
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  return async (report) =>
    reportSequenceTo(await createEventReporter(host, config, silentLogger, DAEMON_RETRIES))(report);
}
