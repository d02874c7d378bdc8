/**
 * Cold start of `ecs-host-agent --version` and `detect --json`: the median
 * wall time of repeated runs, from the sources (Node strips the types) and
 * from the packaged bundle (packaging/build.ts), with and without
 * NODE_EXTRA_CA_CERTS (which makes every Node start read and parse the CA file).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bundleAgent } from '../../packaging/build/bundle.ts';
import { PACKAGE_JSON } from '../../packaging/build/project.ts';
import { CLI } from '../support/paths.ts';

const RUNS = 11;
const SYSTEM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';
const COMMANDS: readonly (readonly string[])[] = [['--version'], ['detect', '--json']];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function timeRuns(entry: string, args: readonly string[], env: NodeJS.ProcessEnv): number[] {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [entry, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0 && !(args[0] === 'detect' && result.status === 3)) {
      throw new Error(`${entry} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    }
  }
  return times;
}

const work = mkdtempSync(join(tmpdir(), 'eha-bench-startup-'));
try {
  const bundle = (await bundleAgent(`${work}/bundle`, PACKAGE_JSON.version)).entry;
  const { NODE_EXTRA_CA_CERTS: configuredCa, ...withoutCa } = process.env;
  const caFile = configuredCa ?? (existsSync(SYSTEM_CA_FILE) ? SYSTEM_CA_FILE : undefined);
  const environments: [string, NodeJS.ProcessEnv][] = [['unset', withoutCa]];
  if (caFile) environments.push([caFile, { ...withoutCa, NODE_EXTRA_CA_CERTS: caFile }]);

  console.log(`cold start, median of ${RUNS} runs (min-max), node ${process.versions.node}`);
  console.log(`${'command'.padEnd(22)}${'code'.padEnd(9)}${'NODE_EXTRA_CA_CERTS'.padEnd(42)}median ms`);
  for (const args of COMMANDS) {
    for (const [code, entry] of [['sources', CLI], ['bundle', bundle]] as const) {
      for (const [caLabel, env] of environments) {
        const times = timeRuns(entry, args, env);
        const range = `(${Math.min(...times).toFixed(0)}-${Math.max(...times).toFixed(0)})`;
        console.log(`${args.join(' ').padEnd(22)}${code.padEnd(9)}${caLabel.padEnd(42)}${median(times).toFixed(0).padStart(6)} ${range}`);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
