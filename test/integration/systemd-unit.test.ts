import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { REPO } from '../support/paths.ts';
import { scratchDir } from '../support/scratch.ts';

const UNIT = `${REPO}systemd/ecs-host-agent.service`;
const DECOMMISSION_UNIT = `${REPO}systemd/ecs-host-agent-decommission.service`;
/** systemd's "OK" band ends at 3.9; the hook needs no root powers beyond uid 0, so it must stay well inside it. */
const DECOMMISSION_EXPOSURE_CEILING = 3;

/** What `systemd-analyze security --offline` says of the unit: each check, and the overall exposure level. */
function securityReport(unit: string): { readonly score: number; readonly output: string } {
  const output = execFileSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], {
    encoding: 'utf8',
  });
  const score = /Overall exposure level for [\w.@-]+: (\d+\.\d+)/.exec(output)?.[1];
  assert.ok(score, output.slice(-300));
  return { score: Number(score), output };
}

for (const name of readdirSync(`${REPO}systemd`).filter((file) => file.endsWith('.service'))) {
  test(
    `systemd-analyze verify accepts ${name} (the agent's path pointed at a stand-in: the package ` +
      `is not installed here)`,
    (t) => {
      const dir = scratchDir(t);
      writeFileSync(`${dir}/agent`, '#!/bin/sh\n', { mode: 0o755 });
      writeFileSync(
        `${dir}/${name}`,
        readFileSync(`${REPO}systemd/${name}`, 'utf8').replaceAll('/usr/bin/ecs-host-agent', `${dir}/agent`),
      );
      const output = execFileSync('systemd-analyze', ['verify', `${dir}/${name}`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      assert.equal(output, '');
    },
  );
}

test(
  'the unit keeps its contract: notify, no restart on refusal or bad config, KillMode=process, ' +
    'not after cloud-final',
  () => {
    const unit = readFileSync(UNIT, 'utf8');
    for (const line of [
      'Type=notify',
      'NotifyAccess=all',
      'EnvironmentFile=-/etc/ecs-host-agent/agent.env',
      'Restart=on-failure',
      'RestartPreventExitStatus=3 78',
      'KillMode=process',
      'After=network-online.target',
    ]) {
      assert.match(unit, new RegExp(`^${line}$`, 'm'), line);
    }
    assert.doesNotMatch(unit, /^After=.*cloud-final/m);
    const sandboxing = ['MemoryDenyWriteExecute', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices'];
    const mounts = ['PrivateMounts', String.raw`ProtectKernel\w+`, 'ReadOnlyPaths', 'InaccessiblePaths'];
    assert.doesNotMatch(unit, new RegExp(`^(${[...sandboxing, ...mounts].join('|')})=`, 'm'));
  },
);

/**
 * The most `systemd-analyze security` may rate the unit: MEDIUM with room, below systemd's EXPOSED (7.5). A ceiling,
 * not today's score (6.6 on systemd 252): systemd re-weighs its checks between versions, and that is no regression.
 */
const EXPOSURE_CEILING = 7;

/** The protections the README promises, as the analyzer names its checks: each must be reported in place (✓). */
const DENIED_CALLS = ['clock', 'cpu-emulation', 'debug', 'obsolete', 'raw-io', 'reboot', 'swap'];
const DROPPED_CAPABILITIES = ['SYS_TIME', 'SYS_PTRACE', 'SYS_BOOT', 'BPF', 'SYS_RAWIO', 'SYSLOG'];
const PROTECTIONS = [
  ...DENIED_CALLS.map((set) => `SystemCallFilter=~@${set}`),
  ...DROPPED_CAPABILITIES.map((name) => `CapabilityBoundingSet=~CAP_${name}`),
  ...['user', 'pid', 'net', 'uts', 'mnt', 'cgroup', 'ipc'].map((kind) => `RestrictNamespaces=~${kind}`),
  'RestrictRealtime=',
  'LockPersonality=',
  'ProtectHostname=',
  'SystemCallArchitectures=',
  'RestrictAddressFamilies=~AF_PACKET',
];

test(`systemd-analyze security --offline: the protections in place, exposure at most ${EXPOSURE_CEILING}`, () => {
  const { score, output } = securityReport(UNIT);
  assert.ok(score <= EXPOSURE_CEILING, `exposure ${score} above ${EXPOSURE_CEILING}:\n${output}`);
  const inPlace = new Set(output.split('\n').flatMap((line) => /^✓ (\S+)/.exec(line)?.[1] ?? []));
  const missing = PROTECTIONS.filter((check) => !inPlace.has(check));
  assert.deepEqual(missing, [], 'protections the analyzer finds missing');
});

test(
  `the decommission unit is hardened: systemd-analyze security --offline rates it ` +
    `${DECOMMISSION_EXPOSURE_CEILING} or less`,
  () => {
    const { score } = securityReport(DECOMMISSION_UNIT);
    assert.ok(score <= DECOMMISSION_EXPOSURE_CEILING, `exposure level ${score}`);
    const unit = readFileSync(DECOMMISSION_UNIT, 'utf8');
    for (const line of ['CapabilityBoundingSet=', 'NoNewPrivileges=yes', 'ProtectSystem=full', 'PrivateTmp=yes'])
      assert.match(unit, new RegExp(`^${line}$`, 'm'), line);
  },
);

test('reloading needs nothing but /bin/sh: no /bin/kill (procps), and only the main process is signalled', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const reload = /^ExecReload=(.*)$/m.exec(unit)?.[1];
  assert.equal(reload, `/bin/sh -c 'kill -HUP "$$1"' ecs-host-agent-reload \${MAINPID}`);
});
