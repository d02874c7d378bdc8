import type { Config } from '../../src/core/config/load.ts';
import type { ConcernContext } from '../../src/core/concern.ts';
import type { Host } from '../../src/host/host.ts';
import { gatherOsFacts } from '../../src/os/facts.ts';
import { silentLogger } from '../../src/core/logger.ts';

/** What a concern is given, as the runner gives it: the Host's OS facts gathered, nothing logged. */
export async function concernContext(host: Host, config: Config, resetAgentState = false): Promise<ConcernContext> {
  return { host, config, os: await gatherOsFacts(host), logger: silentLogger, resetAgentState };
}
