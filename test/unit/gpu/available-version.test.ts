import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CommandError } from '../../../src/core/errors.ts';
import { policyCandidate } from '../../../src/pkg/apt.ts';
import { packageManagerFor } from '../../../src/pkg/package-manager.ts';
import { yumListedVersion, zypperSearchVersion } from '../../../src/pkg/rpm.ts';
import { FakeHost } from '../../support/fake-host.ts';

const NAME = 'nvidia-container-toolkit';

test('apt: the lists are refreshed first, then the candidate is read', async () => {
  const host = new FakeHost().answer('apt-get', {}).answer('apt-cache', {
    stdout: `${NAME}:\n  Installed: (none)\n  Candidate: 1.17.8-1\n  Version table:\n     1.17.8-1 500\n`,
  });
  assert.equal(await packageManagerFor('apt', host).availableVersion(NAME), '1.17.8-1');
  assert.deepEqual(host.commands(), ['apt-get -o DPkg::Lock::Timeout=300 update', `apt-cache policy -- ${NAME}`]);
});

test('apt-cache policy: nothing printed, or "(none)", is not available', () => {
  assert.equal(policyCandidate(''), null);
  assert.equal(policyCandidate(`${NAME}:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n`), null);
  assert.equal(
    policyCandidate(`${NAME}:\n  Installed: 1.16.0-1\n  Candidate: 1:1.17.8-1ubuntu1\n`),
    '1:1.17.8-1ubuntu1',
  );
});

test('apt: a failed refresh is an error, not "not available"', async () => {
  const host = new FakeHost().answer('apt-get', { exitCode: 100, stderr: 'E: Malformed entry 1 in list file' });
  await assert.rejects(packageManagerFor('apt', host).availableVersion(NAME), CommandError);
});

test('dnf: a repository that cannot be read is an error', async () => {
  const host = new FakeHost().answer('dnf', {
    exitCode: 1,
    stderr: 'Error: Failed to download ' + "metadata for repo 'nvidia'",
  });
  await assert.rejects(
    packageManagerFor('dnf', host).availableVersion(NAME),
    (error) => error instanceof CommandError && /metadata/.test(error.stderr),
  );
});

test('yum: the columns are read even when a long name wraps the line', () => {
  const wrapped =
    `Available Packages\n${NAME}.x86_64\n                                  1.17.8-1    ` +
    `             nvidia-container-toolkit\n`;
  assert.equal(yumListedVersion(wrapped, NAME), '1.17.8-1');
  assert.equal(yumListedVersion(`Available Packages\n${NAME}-base.x86_64   1.17.8-1   nvidia\n`, NAME), null);
});

test('yum: "No matching Packages" is not available, any other failure is an error', async () => {
  const none = new FakeHost().answer('yum', { exitCode: 1, stderr: 'Error: No matching Packages to list\n' });
  assert.equal(await packageManagerFor('yum', none).availableVersion(NAME), null);
  const broken = new FakeHost().answer('yum', {
    exitCode: 1,
    stderr: 'Cannot retrieve repository metadata (repomd.xml)\n',
  });
  await assert.rejects(packageManagerFor('yum', broken).availableVersion(NAME), CommandError);
});

test('zypper: what only the rpm database has ("(System Packages)") is not offered by a repository', () => {
  const solvable = (repository: string) =>
    `<solvable status="installed" name="${NAME}" ` +
    `kind="package" edition="1.17.8-1" arch="x86_64" repository="${repository}"/>`;
  assert.equal(zypperSearchVersion(`<solvable-list>\n${solvable('(System Packages)')}\n</solvable-list>`, NAME), null);
  assert.equal(
    zypperSearchVersion(
      `<solvable-list>\n${solvable('(System Packages)')}\n${solvable('NVIDIA')}\n</solvable-list>`,
      NAME,
    ),
    '1.17.8-1',
  );
});

test('zypper: exit 104 is "nothing found"; other failures are errors', async () => {
  const none = new FakeHost().answer('zypper', {
    exitCode: 104,
    stdout: '<stream><message type="info">No matching items found.</message></stream>',
  });
  assert.equal(await packageManagerFor('zypper', none).availableVersion(NAME), null);
  const locked = new FakeHost().answer('zypper', { exitCode: 7, stderr: 'System management is locked' });
  await assert.rejects(packageManagerFor('zypper', locked).availableVersion(NAME), CommandError);
});
