// The order in which a plan's iterations execute. Runtimes are interleaved so that slow
// drift on the host (thermal throttling, page cache, a neighbour's cron job) hits every
// runtime alike instead of biasing whichever one happened to run last. Warm-up rounds
// come first for all runtimes, then measured round i runs iteration i of each runtime.

export interface Slot {
  runtime: string;
  warmup: boolean;
  /** Index among this runtime's warm-ups, or among its measured iterations. */
  iteration: number;
}

export interface OrderOptions {
  runtimes: readonly string[];
  warmups: number;
  iterations: number;
  order: 'round-robin' | 'random';
  /** Required for 'random': the same seed gives the same order. */
  seed?: number | undefined;
}

/** Every slot of the run; a slot's index in the result is its sample's `seq`. */
export function buildRunOrder(options: OrderOptions): Slot[] {
  const { runtimes, warmups, iterations, order, seed } = options;
  if (order === 'random' && seed === undefined) throw new Error('a random order needs a seed');
  const random = order === 'random' ? seededRandom(seed ?? 0) : null;
  const rounds: Array<{ warmup: boolean; iteration: number }> = [];
  for (let i = 0; i < warmups; i++) rounds.push({ warmup: true, iteration: i });
  for (let i = 0; i < iterations; i++) rounds.push({ warmup: false, iteration: i });

  const slots: Slot[] = [];
  for (const round of rounds) {
    const names = [...runtimes];
    if (random) shuffle(names, random);
    for (const runtime of names) slots.push({ runtime, ...round });
  }
  return slots;
}

/** A seed for a random-order plan that did not bring one; recorded with the run. */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}

function shuffle<T>(items: T[], random: () => number): void {
  // Fisher–Yates: every permutation equally likely for a uniform `random`.
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
}

/**
 * mulberry32: tiny, fast and good enough to shuffle a round. Implemented here rather than
 * Math.random because an order must be reproducible from its recorded seed, on any Node.
 */
function seededRandom(seed: number): () => number {
  // Fold the high bits in, so seeds that differ only above 2^32 still give different orders.
  let state = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x9e3779b9);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
