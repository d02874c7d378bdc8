/**
 * A writer for the crash tests (not a test itself): loads everything, prints "ready", waits for
 * one line on stdin, then writes as the agent does and exits 0. The wait lets a tracer attach
 * first, so it counts only the syscalls of the write.
 *   node ecs-config-writer.ts ecs-config ROOT AGENT_ENV_TEXT   ecs.config and its key record, through the concern
 *   node ecs-config-writer.ts no-follow HOME TEXT              .ssh/authorized_keys below HOME, following no symlink
 */
import { RealHost } from '../../src/host/real-host.ts';
import { contextFor, converge } from '../support/ecs-config.ts';

const [mode, target, text] = process.argv.slice(2) as [string, string, string];

const write: () => Promise<void> =
  mode === 'ecs-config'
    ? await (async () => {
        const context = await contextFor(new RealHost(target), text);
        return () => converge(context);
      })()
    : () => new RealHost('/').writeFileNoFollow(target, '.ssh/authorized_keys', text, { mode: 0o600, dirMode: 0o700 });

process.stdout.write('ready\n');
process.stdin.once('data', () => {
  write().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
});
