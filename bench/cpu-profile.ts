/**
 * Reads a V8 CPU profile (`node --cpu-prof`, or the inspector's Profiler) as self time per request:
 * by package or source folder, and by function. Used by bench/profile.ts and bench/adapter-cost.ts.
 */
/** The repository's file URL, stripped from source URLs (any checkout or worktree). */
const ROOT = new URL('..', import.meta.url).href;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface SelfTimes {
  byPlace: Map<string, number>;
  byFunction: Map<string, number>;
}

/** Self time (µs) per package/folder and per function. */
function selfTimes(profile: Profile): SelfTimes {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') return;
    const url = f.url.replace(/^.*node_modules\//, '').replace(ROOT, '');
    const key = `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`;
    const us = profile.timeDeltas[i] ?? 0;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const place =
      url === ''
        ? '(native)'
        : url
            .split('/')
            .slice(0, url.startsWith('@') ? 2 : 1)
            .join('/');
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
  });
  return { byPlace, byFunction };
}

function top(m: Map<string, number>, requests: number, n: number): string[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${(us / requests).toFixed(2).padStart(8)} µs/req  ${k}`);
}

/** Self time per request (µs) of the heaviest functions, and of each package/folder. */
export function topSelfTime(profile: Profile, requests: number, count = 30): string[] {
  const t = selfTimes(profile);
  return [
    'by place:',
    ...top(t.byPlace, requests, 12),
    'by function:',
    ...top(t.byFunction, requests, count),
  ];
}

/**
 * Where `ours` spends more per request than `base` (each profile over its own request count):
 * the functions and places with the largest positive difference of self time per request.
 */
export function selfTimeOver(
  ours: Profile,
  oursRequests: number,
  base: Profile,
  baseRequests: number,
  count = 30,
): string[] {
  const a = selfTimes(ours);
  const b = selfTimes(base);
  const diff = (x: Map<string, number>, y: Map<string, number>) => {
    const out = new Map<string, number>();
    for (const k of new Set([...x.keys(), ...y.keys()]))
      out.set(k, (x.get(k) ?? 0) - ((y.get(k) ?? 0) * oursRequests) / baseRequests);
    return out;
  };
  return [
    'more than plain, by place:',
    ...top(diff(a.byPlace, b.byPlace), oursRequests, 12),
    'more than plain, by function:',
    ...top(diff(a.byFunction, b.byFunction), oursRequests, count),
  ];
}
