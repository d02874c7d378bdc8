import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SSHD_DROP_IN_TEXT } from '../../../src/concerns/users/settings.ts';
import { gatherSshd, includesDropIns, sshdDropInChange, writeSshdDropIn } from '../../../src/concerns/users/sshd.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { FakeHost } from '../../support/fake-host.ts';

/** The sshd drop-in: when sshd would ignore it, how it is checked and taken back, how sshd is reloaded. */

const DROP_IN = '/etc/ssh/sshd_config.d/00-ecs-host-agent.conf';

test('the drop-in counts only when the main config includes it before any Match block', () => {
  assert.ok(includesDropIns('Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n'), 'Debian, Ubuntu, Amazon Linux 2023');
  assert.ok(includesDropIns('# comment\ninclude "sshd_config.d/*.conf"\n'), 'relative to /etc/ssh, quoted, any case');
  assert.ok(includesDropIns('Include /etc/ssh/other.conf /etc/ssh/sshd_config.d/0*.conf\n'));
  assert.ok(!includesDropIns('Port 22\nUsePAM yes\n'), 'no Include (older SUSE)');
  assert.ok(!includesDropIns('#Include /etc/ssh/sshd_config.d/*.conf\n'));
  assert.ok(
    !includesDropIns('Match User root\n  Include /etc/ssh/sshd_config.d/*.conf\n'),
    'an Include inside a Match is conditional',
  );
  assert.ok(!includesDropIns('Include /etc/ssh/sshd_config.d/*.cfg\n'));
});

test('sshd problems are reported: no Include, or an earlier drop-in with a Match block', async () => {
  const host = new FakeHost({
    '/etc/ssh/sshd_config': 'UsePAM yes\n',
    '/etc/ssh/sshd_config.d/00-aaa.conf': 'Match all\n  AuthorizedKeysFile /x\n',
    '/etc/ssh/sshd_config.d/50-cloud-init.conf': 'Match all\n',
  });
  assert.deepEqual((await gatherSshd(host, silentLogger)).problems, [
    '/etc/ssh/sshd_config does not Include /etc/ssh/sshd_config.d/*.conf before its first Match block, so sshd ' +
      'ignores /etc/ssh/sshd_config.d/00-ecs-host-agent.conf and may accept keys of managed users from other files ' +
      '(Debian\'s default also reads ~/.ssh/authorized_keys2); add "Include /etc/ssh/sshd_config.d/*.conf" at its top',
    '/etc/ssh/sshd_config.d/00-aaa.conf sorts before 00-ecs-host-agent.conf and has a Match block: ' +
      "for the users it matches, its settings win over the agent's",
  ]);
  const suse = new FakeHost({ '/usr/etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\n' });
  assert.deepEqual((await gatherSshd(suse, silentLogger)).problems, [], 'openSUSE keeps it in /usr/etc');
});

/** Gathered, planned and written, as a sync does it. */
async function writeDropIn(host: FakeHost): Promise<void> {
  const change = sshdDropInChange(await gatherSshd(host, silentLogger));
  assert.ok(change !== null, 'the drop-in is to be written');
  await writeSshdDropIn(host, silentLogger, change);
}

function sshdHost(tests: number[]): FakeHost {
  const host = new FakeHost({
    '/usr/sbin/sshd': '',
    '/etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\n',
  });
  host.onExec((file) => {
    if (file !== '/usr/sbin/sshd') return undefined;
    const exitCode = tests.shift() ?? 0;
    return {
      exitCode,
      stdout: '',
      stderr: exitCode === 0 ? '' : '/etc/ssh/sshd_config.d/00-ecs-host-agent.conf line 3: Bad Match condition',
    };
  });
  return host;
}

test('a drop-in that makes a valid configuration invalid is taken back, and the step fails', async () => {
  const host = sshdHost([0, 255]);
  await assert.rejects(
    writeDropIn(host),
    /sshd -t rejects the configuration with \S+00-ecs-host-agent\.conf, so it was taken back: /,
  );
  assert.equal(host.files.has(DROP_IN), false);
  const previous = sshdHost([0, 255]);
  previous.putFile(DROP_IN, '# an earlier version\n');
  await assert.rejects(writeDropIn(previous));
  assert.equal(previous.text(DROP_IN), '# an earlier version\n');
});

test('written, then a running sshd reloaded by its unit (ssh.service on Debian, sshd.service elsewhere)', async () => {
  const host = sshdHost([0, 0]);
  host.answer('systemctl', { exitCode: 3 }, ['is-active', '--quiet', '--', 'ssh.service']).answer('systemctl', {});
  await writeDropIn(host);
  assert.equal(host.text(DROP_IN), SSHD_DROP_IN_TEXT);
  assert.deepEqual(host.commands(), [
    'systemctl is-active --quiet -- ssh.service',
    'systemctl is-active --quiet -- sshd.service',
    '/usr/sbin/sshd -t',
    '/usr/sbin/sshd -t',
    'systemctl reload -- sshd.service',
  ]);
  const stopped = sshdHost([255, 255]);
  stopped.answer('systemctl', { exitCode: 3 });
  await writeDropIn(stopped);
  assert.equal(
    stopped.text(DROP_IN),
    SSHD_DROP_IN_TEXT,
    'sshd -t failing before too (no host keys yet): kept, sshd reads it when it starts',
  );
  assert.ok(!stopped.commands().some((command) => command.startsWith('systemctl reload')));
});

test('under --root the drop-in is only written: no sshd runs there', async () => {
  const host = new FakeHost({ '/usr/sbin/sshd': '' }, '/images/ami');
  await writeDropIn(host);
  assert.deepEqual([host.text(DROP_IN), host.commands()], [SSHD_DROP_IN_TEXT, []]);
});
