/**
 * How many cases each fuzz property runs. `FUZZ_RUNS` (the same variable test/core/properties.test.ts
 * reads) sets the figure for pure properties; properties that go through a real backend or a real
 * socket run half of it (each of their cases makes several network round trips).
 */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
export const BACKEND_RUNS = Math.max(50, Math.round(RUNS / 2));
