import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dockerApi } from '../../../src/doctor/checks/docker-api.ts';
import { dockerService } from '../../../src/doctor/checks/docker-service.ts';
import { dockerStorageDriver } from '../../../src/doctor/checks/docker-storage-driver.ts';
import { dockerStoreSpace } from '../../../src/doctor/checks/docker-store-space.ts';
import { fsStats, healthyHost, runCheck } from './fake-doctor.ts';

test(
  'docker-service: ok when installed, enabled and running; fail when missing, disabled or ' +
    'stopped; warn without systemd',
  async () => {
    const machine = healthyHost();
    assert.match(
      (await runCheck(dockerService, machine.host)).evidence,
      /docker\.io 20\.10\.24\+dfsg1-1 installed, docker\.service enabled and running/,
    );

    machine.active.delete('docker.service');
    const stopped = await runCheck(dockerService, machine.host);
    assert.equal(stopped.verdict, 'fail');
    assert.match(stopped.fix ?? '', /journalctl -u docker\.service/);

    machine.enabled.delete('docker.service');
    assert.match((await runCheck(dockerService, machine.host)).evidence, /not enabled/);

    machine.enabled.add('docker.service');
    machine.host.directories.delete('/run/systemd/system');
    assert.equal((await runCheck(dockerService, machine.host)).verdict, 'warn');

    machine.host.putFile('/var/lib/dpkg/status', '');
    const missing = await runCheck(dockerService, machine.host);
    assert.equal(missing.verdict, 'fail');
    assert.match(missing.evidence, /no Docker package is installed/);
  },
);

test('docker-api: ok when docker info answers on the socket; fail naming what the client said', async () => {
  const machine = healthyHost();
  assert.deepEqual(await runCheck(dockerApi, machine.host), {
    verdict: 'ok',
    evidence: 'Docker 20.10.24 answers on /var/run/docker.sock',
  });
  assert.ok(machine.host.commands().includes('docker -H unix:///var/run/docker.sock info --format {{json .}}'));

  machine.dockerInfo = {
    exitCode: 1,
    stdout: '',
    stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n',
  };
  const down = await runCheck(dockerApi, machine.host);
  assert.equal(down.verdict, 'fail');
  assert.match(down.evidence, /exited with 1: Cannot connect to the Docker daemon/);
});

test(
  'docker-storage-driver: ok for overlay2, warn for vfs, fail when STORAGE_MODE wants btrfs or ' + 'Docker is down',
  async () => {
    const machine = healthyHost();
    assert.equal((await runCheck(dockerStorageDriver, machine.host)).verdict, 'ok');

    const wanted = await runCheck(dockerStorageDriver, machine.host, { agentEnv: 'STORAGE_MODE=btrfs-file\n' });
    assert.equal(wanted.verdict, 'fail');
    assert.match(wanted.evidence, /overlay2 driver, but STORAGE_MODE=btrfs-file wants btrfs/);

    machine.dockerInfo = {
      exitCode: 0,
      stdout: JSON.stringify({ ServerVersion: '24.0.7', Driver: 'btrfs' }),
      stderr: '',
    };
    assert.equal(
      (await runCheck(dockerStorageDriver, machine.host, { agentEnv: 'STORAGE_MODE=btrfs-file\n' })).verdict,
      'ok',
    );

    machine.dockerInfo = {
      exitCode: 0,
      stdout: JSON.stringify({ ServerVersion: '24.0.7', Driver: 'vfs' }),
      stderr: '',
    };
    assert.equal((await runCheck(dockerStorageDriver, machine.host)).verdict, 'warn');

    machine.dockerInfo = { exitCode: 0, stdout: 'not json', stderr: '' };
    assert.equal((await runCheck(dockerStorageDriver, machine.host)).verdict, 'fail');
  },
);

test(
  'docker-store-space: ok with room, warn above STORAGE_WARN_PERCENT, fail when (nearly) full or ' + 'missing',
  async () => {
    const machine = healthyHost();
    const ok = await runCheck(dockerStoreSpace, machine.host);
    assert.deepEqual(ok, { verdict: 'ok', evidence: '60.0 GiB free of 100.0 GiB on /var/lib/docker (40% used)' });

    machine.host.filesystems.set('/var/lib/docker', fsStats(100, 90));
    assert.equal((await runCheck(dockerStoreSpace, machine.host)).verdict, 'warn');

    machine.host.filesystems.set('/var/lib/docker', fsStats(100, 96));
    assert.equal((await runCheck(dockerStoreSpace, machine.host)).verdict, 'fail');

    machine.host.filesystems.set('/var/lib/docker', fsStats(1, 0.5));
    assert.equal((await runCheck(dockerStoreSpace, machine.host)).verdict, 'fail', 'under 1 GiB free');

    machine.host.filesystems.delete('/var/lib/docker');
    assert.match((await runCheck(dockerStoreSpace, machine.host)).evidence, /cannot measure \/var\/lib\/docker/);
  },
);
