import { createUsersConcern } from '../../../src/concerns/users/index.ts';
import { renderSteps, type Step } from '../../../src/core/step.ts';
import type { FetchUsersDocument } from '../../../src/concerns/users/source.ts';
import { contextFor } from '../../support/ecs-config.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { KEYS_FILE_HEADER } from '../../../src/concerns/users/settings.ts';
import { ed25519Key } from './keys.ts';

/**
 * A Debian-like account database on a FakeHost with alice (uid 1000) already managed by the agent, her home,
 * keys and the sshd drop-in in place; no account tool may run (FakeHost fails any command it is not told about).
 */
export const KEY = ed25519Key('alice@laptop');
export const KEYS_TEXT = `${KEYS_FILE_HEADER}${KEY}\n`;

export interface MachineOptions {
  readonly markerMembers?: string;
  readonly aliceUid?: number;
  /** Extra passwd, group and shadow lines, and state. */
  readonly passwd?: string;
  readonly group?: string;
  readonly shadow?: string;
  readonly state?: unknown;
  readonly aliceShadow?: string;
}

export function machine(options: MachineOptions = {}): FakeHost {
  const aliceUid = options.aliceUid ?? 1000;
  const lines = (...rows: string[]) => rows.join('\n');
  const host = new FakeHost({
    '/etc/passwd': lines(
      'root:x:0:0:root:/root:/bin/bash',
      'news:x:9:9:news:/var/spool/news:/usr/sbin/nologin',
      `alice:x:${aliceUid}:1000:managed by ecs-host-agent:/home/alice:/bin/bash`,
      options.passwd ?? '',
    ),
    '/etc/group': lines(
      'root:x:0:',
      'users:x:100:',
      'video:x:44:',
      'lxd:x:110:',
      'alice:x:1000:',
      `ecs-host-agent-users:x:999:${options.markerMembers ?? 'alice'}`,
      'ecs-host-agent-sudo:x:998:',
      options.group ?? '',
    ),
    '/etc/shadow': lines(
      'root:*:20000:0:99999:7:::',
      `alice:${options.aliceShadow ?? '*:20000:0:99999:7:::'}`,
      options.shadow ?? '',
    ),
    '/etc/login.defs': 'UID_MIN 1000\nUID_MAX 60000\n',
    '/var/lib/ecs-host-agent/users.json': JSON.stringify(options.state ?? { managedUsers: ['alice'] }),
    '/etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n',
    '/proc/self/status': 'Name:\tnode\nState:\tR (running)\nUid:\t0\t0\t0\t0\nNSpid:\t4242\n',
  });
  host.putFile('/home/alice/.ssh/authorized_keys', KEYS_TEXT, 0o600, 1000, 1000);
  host.directoryOwners.set('/home/alice', { mode: 0o755, uid: 1000, gid: 1000 });
  host.directoryOwners.set('/home/alice/.ssh', { mode: 0o700, uid: 1000, gid: 1000 });
  return host;
}

/** The drop-in as the agent writes it, so that a plan shows only what a test is about. */
export async function withSshdDropIn(host: FakeHost): Promise<FakeHost> {
  const { SSHD_DROP_IN_TEXT } = await import('../../../src/concerns/users/settings.ts');
  host.putFile('/etc/ssh/sshd_config.d/00-ecs-host-agent.conf', SSHD_DROP_IN_TEXT);
  return host;
}

export async function planWith(host: FakeHost, document: unknown, env = '') {
  const fetchUsersDocument: FetchUsersDocument = async () => document;
  const concern = createUsersConcern({ fetchUsersDocument });
  const context = await contextFor(host, `USERS_SOURCE=control\n${env}`);
  const facts = await concern.gather(context);
  return {
    concern,
    context,
    facts,
    actions: concern.plan(facts, context),
    warnings: concern.warnings?.(facts, context) ?? [],
  };
}

/** What plan prints for an action: its steps. */
export function shown(action: { readonly steps: readonly Step[] } | undefined): string[] {
  return action === undefined ? [] : renderSteps(action.steps);
}

/** "kind user" of each action, for compact assertions. */
export function kinds(actions: readonly { kind: string; user?: string }[]): string[] {
  return actions.map((action) => `${action.kind}${action.user === undefined ? '' : ` ${action.user}`}`);
}
