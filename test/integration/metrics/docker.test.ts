import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

import { RealHost } from '../../../src/host/real-host.ts';
import { DockerCollector } from '../../../src/metrics/docker.ts';
import { startDockerd } from '../../support/dockerd.ts';
import { scratchDir } from '../../support/scratch.ts';

/** A root filesystem with only dash and its libraries: enough for a container that waits on stdin. */
function tinyImage(dir: string): Buffer {
  const libraries = [...execFileSync('ldd', ['/bin/dash'], { encoding: 'utf8' }).matchAll(/(\/\S+) \(0x/g)].map(
    (m) => m[1] as string,
  );
  for (const file of ['/bin/dash', ...libraries]) {
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    copyFileSync(file, join(dir, file));
  }
  return execFileSync('tar', ['--create', '--directory', dir, '.'], { maxBuffer: 64 * 2 ** 20 });
}

test('container figures come from the Docker API on its unix socket, one stats request per container', async (t) => {
  const scratch = scratchDir(t);
  const dockerd = await startDockerd(t, { dataRoot: join(scratch, 'docker') });
  const socket = dockerd.endpoint.replace(/^unix:\/\//, '');
  const collector = new DockerCollector(new RealHost('/'), socket);
  assert.deepEqual(await collector.read(), { running: 0, containers: [] });

  dockerd.docker(['import', '-', 'eha-tiny:1'], tinyImage(join(scratch, 'rootfs')));
  const id = dockerd
    .docker([
      'run',
      '-d',
      '-i',
      '--network',
      'none',
      '--name',
      'waiter',
      '--label',
      'com.amazonaws.ecs.task-arn=arn:aws:ecs:eu-west-1:123456789012:task/c/abc',
      'eha-tiny:1',
      '/bin/dash',
      '-c',
      'read line',
    ])
    .trim();
  const first = await collector.read();
  assert.equal(first?.running, 1);
  const container = first?.containers[0];
  assert.equal(container?.id, id);
  assert.equal(container?.name, 'waiter');
  assert.equal(container?.taskArn, 'arn:aws:ecs:eu-west-1:123456789012:task/c/abc');
  assert.ok((container?.memoryLimitBytes ?? 0) > 0, JSON.stringify(container));
  assert.equal(container?.cpuPercent, null);
  const second = await collector.read();
  assert.equal(
    typeof second?.containers[0]?.cpuPercent,
    'number',
    'the second sample has a CPU percentage from the delta',
  );
  dockerd.docker(['rm', '-f', 'waiter']);

  await dockerd.stop();
  assert.equal(await collector.read(), null, 'no daemon on the socket: null, not an error');
});
