import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { REPO } from '../support/paths.ts';
import { scratchDir } from '../support/scratch.ts';

const UNIT = `${REPO}systemd/ecs-host-agent.service`;

for (const name of readdirSync(`${REPO}systemd`).filter((file) => file.endsWith('.service'))) {
  test(`systemd-analyze verify accepts ${name} (the agent's path pointed at a stand-in: the package is not installed here)`, (t) => {
    const dir = scratchDir(t);
    writeFileSync(`${dir}/agent`, '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(`${dir}/${name}`, readFileSync(`${REPO}systemd/${name}`, 'utf8').replaceAll('/usr/bin/ecs-host-agent', `${dir}/agent`));
    const output = execFileSync('systemd-analyze', ['verify', `${dir}/${name}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(output, '');
  });
}

test('the unit keeps its contract: notify, no restart on refusal or bad config, KillMode=process, not after cloud-final', () => {
  const unit = readFileSync(UNIT, 'utf8');
  for (const line of ['Type=notify', 'NotifyAccess=all', 'EnvironmentFile=-/etc/ecs-host-agent/agent.env', 'Restart=on-failure', 'RestartPreventExitStatus=3 78', 'KillMode=process', 'After=network-online.target']) {
    assert.match(unit, new RegExp(`^${line}$`, 'm'), line);
  }
  assert.doesNotMatch(unit, /^After=.*cloud-final/m);
  assert.doesNotMatch(unit, /^(MemoryDenyWriteExecute|ProtectSystem|ProtectHome|PrivateTmp|PrivateDevices|PrivateMounts|ProtectKernel\w+|ReadOnlyPaths|InaccessiblePaths)=/m);
});

test('systemd-analyze security --offline rates the unit (the README records the score)', () => {
  const output = execFileSync('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], { encoding: 'utf8' });
  const score = /Overall exposure level for ecs-host-agent\.service: (\d+\.\d+)/.exec(output)?.[1];
  assert.ok(score, output.slice(-300));
  const readme = readFileSync(`${REPO}README.md`, 'utf8');
  assert.ok(readme.includes(`exposure level ${score}`), `README must record the current score ${score}`);
});
