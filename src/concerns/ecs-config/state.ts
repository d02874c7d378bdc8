import { AgentError } from '../../core/errors.ts';
import { PATHS } from '../../core/paths.ts';
import { type Host, readTextIfExists } from '../../host/host.ts';

/**
 * The keys this agent wrote into ecs.config on its last run. With it, a key
 * dropped from the agent's config is removed from ecs.config on the next run,
 * while keys only the operator ever wrote are never touched. Kept beside the
 * file it describes: under --root it is baked into the image with it.
 */
export const MANAGED_KEYS_FILE = `${PATHS.agentState}/ecs-config-keys.json`;

const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function readManagedKeys(host: Host): Promise<string[]> {
  const text = await readTextIfExists(host, MANAGED_KEYS_FILE);
  return text === null ? [] : parseManagedKeys(text);
}

function parseManagedKeys(text: string): string[] {
  const keys = parseOrNull(text)?.managedKeys;
  if (Array.isArray(keys) && keys.every((key) => typeof key === 'string' && KEY_NAME.test(key))) return keys;
  throw new AgentError(
    `${MANAGED_KEYS_FILE} is not a list of managed keys such as {"managedKeys":["ECS_CLUSTER"]}; ` +
      'remove it to start afresh (keys the agent wrote before then stay in /etc/ecs/ecs.config until removed by hand)',
  );
}

function parseOrNull(text: string): { managedKeys?: unknown } | null {
  try {
    return JSON.parse(text) as { managedKeys?: unknown } | null;
  } catch {
    return null;
  }
}

export function formatManagedKeys(keys: readonly string[]): string {
  return `${JSON.stringify({ managedKeys: keys })}\n`;
}
