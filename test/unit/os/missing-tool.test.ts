import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CommandError, MissingToolError } from '../../../src/core/errors.ts';
import { debianPackageOf } from '../../../src/host/tool-packages.ts';
import { gatherOsFacts } from '../../../src/os/facts.ts';
import { assertManageable } from '../../../src/os/manageable.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { fakeHostFor, fixtureFiles } from '../../support/fixtures.ts';

/** The fixture's files, and no answer to any command yet. */
function bare(fixture: string): FakeHost {
  return new FakeHost(fixtureFiles(`os/${fixture}`));
}

/** An image root on a build host without rpm: the real Host throws this for rpm --root. */
function withoutRpm(fixture: string) {
  return bare(fixture).onExec((file, args) => {
    if (file === 'rpm') throw new MissingToolError(['rpm', ...args], debianPackageOf('rpm'));
    return undefined;
  });
}

test('a missing tool is named with the Debian package that provides it', () => {
  const error = new MissingToolError(['rpm', '--root', '/mnt/image', '-q', '--', 'docker'], debianPackageOf('rpm'));
  assert.equal(
    error.message,
    'rpm --root /mnt/image -q -- docker could not be started (ENOENT): rpm is not installed on this machine; ' +
      'on Debian and Ubuntu it comes with the package rpm',
  );
  assert.equal(error.exitCode, 1);
  assert.equal(debianPackageOf('zypper'), 'zypper');
  assert.equal(debianPackageOf('useradd'), 'passwd');
  assert.equal(debianPackageOf('no-such-tool'), null);
  assert.equal(debianPackageOf('constructor'), null, 'only the table, not what every object has');
  assert.doesNotMatch(new MissingToolError(['frob'], null).message, /package/);
});

for (const fixture of ['amzn-2023', 'sles-15.5']) {
  test(
    `${fixture} from a build host without rpm: the facts and verdict, with the packages unknown ` + `and why`,
    async () => {
      const facts = await gatherOsFacts(withoutRpm(fixture));
      assert.equal(facts.support.status, 'supported');
      assert.equal(facts.docker, null);
      assert.equal(facts.ecsInit, null);
      assert.match(facts.packagesUnknown ?? '', /rpm is not installed on this machine; .* the package rpm$/);
      assert.deepEqual(
        assertManageable(facts, { allowEcsOptimized: false }),
        [],
        'the verdict needs no package database',
      );
    },
  );
}

test('an ECS-optimized image is refused even when its packages cannot be read', async () => {
  const host = withoutRpm('amzn-2023');
  host.putFile('/etc/motd.d/31-banner', 'Amazon Linux 2023 (ECS Optimized)\n');
  const facts = await gatherOsFacts(host);
  assert.throws(() => assertManageable(facts, { allowEcsOptimized: false }), {
    name: 'RefusedError',
    message: /ECS-optimized/,
  });
});

test('any other failure to read the packages still stops detection', async () => {
  const host = bare('amzn-2023').onExec((file, args) => {
    if (file === 'rpm') throw new CommandError(['rpm', ...args], undefined, '', { reason: 'timed out after 60000 ms' });
    return undefined;
  });
  await assert.rejects(gatherOsFacts(host), { name: 'CommandError', message: /timed out/ });
});

test('with the tool there, nothing is unknown', async () => {
  const facts = await gatherOsFacts(
    fakeHostFor('amzn-2023').answer('rpm', { exitCode: 1, stdout: 'package docker is not installed\n' }),
  );
  assert.equal(facts.packagesUnknown, null);
});
