import { once } from 'node:events';

import { readToken } from '../control/auth.ts';
import { LIMITS } from '../control/protocol.ts';
import { Receiver } from '../control/receiver.ts';
import { type ListenAddress, loopbackListen } from '../core/config/keys.ts';
import { InvalidValue } from '../core/config/values.ts';
import { ConfigError, ExitCode, UsageError } from '../core/errors.ts';
import type { Host } from '../host/host.ts';
import type { CommandImplementation } from './command.ts';
import { DEFAULT_CONTROL_LISTEN } from './commands.ts';
import type { Context } from './context.ts';

/**
 * The reference receiver of the control protocol on a loopback port, to try
 * the whole flow on one machine (CONTROL_URL=http://127.0.0.1:8480) or to test
 * an endpoint of your own against it. Not a production endpoint: plain HTTP,
 * memory-bounded duplicate detection, files for storage.
 */
export const controlServer: CommandImplementation = {
  async run(context, flags) {
    const listen = listenFlag(typeof flags.listen === 'string' ? flags.listen : DEFAULT_CONTROL_LISTEN);
    const token = typeof flags['token-file'] === 'string' ? await readToken(context.host, flags['token-file']) : null;
    const dataDir = typeof flags['data-dir'] === 'string' ? flags['data-dir'] : null;
    const usersFile = typeof flags['users-file'] === 'string' ? flags['users-file'] : null;
    if (dataDir !== null) await context.host.mkdir(dataDir, { mode: 0o700 });
    const receiver = new Receiver({
      token,
      usersDocument: async () => (usersFile === null ? null : readJson(context.host, usersFile)),
      store: async (batch, fresh) => {
        context.logger.info(`batch ${batch.batchId} from ${batch.hostId}: ${fresh.length} new samples, ${batch.samples.length - fresh.length} duplicates`, {
          spool: batch.status.spool,
        });
        if (dataDir === null) return;
        const lines = fresh.map((sample) => `${JSON.stringify({ hostId: batch.hostId, ...sample })}\n`).join('');
        if (lines) await context.host.appendFile(`${dataDir}/samples.ndjson`, lines, { mode: 0o600 });
        await context.host.writeFileAtomic(`${dataDir}/status-${batch.hostId}.json`, `${JSON.stringify(batch.status, null, 2)}\n`, { mode: 0o600 });
      },
      storeEvents: async (batch, fresh) => {
        for (const event of fresh) context.logger.info(`event from ${batch.hostId}: ${event.type} ${event.outcome}: ${event.message}`, { id: event.id });
        if (dataDir === null) return;
        await context.host.appendFile(`${dataDir}/events.ndjson`, fresh.map((event) => `${JSON.stringify({ hostId: batch.hostId, ...event })}\n`).join(''), { mode: 0o600 });
      },
    });
    const server = await context.host.serveHttp({ ...listen, maxBodyBytes: LIMITS.batchBytes }, (request) => receiver.handle(request));
    announce(context, server.url, token !== null);
    await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    await server.close();
    context.logger.info('control-server stopped', receiver.counts);
    return ExitCode.ok;
  },
};

function listenFlag(raw: string): ListenAddress {
  try {
    return loopbackListen(raw);
  } catch (error) {
    if (error instanceof InvalidValue) throw new UsageError(`control-server: --listen ${JSON.stringify(raw)} ${error.message}; allowed: ${error.allowed}`);
    throw error;
  }
}

function announce(context: Context, url: string, authenticated: boolean): void {
  context.logger.info(`control-server listening on ${url}${authenticated ? '' : ' without authentication (no --token-file)'}`);
  if (context.json) context.out(JSON.stringify({ url }));
  else context.out(`CONTROL_URL=${url}`);
}

async function readJson(host: Host, path: string): Promise<unknown> {
  try {
    return JSON.parse(await host.readText(path));
  } catch (error) {
    throw new ConfigError(`--users-file ${path}: ${(error as Error).message}`);
  }
}
