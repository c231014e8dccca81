/**
 * Runs the `tessera` command as a real process with only the environment a test gives it, so the
 * developer's own SESSION_* / REDIS_* variables never leak in.
 *
 * The process runs `src/cli/index.ts` compiled once per test file by esbuild (what tsx uses), the
 * packages left external as in `dist/`: plain `node` then starts in a fraction of the time
 * `node --import tsx` needs, which matters with dozens of runs. `runCliFromSource` runs the source
 * through tsx, to prove the entry itself works.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll } from 'vitest';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = resolve(ROOT, 'src/cli/index.ts');

// Under node_modules/.cache so the external packages resolve from the project.
const outdir = join(ROOT, 'node_modules/.cache', `tessera-cli-${randomBytes(4).toString('hex')}`);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

let compiled: Promise<string> | undefined;
function compiledCli(): Promise<string> {
  compiled ??= (async () => {
    await build({
      entryPoints: [ENTRY],
      outdir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    });
    return join(outdir, 'index.js');
  })();
  return compiled;
}

/** The compiled entry's path (for running it some other way, e.g. under `script`). */
export const CLI_ENTRY = compiledCli;

export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return run([await compiledCli(), ...args], env);
}

export function runCliFromSource(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  return run(['--import', 'tsx', ENTRY, ...args], env);
}

function run(argv: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      argv,
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Parses stdout as JSON, with the run in the message when it is not. */
export function jsonOf<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`,
    );
  }
}

/** A stack trace line, which must never reach a user without --verbose. */
export const STACK_LINE = /^\s+at .+\(?.*:\d+:\d+\)?$/m;
