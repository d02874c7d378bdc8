import assert from 'node:assert/strict';
import { test } from 'node:test';

import { gatherOsFacts } from '../../../src/os/facts.ts';
import { assertManageable } from '../../../src/os/manageable.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { fakeHostFor } from '../../support/fixtures.ts';

function hostWithout(fixture: string, ...paths: string[]): FakeHost {
  const host = fakeHostFor(fixture);
  for (const path of paths) host.files.delete(path);
  return host;
}

test('without os-release, Amazon Linux is identified from /etc/system-release', async () => {
  const facts = await gatherOsFacts(hostWithout('amzn-2023', '/etc/os-release'));
  assert.deepEqual(
    [facts.release.id, facts.release.versionId, facts.release.source],
    ['amzn', '2023', '/etc/system-release'],
  );
  const old = await gatherOsFacts(hostWithout('amzn-2015.03', '/etc/os-release'));
  assert.deepEqual([old.release.versionId, old.support.status], ['2015.03', 'refused']);
});

test('without os-release, SLES 12 is identified from /etc/SuSE-release', async () => {
  const facts = await gatherOsFacts(hostWithout('sles-12.5', '/etc/os-release'));
  assert.deepEqual([facts.release.id, facts.release.versionId, facts.support.status], ['sles', '12.5', 'image-only']);
});

test('a system with no release file is refused with exit code 3', async () => {
  await assert.rejects(gatherOsFacts(new FakeHost({})), (error: Error & { exitCode: number }) => {
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /cannot identify the system: no \/etc\/os-release/);
    return true;
  });
});

const MALFORMED: [string, RegExp][] = [
  ['ID=debian\nthis is not a field\n', /\/etc\/os-release:2: "this is not a field" is not KEY=value/],
  ['ID="debian\nVERSION_ID=12\n', /\/etc\/os-release:1: unterminated quote/],
  ['ID=debian linux\n', /\/etc\/os-release:1: unquoted value "debian linux" needs quotes/],
];

for (const [text, message] of MALFORMED) {
  test(`a malformed os-release is refused with the line named: ${JSON.stringify(text.split('\n')[0])}`, async () => {
    await assert.rejects(gatherOsFacts(new FakeHost({ '/etc/os-release': text })), { name: 'RefusedError', message });
  });
}

test('os-release quoting and escapes are read as the spec says', async () => {
  const host = new FakeHost({
    '/etc/os-release': "ID=debian\nVERSION_ID='12'\nPRETTY_NAME=\"Debian " + '\\"twelve\\" \\$x"\n# comment\n',
  });
  const facts = await gatherOsFacts(host.answer('rpm', { exitCode: 1 }));
  assert.equal(facts.release.prettyName, 'Debian "twelve" $x');
  assert.equal(facts.release.versionId, '12');
});

const MARKERS: [string, string, RegExp][] = [
  [
    '/etc/motd.d/31-banner',
    '   ,     #_\n   ~\\_  ####_        Amazon Linux 2023 (ECS Optimized)\n',
    /31-banner says "ECS Optimized"/,
  ],
  [
    '/etc/update-motd.d/29-ecs-banner-begin',
    '#!/bin/sh\necho "Amazon ECS-Optimized Amazon Linux AMI"\n',
    /29-ecs-banner-begin/,
  ],
  ['/etc/cloud/cloud.cfg.d/90_ecs.cfg', 'cloud_final_modules: []\n', /90_ecs\.cfg exists/],
];

for (const [path, text, evidence] of MARKERS) {
  test(`ECS-optimized marker ${path} refuses the host with the evidence, unless overridden`, async () => {
    const host = fakeHostFor('amzn-2023');
    host.putFile(path, text);
    const facts = await gatherOsFacts(host);
    assert.throws(
      () => assertManageable(facts, { allowEcsOptimized: false }),
      (error: Error & { exitCode: number; evidence: string[] }) => {
        assert.equal(error.exitCode, 3);
        assert.match(error.message, /looks like an Amazon ECS-optimized AMI.*--allow-ecs-optimized/);
        assert.match(error.evidence.join('\n'), evidence);
        return true;
      },
    );
    const warnings = assertManageable(facts, { allowEcsOptimized: true });
    assert.match(warnings.join('\n'), /--allow-ecs-optimized: managing what looks like an ECS-optimized AMI/);
  });
}

test(
  'ecs-init installed before the agent ever ran is a marker, unless this agent installed it or ' + 'the agent has run',
  async () => {
    const host = fakeHostFor('amzn-2023').answer('rpm', { stdout: '1.89.0-1.amzn2023' }, [
      '-q',
      '--queryformat',
      '%{VERSION}-%{RELEASE}',
      '--',
      'ecs-init',
    ]);
    host.execHandlers.reverse(); // the ecs-init answer wins over the fixture's "nothing installed"
    const fresh = await gatherOsFacts(host);
    assert.deepEqual(fresh.ecsInit, { name: 'ecs-init', version: '1.89.0-1.amzn2023' });
    assert.match(
      fresh.ecsOptimizedEvidence.join(),
      /ecs-init is installed, not by this agent, and the ECS agent has never run/,
    );

    host.putFile('/var/lib/ecs/data/agent.db', 'state');
    assert.deepEqual((await gatherOsFacts(host)).ecsOptimizedEvidence, []);
    host.files.delete('/var/lib/ecs/data/agent.db');
    host.putFile('/var/lib/ecs-host-agent/ecs-init-installed-by-agent', '');
    assert.deepEqual((await gatherOsFacts(host)).ecsOptimizedEvidence, []);
  },
);
