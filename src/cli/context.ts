/**
 * What every command receives: its arguments, the loaded configuration, where to print, and a way
 * to open the configured store (opened lazily, so `tessera doctor` can report a bad configuration
 * before it tries to connect, and closed by the entry point whatever happens).
 */
import type { SessionStore } from '../core/types.js';
import { createStoreFromConfig, type StoreFromConfigOptions } from '../stores/from-config.js';
import type { CliConfig } from './config.js';
import type { Output } from './output.js';

/** A mistake on the command line: printed as one line with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  /** Whether `--help` would tell the user more (not for an ambiguous id prefix). */
  readonly pointsToHelp: boolean = true;
}

/**
 * The configured backend is not set up for this command: an SQLite file that does not exist, a
 * database without the session table. One line saying what to run, exit code 3.
 */
export class SetupError extends Error {
  override readonly name = 'SetupError';
}

/** The exit codes, for scripts. */
export const EXIT = {
  ok: 0,
  /**
   * A check failed (`doctor`), or nothing matched (`sessions revoke` of no live session, or of a
   * user without any).
   */
  failed: 1,
  /** A mistake on the command line, an ambiguous session id prefix included. */
  usage: 2,
  /** A bad configuration, or a backend not set up (a missing SQLite file or session table). */
  config: 3,
  /** The backend is unreachable or timed out. */
  unavailable: 4,
} as const;

export interface CommandContext {
  /** Positional arguments after the command (and sub-command) name. */
  args: string[];
  options: {
    json: boolean;
    verbose: boolean;
    user: string | undefined;
    limit: string | undefined;
  };
  out: Output;
  /** The configuration; reading it throws `ConfigError` on a bad value. */
  config(): CliConfig;
  /** The configured store (opened once; `extra` applies to the first call only). */
  store(extra?: StoreFromConfigOptions): Promise<SessionStore>;
  clock(): number;
}

export type Command = (context: CommandContext) => Promise<number>;

/** Builds the lazy configuration and store of one run; `close()` releases the store. */
export function lazyBackend(load: () => CliConfig) {
  let loaded: CliConfig | undefined;
  let opened: Promise<SessionStore> | undefined;
  const config = (): CliConfig => {
    loaded ??= load();
    return loaded;
  };
  return {
    config,
    store(extra: StoreFromConfigOptions = {}): Promise<SessionStore> {
      opened ??= (async () => {
        const { env, store } = config();
        return createStoreFromConfig(env, { ...store, ...extra });
      })();
      return opened;
    },
    async close(): Promise<void> {
      const store = await opened?.catch(() => undefined);
      await store?.close().catch(() => {});
    },
  };
}
