import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { bootContainer, systemdEnvironment } from '../../support/nspawn.ts';

test(
  'the test container boots systemd as PID 1 with no network, reads EnvironmentFile= with systemd ' +
    '252, and stops by PID',
  async (t) => {
    const container = await bootContainer(t, {
      prepare: (root) => {
        // A fact the ecs-config concern relies on: before v254 a comment ending in a backslash swallows the next line.
        writeFileSync(`${root}/etc/probe.env`, 'A=1\n# note \\\nB=2\nC="x y"\n');
      },
    });
    assert.equal(container.run(['cat', '/proc/1/comm']).trim(), 'systemd');
    assert.match(container.run(['systemctl', '--version']), /^systemd 252 /);
    assert.deepEqual(
      container.run(['ls', '/sys/class/net']).trim().split(/\s+/),
      ['lo'],
      'only loopback: --private-network',
    );
    const seen = systemdEnvironment(container, '/etc/probe.env');
    assert.equal(seen.get('A'), '1');
    assert.equal(seen.has('B'), false, 'systemd 252 continues the comment onto B=2');
    assert.equal(seen.get('C'), 'x y');
    const pid1 = container.pid1;
    await container.stop();
    assert.equal(existsSync(`/proc/${pid1}`), false, 'the container is gone');
  },
);
