import { once } from 'node:events';

import { readToken } from '../control/auth.ts';
import { LIMITS } from '../control/protocol.ts';
import { Receiver } from '../control/receiver.ts';
import { MemoryStore, SqliteStore } from '../control/receiver-store.ts';
import { type ListenAddress, loopbackListen } from '../core/config/keys.ts';
import { InvalidValue } from '../core/config/values.ts';
import { ConfigError, ExitCode, UsageError } from '../core/errors.ts';
import type { Host } from '../host/host.ts';
import type { CommandImplementation } from './command.ts';
import type { Context } from './context.ts';

/**
 * The reference receiver of the control protocol on a loopback port, to try
 * the whole flow on one machine (CONTROL_URL=http://127.0.0.1:8480) or to test
 * an endpoint of your own against it. Not a production endpoint: plain HTTP,
 * one SQLite file (or memory) for storage. `--print samples|events` prints
 * what a data directory holds, as newline JSON, and exits.
 */
const PRINTABLE = ['samples', 'events'] as const;

export const controlServer: CommandImplementation = {
  async run(context, flags) {
    const dataDir = typeof flags['data-dir'] === 'string' ? flags['data-dir'] : null;
    if (flags.print !== undefined) return print(context, dataDir, flags.print);
    // Never undefined: the option has a default (src/cli/commands.ts).
    const listen = listenFlag(String(flags.listen));
    const token = typeof flags['token-file'] === 'string' ? await readToken(context.host, flags['token-file']) : null;
    const usersFile = typeof flags['users-file'] === 'string' ? flags['users-file'] : null;
    const store = dataDir === null ? new MemoryStore() : await openStore(context.host, dataDir);
    const receiver = new Receiver({
      token,
      store,
      usersDocument: async () => (usersFile === null ? null : readJson(context.host, usersFile)),
      onStored: async (batch, fresh) => {
        const duplicates = batch.samples.length - fresh.length;
        const counts = `${fresh.length} new samples, ${duplicates} duplicates`;
        context.logger.info(`batch ${batch.batchId} from ${batch.hostId}: ${counts}`, { spool: batch.status.spool });
        if (dataDir === null) return;
        await context.host.writeFileAtomic(
          `${dataDir}/status-${batch.hostId}.json`,
          `${JSON.stringify(batch.status, null, 2)}\n`,
          { mode: 0o600 },
        );
      },
      onStoredEvents: async (batch, fresh) => {
        for (const event of fresh)
          context.logger.info(`event from ${batch.hostId}: ${event.type} ${event.outcome}: ${event.message}`, {
            id: event.id,
          });
      },
    });
    try {
      const options = { ...listen, maxBodyBytes: LIMITS.batchBytes };
      const server = await context.host.serveHttp(options, (request) => receiver.handle(request));
      announce(context, server.url, token !== null, dataDir);
      await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
      await server.close();
    } finally {
      await store.close();
    }
    context.logger.info('control-server stopped', receiver.counts);
    return ExitCode.ok;
  },
};

async function openStore(host: Host, dataDir: string): Promise<SqliteStore> {
  await host.mkdir(dataDir, { mode: 0o700 });
  return SqliteStore.open(host, dataDir);
}

async function print(context: Context, dataDir: string | null, what: unknown): Promise<number> {
  const table = PRINTABLE.find((name) => name === what);
  if (table === undefined) {
    throw new UsageError(`control-server: --print ${JSON.stringify(what)} is not one of ${PRINTABLE.join(', ')}`);
  }
  if (dataDir === null) throw new UsageError('control-server: --print needs the --data-dir of a control-server');
  if ((await context.host.stat(`${dataDir}/receiver.sqlite`)) === null) {
    throw new UsageError(`control-server: --print: ${dataDir} holds no receiver.sqlite (nothing stored there)`);
  }
  const store = await SqliteStore.open(context.host, dataDir);
  try {
    for (const item of store.stored(table)) context.out(JSON.stringify(item));
  } finally {
    await store.close();
  }
  return ExitCode.ok;
}

function listenFlag(raw: string): ListenAddress {
  try {
    return loopbackListen(raw);
  } catch (error) {
    if (error instanceof InvalidValue)
      throw new UsageError(
        `control-server: --listen ${JSON.stringify(raw)} ${error.message}; allowed: ${error.allowed}`,
      );
    throw error;
  }
}

function announce(context: Context, url: string, authenticated: boolean, dataDir: string | null): void {
  const storage = dataDir === null ? 'in memory only (no --data-dir)' : `in ${dataDir}/receiver.sqlite`;
  const authentication = authenticated ? '' : ' without authentication (no --token-file)';
  context.logger.info(`control-server listening on ${url}${authentication}, storing ${storage}`);
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
