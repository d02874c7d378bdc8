/**
 * The sinks as the package ships them: the agent bundled by packaging/build/bundle.ts (esbuild, each sink's
 * modules a chunk loaded on first use), delivering to the real receivers on loopback. A sink whose lazily
 * loaded code breaks only in the bundle (a CommonJS package imported dynamically gets no named exports there)
 * fails here, not on a host.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { bundleAgent } from '../../../packaging/build/bundle.ts';
import { startMoto } from '../../support/moto.ts';
import { scratchDir } from '../../support/scratch.ts';
import type { SinkFigures } from '../../bench/sinks-runner.ts';
import { startEndpoint } from '../control/receiver-server.ts';
import { startImds } from '../doctor/loopback.ts';
import { agentEnv, processEnv } from './agent-env.ts';
import { startPrometheus } from './prometheus-server.ts';

test('bundled, every sink loads its code on first use and delivers: nothing is left in the spool', async (t) => {
  const dir = scratchDir(t);
  const entryPoint = fileURLToPath(new URL('../../bench/sinks-runner.ts', import.meta.url));
  const [bundle, control, moto, prometheus, imds] = await Promise.all([
    bundleAgent(join(dir, 'bundle'), '0.0.0-test', { entryPoint, define: { 'import.meta.main': 'false' } }),
    startEndpoint(),
    startMoto(),
    startPrometheus(t),
    startImds(t, { '/latest/meta-data/instance-id': 'i-0123456789abcdef0' }),
  ]);
  t.after(() => control.stop());
  t.after(() => moto.stop());
  const env = {
    ...processEnv(),
    ...agentEnv(dir, imds.url, {
      CONTROL_URL: control.url,
      METRICS_CLOUDWATCH: 'yes',
      AWS_ENDPOINT_URL_CLOUDWATCH: moto.endpoint,
      METRICS_REMOTE_WRITE_URL: prometheus.writeUrl,
    }),
  };
  const { stdout } = await promisify(execFile)(process.execPath, [bundle.entry, '2', '1'], { encoding: 'utf8', env });
  const figures = JSON.parse(stdout) as SinkFigures;
  assert.deepEqual({ spooled: figures.spooled, lastSpooled: figures.lastSpooled }, { spooled: 0, lastSpooled: null });
  assert.equal(control.received.length, 3);
  assert.equal((await prometheus.query('count_over_time(ecs_host_processes[1h])'))[0]?.value?.[1], '3');
  assert.ok(bundle.files.length > 3, 'the sinks are chunks of their own');
});
