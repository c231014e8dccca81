/**
 * `tessera cleanup`: removes expired sessions. The sweep runs oldest first in time slices (every
 * session expired a day ago or more, then ever more recent slices up to now), so a terminal shows a
 * progress bar that moves with real work, and each slice costs what the store's expiry index finds
 * in it. A store whose cleanup is a full scan (the file store) is swept in one step.
 */
import { type CommandContext, EXIT, UsageError } from '../context.js';
import { progressBar } from '../output.js';

const MINUTE = 60_000;
/** How far before now each slice ends, oldest first; the last slice ends now. */
const SLICE_ENDS = [1440, 720, 360, 180, 60, 30, 10, 1, 0].map((m) => m * MINUTE);

export async function cleanupCommand({ args, options, out, store: open, clock }: CommandContext) {
  if (args.length) throw new UsageError(`cleanup takes no argument "${args[0]}"`);
  const store = await open({ migrate: false });
  const started = performance.now();
  const now = clock();
  const ends = store.name === 'file' ? [now] : SLICE_ENDS.map((before) => now - before);
  let removed = 0;
  for (const [index, end] of ends.entries()) {
    removed += await store.cleanup(end);
    const step = `${index + 1}/${ends.length}`;
    const label = `${removed} removed (expired before ${new Date(end).toISOString()})`;
    if (options.json) continue;
    if (out.interactive) out.redraw(progressBar(index + 1, ends.length, label));
    else out.note(`cleanup ${step}: ${label}`);
  }
  if (out.interactive && !options.json) out.note('');
  const durationMs = Math.round(performance.now() - started);
  if (options.json) out.json({ store: store.name, removed, durationMs });
  else
    out.line(
      `Removed ${removed} expired session(s) from the ${store.name} store in ${durationMs} ms.`,
    );
  return EXIT.ok;
}
