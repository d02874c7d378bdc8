import type { Config } from '../core/config/load.ts';
import { decodeEnvFile } from '../core/config/env-file.ts';
import { DEFAULT_CONFIG_FILE, keysExportedFromFile, loadConfig } from '../core/config/load.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger, type Logger, type LogLevel } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import { RealHost } from '../host/real-host.ts';
import { type Command, COMMON_CONFIG_FLAGS, type FlagValues } from './command.ts';
import type { Environment, Output } from './output.ts';

/** What a command gets: config, the Host it manages, a logger and stdout. */
export interface Context extends Output {
  readonly config: Config;
  /** The managed system: this machine, or the image root given with --root. */
  readonly host: Host;
  readonly logger: Logger;
  /** The configuration error a command that reports it (`reportsConfigError`) runs despite, on the defaults. */
  readonly configError?: ConfigError;
  /**
   * Reads the config file and environment again (the daemon's SIGHUP). Keys the environment got from the file
   * (systemd's EnvironmentFile=) are read from the file alone, so an edit to the file takes effect.
   */
  reloadConfig(): Promise<Config>;
  /** Changes the level of `logger` (the daemon's reload of LOG_LEVEL). */
  setLogLevel(level: LogLevel): void;
}

export async function createContext(
  command: Command,
  flags: FlagValues,
  environment: Environment,
  output: Output,
): Promise<Context> {
  const { config, configError } = await configOrError(command, flags, environment);
  const exported = new Set(keysExportedFromFile(config, environment.env));
  const reloadEnv = Object.fromEntries(Object.entries(environment.env).filter(([name]) => !exported.has(name)));
  const load = () => readConfig(command, flags, reloadEnv);
  const logger = createLogger({
    level: config.LOG_LEVEL,
    journald: Boolean(environment.env.JOURNAL_STREAM),
    stream: environment.stderr,
  });
  const root = typeof flags.root === 'string' ? flags.root : '/';
  const host = new RealHost(root, (argv) => logger.debug('exec', { argv }));
  const setLogLevel = (level: LogLevel) => logger.setLevel(level);
  const reported = configError ? { configError } : {};
  return { ...output, config, host, logger, reloadConfig: load, setLogLevel, ...reported };
}

interface LoadedConfig {
  readonly config: Config;
  readonly configError?: ConfigError;
}

async function configOrError(command: Command, flags: FlagValues, environment: Environment): Promise<LoadedConfig> {
  try {
    return { config: await readConfig(command, flags, environment.env) };
  } catch (error) {
    if (!(command.reportsConfigError && error instanceof ConfigError)) throw error;
    const defaults = loadConfig({ file: DEFAULT_CONFIG_FILE, fileText: null, env: {}, flags: {} });
    return { config: defaults, configError: error };
  }
}

async function readConfig(command: Command, flags: FlagValues, env: Environment['env']): Promise<Config> {
  const configFile = typeof flags.config === 'string' ? flags.config : DEFAULT_CONFIG_FILE;
  const fileText = await readConfigFile(configFile);
  if (fileText === null && typeof flags.config === 'string')
    throw new ConfigError(`${configFile}: config file not found`);
  return loadConfig({ file: configFile, fileText, env, flags: configFlagValues(command, flags) });
}

/** Read as bytes: invalid UTF-8 is refused, not replaced. Always this machine's file, also with --root. */
async function readConfigFile(path: string): Promise<string | null> {
  const host = new RealHost('/');
  return (await host.stat(path)) === null ? null : decodeEnvFile(await host.readBytes(path), path);
}

function configFlagValues(command: Command, flags: FlagValues): Record<string, { value: string; flag: string }> {
  const values: Record<string, { value: string; flag: string }> = {};
  for (const [flag, target] of Object.entries({ ...COMMON_CONFIG_FLAGS, ...command.configFlags })) {
    const value = flags[flag];
    if (value === undefined || value === false) continue;
    if (typeof target === 'string') values[target] = { value: value === true ? 'yes' : value, flag: `--${flag}` };
    else values[target.key] = { value: target.value, flag: `--${flag}` };
  }
  return values;
}
