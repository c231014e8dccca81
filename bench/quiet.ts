/**
 * The benchmark's figures are for quoting only when measured on a quiet machine. Before anything
 * starts, the 1-minute load average must be at most `BENCH_MAX_LOAD` (0.5): above it the harness
 * waits up to two minutes for it to settle, then refuses. `BENCH_ALLOW_BUSY=1` (and `BENCH_QUICK=1`,
 * a try-out) run anyway with a loud warning, and results.md says the machine was not quiet.
 */
import { loadavg } from 'node:os';
import { log, settings } from './stats.js';

const WAIT_MS = 120_000;
const POLL_MS = 5_000;

export interface Quietness {
  /** Whether the 1-minute load average was at most the limit when the run started. */
  quiet: boolean;
  /** The 1-, 5- and 15-minute load averages when the run started. */
  loadAverage: number[];
  limit: number;
}

function banner(lines: string[]): void {
  const rule = '!'.repeat(78);
  process.stderr.write(`\n${rule}\n${lines.map((l) => `!!  ${l}`).join('\n')}\n${rule}\n\n`);
}

/**
 * Waits for a quiet machine; returns how quiet it was. Exits the process (status 2) when the
 * machine stays busy and a busy run was not allowed.
 */
export async function awaitQuietMachine(): Promise<Quietness> {
  const limit = settings.maxLoad;
  const mayRunBusy = settings.allowBusy || settings.quick;
  const deadline = Date.now() + (mayRunBusy ? 0 : WAIT_MS);
  let load = loadavg();
  if (load[0]! > limit && !mayRunBusy)
    log(`load average ${load[0]!.toFixed(2)} > ${limit}: waiting up to 2 min for a quiet machine`);
  while (load[0]! > limit && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    load = loadavg();
  }
  const quiet = load[0]! <= limit;
  if (!quiet) {
    const lines = [
      `NOT A QUIET MACHINE: 1-minute load average ${load[0]!.toFixed(2)} > ${limit}.`,
      'Other work competes for the CPU: req/s, µs and even the ratios are not for quoting.',
    ];
    if (!mayRunBusy) {
      banner([
        ...lines,
        'Refusing to run. Stop the other work (test suites, builds) and try again, or run',
        'anyway with BENCH_ALLOW_BUSY=1 (results.md will say the machine was busy);',
        'BENCH_MAX_LOAD changes the limit.',
      ]);
      process.exit(2);
    }
    banner([...lines, 'Running anyway (BENCH_ALLOW_BUSY=1 or BENCH_QUICK=1).']);
  }
  return { quiet, loadAverage: load, limit };
}
