/**
 * What the CLI prints: aligned text tables, durations and a progress bar for people; one JSON
 * document for scripts (`--json`). Results go to stdout; progress and errors go to stderr, so
 * `tessera … --json | jq` always reads clean JSON.
 */

/** Where a command writes; the real process streams, or buffers in tests. */
export interface Output {
  /** Writes one line of results to stdout. */
  line(text?: string): void;
  /** Writes the result as one JSON document to stdout. */
  json(value: unknown): void;
  /** Writes one line of progress or advice to stderr. */
  note(text: string): void;
  /** Whether stderr is a terminal (progress bars) or a pipe / file (plain lines). */
  readonly interactive: boolean;
  /** Redraws the current stderr line (terminals only). */
  redraw(text: string): void;
}

export function processOutput(): Output {
  return {
    line: (text = '') => process.stdout.write(`${text}\n`),
    json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    note: (text) => process.stderr.write(`${text}\n`),
    interactive: process.stderr.isTTY === true,
    redraw: (text) => process.stderr.write(`\r\x1b[2K${text}`),
  };
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}

/** Epoch ms as `2025-05-01 14:03:22` (UTC). */
export function utc(at: number): string {
  return new Date(at).toISOString().slice(0, 19).replace('T', ' ');
}

/** `[#########---------]  45%  label`, `width` characters of bar. */
export function progressBar(done: number, total: number, label: string, width = 30): string {
  const fraction = total <= 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(fraction * width);
  const percent = `${Math.round(fraction * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}  ${label}`;
}

/** `{ Chrome: 3, Firefox: 1 }` as `Chrome 3, Firefox 1`, largest first. */
export function counts(record: Record<string, number>): string {
  const entries = Object.entries(record).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.length ? entries.map(([k, n]) => `${k} ${n}`).join(', ') : '—';
}
