import { hostRegion } from '../aws/region.ts';
import type { AcquireResult, FleetLock, LockStatus, SlotClaim } from '../aws/fleet-lock.ts';
import { createImds, readInstanceId } from '../aws/imds.ts';
import { MAX_TTL_MS, MIN_TTL_MS } from '../aws/slot-claims.ts';
import { hostFleetLock } from '../concerns/updates/reboot/deps.ts';
import { duration, InvalidValue } from '../core/config/values.ts';
import { ConfigError, ExitCode, UsageError } from '../core/errors.ts';
import type { CommandImplementation, FlagValues } from './command.ts';
import type { Context } from './context.ts';

/**
 * The fleet-wide reboot slots by hand, with the lock the daemon's reboot
 * sequence uses: `acquire` takes one for this host (or renews the one it
 * holds, after a crash too), `release` gives back this host's claims,
 * `status` shows every claim. The holder is this host's EC2 instance id.
 */
const SUBCOMMANDS = ['acquire', 'release', 'status'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export const rebootSlot: CommandImplementation = {
  async run(context, flags, operands) {
    const subcommand = parseOperands(operands, flags);
    const ttlMs = typeof flags.ttl === 'string' ? parseTtl(flags.ttl) : context.config.REBOOT_LOCK_TTL;
    const { config, host, logger } = context;
    if (host.root !== '/') {
      throw new UsageError(
        'reboot-slot acts for this running host, by its EC2 instance id; an image root (--root) has none',
      );
    }
    const instanceId = await readInstanceId(createImds(host, config.AWS_EC2_METADATA_SERVICE_ENDPOINT));
    const lock = hostFleetLock(host, config, await hostRegion(host, config), logger);
    const scope = { cluster: config.ECS_CLUSTER, slots: config.MAX_CONCURRENT_REBOOTS, instanceId };
    if (subcommand === 'acquire') return acquire(context, lock, scope, ttlMs);
    if (subcommand === 'release') return release(context, lock, scope);
    return status(context, scope, await lock.status(instanceId));
  },
};

interface Scope {
  readonly cluster: string;
  readonly slots: number;
  /** This host: the holder. */
  readonly instanceId: string;
}

function parseOperands(operands: readonly string[], flags: FlagValues): Subcommand {
  const [subcommand, ...extra] = operands;
  if (!SUBCOMMANDS.includes(subcommand as Subcommand)) {
    throw new UsageError(`reboot-slot: expected ${SUBCOMMANDS.join(', ')}, got ${JSON.stringify(subcommand ?? '')}`);
  }
  if (extra.length > 0) throw new UsageError(`reboot-slot ${subcommand}: unexpected ${JSON.stringify(extra[0])}`);
  if (flags.ttl !== undefined && subcommand !== 'acquire') {
    throw new UsageError(`reboot-slot ${subcommand}: --ttl belongs to acquire`);
  }
  return subcommand as Subcommand;
}

function parseTtl(raw: string): number {
  try {
    return duration(MIN_TTL_MS, MAX_TTL_MS)(raw);
  } catch (error) {
    if (error instanceof InvalidValue) {
      throw new ConfigError(`--ttl ${JSON.stringify(raw)} ${error.message}; allowed: ${error.allowed}`);
    }
    throw error;
  }
}

async function acquire(context: Context, lock: FleetLock, scope: Scope, ttlMs: number): Promise<number> {
  const result = await lock.acquire(scope.instanceId, ttlMs);
  context.out(
    context.json ? JSON.stringify(acquireReport(lock, scope, result), null, 2) : acquireText(lock, scope, result),
  );
  return result.acquired ? ExitCode.ok : ExitCode.failed;
}

function acquireReport(lock: FleetLock, scope: Scope, result: AcquireResult) {
  if (!result.acquired) return { acquired: false, ...scope, holders: result.holders };
  const { lease, renewed } = result;
  return {
    acquired: true,
    ...scope,
    renewed,
    slot: lease.claim,
    expiresInSeconds: Math.floor(lock.remainingMs(lease) / 1000),
  };
}

function acquireText(lock: FleetLock, scope: Scope, result: AcquireResult): string {
  if (!result.acquired) {
    const holders = result.holders.map(
      (claim) => `slot ${claim.slot} by ${claim.holder ?? '(unreadable claim)'} until ${claim.expiresAt}`,
    );
    const taken = `all ${scope.slots} reboot slot(s) of cluster "${scope.cluster}" are taken`;
    return `${taken}: ${holders.join(', ')} (lock service's clock)`;
  }
  const { claim } = result.lease;
  const seconds = Math.floor(lock.remainingMs(result.lease) / 1000);
  return (
    `reboot slot ${claim.slot} of cluster "${scope.cluster}" ${result.renewed ? 'renewed' : 'taken'} ` +
    `for ${scope.instanceId}: taken ${claim.takenAt ?? '(unknown)'}, expires ${claim.expiresAt} ` +
    `on the lock service's clock, in ${seconds} s at the latest; run acquire again to renew it, release when done`
  );
}

async function release(context: Context, lock: FleetLock, scope: Scope): Promise<number> {
  const released = await lock.release(scope.instanceId);
  if (context.json) context.out(JSON.stringify({ ...scope, released }, null, 2));
  else if (released.length === 0) context.out(`${scope.instanceId} held no reboot slot of cluster "${scope.cluster}"`);
  else context.out(`released for ${scope.instanceId}: ${released.join(', ')}`);
  return ExitCode.ok;
}

function status(context: Context, scope: Scope, report: LockStatus): number {
  if (context.json) {
    context.out(JSON.stringify({ ...scope, ...report }, null, 2));
    return ExitCode.ok;
  }
  const held = `${report.held} of ${scope.slots} held (lock service's time ${report.serverTime})`;
  const lines = [`reboot slots of cluster "${scope.cluster}": ${held}`];
  lines.push(...report.claims.flatMap((claim) => claimLines(claim, scope.instanceId)));
  context.out(lines.join('\n'));
  return ExitCode.ok;
}

/** A claim in two lines: which slot, its state and holder; then its times. */
function claimLines(claim: SlotClaim, self: string): string[] {
  const head = `  slot ${claim.slot} generation ${claim.generation}: ${claim.state}`;
  if (claim.state === 'released') return [`${head} ${claim.renewedAt}`];
  const holder = claim.holder === null ? 'an unreadable claim' : claim.holder;
  const times = `taken ${claim.takenAt ?? '(unknown)'}, renewed ${claim.renewedAt}, expires ${claim.expiresAt}`;
  return [`${head}, ${holder}${claim.holder === self ? ' (this host)' : ''}`, `    ${times}`];
}
