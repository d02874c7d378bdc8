import { AgentError } from '../../core/errors.ts';
import { STORE } from './settings.ts';

/**
 * /etc/docker/daemon.json is the operator's file too: the agent sets one key
 * and keeps every other. A file that is not a JSON object is an error, never
 * overwritten; so are settings that would make Docker ignore the store.
 */

const DRIVER = 'btrfs';

/** The file's new text when storage-driver must change, or null when it is already right. */
export function daemonJsonWithBtrfs(text: string | null): string | null {
  const settings = parse(text);
  checkCompatible(settings);
  if (settings['storage-driver'] === DRIVER) return null;
  return `${JSON.stringify({ ...settings, 'storage-driver': DRIVER }, null, 2)}\n`;
}

function parse(text: string | null): Record<string, unknown> {
  if (text === null || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AgentError(
      `${STORE.daemonJson} is not valid JSON (${(error as Error).message}); fix ` +
        `it, the agent will not overwrite it`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AgentError(`${STORE.daemonJson} must hold a JSON object; fix it, the agent will not overwrite it`);
  }
  return value as Record<string, unknown>;
}

function checkCompatible(settings: Record<string, unknown>): void {
  const dataRoot = settings['data-root'] ?? settings.graph;
  if (dataRoot !== undefined && dataRoot !== STORE.mountPoint) {
    throw new AgentError(
      `${STORE.daemonJson} sets data-root to ${JSON.stringify(dataRoot)}; the ` +
        `Btrfs store is mounted on ${STORE.mountPoint}: remove data-root`,
    );
  }
  const options = settings['storage-opts'];
  const foreign = Array.isArray(options)
    ? options.filter((o) => typeof o !== 'string' || !o.startsWith(`${DRIVER}.`))
    : [];
  if (foreign.length > 0) {
    throw new AgentError(
      `${STORE.daemonJson} has storage-opts ${JSON.stringify(foreign)} that the btrfs driver rejects; remove them`,
    );
  }
}
