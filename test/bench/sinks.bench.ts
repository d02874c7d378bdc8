/**
 * `npm run bench:sinks`: what each sink adds to a sample, CPU and RSS, beside the control protocol alone measured
 * in the same run. Each configuration runs in a process of its own (sinks-runner.ts) from a bundle built as the
 * package builds the agent, with the V8 flags packaging/wrapper.sh gives the daemon; every step samples this
 * machine, spools the sample and delivers it to each sink before the next step. The receivers are the real ones
 * on loopback, in other processes: the reference control receiver, moto's CloudWatch and Debian's Prometheus, so
 * their work is not counted. Figures only: it never fails on them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { bundleAgent } from '../../packaging/build/bundle.ts';
import { startEndpoint } from '../integration/control/receiver-server.ts';
import { agentEnv, processEnv } from '../integration/metrics/agent-env.ts';
import { startPrometheus } from '../integration/metrics/prometheus-server.ts';
import { startMoto } from '../support/moto.ts';
import { V8_FLAGS } from './figures.ts';
import type { SinkFigures } from './sinks-runner.ts';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
const WARM_UP = 50;

/** IMDSv2 with the instance id only: what the CloudWatch and remote-write sinks ask for. */
async function startImds(): Promise<{ url: string; close: () => void }> {
  const server = createServer((request, response) => {
    if (request.method === 'PUT') return void response.end('token');
    response.writeHead(request.url === '/latest/meta-data/instance-id' ? 200 : 404).end('i-0123456789abcdef0');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

const cleanups: (() => unknown)[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'eha-bench-sinks-'));
try {
  const entryPoint = fileURLToPath(new URL('sinks-runner.ts', import.meta.url));
  const { entry } = await bundleAgent(join(scratch, 'bundle'), '0.0.0-bench', {
    entryPoint,
    define: { 'import.meta.main': 'false' },
  });
  const control = await startEndpoint();
  cleanups.push(() => control.stop());
  const moto = await startMoto();
  cleanups.push(() => moto.stop());
  const prometheus = await startPrometheus({ after: (fn) => void cleanups.push(fn) });
  const imds = await startImds();
  cleanups.push(imds.close);

  const base = { ...processEnv(), CONTROL_URL: control.url };
  const cloudwatch = { METRICS_CLOUDWATCH: 'yes', AWS_ENDPOINT_URL_CLOUDWATCH: moto.endpoint };
  const remoteWrite = { METRICS_REMOTE_WRITE_URL: prometheus.writeUrl };
  const configurations: [string, Record<string, string>][] = [
    ['control protocol alone', {}],
    ['+ CloudWatch', cloudwatch],
    ['+ remote write', remoteWrite],
    ['+ CloudWatch + remote write', { ...cloudwatch, ...remoteWrite }],
  ];
  // One after another, never two at once; asynchronously, for the receiver and IMDS answer from this process.
  const results: [string, SinkFigures][] = [];
  for (const [index, [name, env]] of configurations.entries()) {
    const agent = agentEnv(join(scratch, `run-${index}`), imds.url, { ...base, ...env });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [...V8_FLAGS, entry, String(SAMPLES), String(WARM_UP)],
      {
        encoding: 'utf8',
        env: agent,
      },
    );
    results.push([name, JSON.parse(stdout) as SinkFigures]);
  }
  const reference = results[0]?.[1] as SinkFigures;
  console.log(
    `metrics sinks, bundled, Node ${process.version} ${V8_FLAGS.join(' ')}: ${SAMPLES} samples after ${WARM_UP}, ` +
      'each delivered before the next\n',
  );
  const columns = ['CPU ms', 'x control', 'RSS loaded', 'x control', 'after warm-up', 'x control', 'end', 'spooled'];
  console.log(`${'sinks'.padEnd(30)}${columns.map((c) => c.padStart(14)).join('')}`);
  for (const [name, f] of results) {
    const values = [
      f.cpuMsPerSample.toFixed(2),
      (f.cpuMsPerSample / reference.cpuMsPerSample).toFixed(2),
      f.rssLoadedMb.toFixed(1),
      (f.rssLoadedMb / reference.rssLoadedMb).toFixed(2),
      f.rssAfterWarmUpMb.toFixed(1),
      (f.rssAfterWarmUpMb / reference.rssAfterWarmUpMb).toFixed(2),
      f.rssEndMb.toFixed(1),
      String(f.spooled),
    ];
    console.log(`${name.padEnd(30)}${values.map((v) => v.padStart(14)).join('')}`);
  }
  for (const [name, f] of results)
    if (f.lastSpooled !== null) console.log(`${name}: ${f.spooled} samples spooled; last: ${f.lastSpooled}`);
  console.log('\nCPU: user+system of the agent process per sample (sampling, spool, every delivery); RSS in MB;');
  console.log('"x control": ratio to the control protocol alone in this run; "spooled": steps whose sample a sink');
  console.log('did not take at once (should be 0).');
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(scratch, { recursive: true, force: true });
}
