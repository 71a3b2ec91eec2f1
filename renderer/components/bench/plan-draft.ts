import { Plan, type RuntimeSpec } from '../../../shared/model/plan.ts';
import type { BenchDraft } from '../../store/runs-store.ts';
import { hasOpenQuote, joinArgs, splitArgs } from './bench-format.ts';

// The Benchmarks form as a plan: every field checked where it is typed, then the whole
// plan through the same schema main validates with, so "Run" is only offered for a plan
// main will accept.

export type DraftErrors = Partial<Record<'runtimes' | 'iterations' | 'warmups' | 'timeout' | 'seed' | 'plan', string>> & {
  flags?: Record<string, string>;
};

export function isPicked(draft: BenchDraft, name: string): boolean {
  return draft.picked[name] ?? true;
}

export function flagsText(draft: BenchDraft, preset: RuntimeSpec): string {
  return draft.flags[preset.name] ?? joinArgs(preset.globalArgs);
}

function intIn(text: string, min: number, max: number): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

export function buildPlan(draft: BenchDraft, presets: readonly RuntimeSpec[]): { plan: Plan | null; errors: DraftErrors } {
  const errors: DraftErrors = {};
  const runtimes: RuntimeSpec[] = [];
  for (const preset of presets) {
    if (!isPicked(draft, preset.name)) continue;
    const text = flagsText(draft, preset);
    if (hasOpenQuote(text)) {
      errors.flags = { ...errors.flags, [preset.name]: 'A quote is not closed.' };
      continue;
    }
    runtimes.push({ ...preset, globalArgs: splitArgs(text) });
  }
  if (runtimes.length === 0) errors.runtimes = 'Pick at least one runtime.';

  const iterations = intIn(draft.iterations, 1, 100_000);
  if (iterations === null) errors.iterations = 'A whole number from 1 to 100,000.';
  const warmups = intIn(draft.warmups, 0, 1_000);
  if (warmups === null) errors.warmups = 'A whole number from 0 to 1,000.';
  const timeoutSec = Number(draft.timeoutSec);
  const timeoutMs = Math.round(timeoutSec * 1000);
  const timeoutOk = draft.timeoutSec.trim() !== '' && Number.isFinite(timeoutSec) && timeoutMs >= 100 && timeoutMs <= 600_000;
  if (!timeoutOk) errors.timeout = 'From 0.1 to 600 seconds.';
  let seed: number | undefined;
  if (draft.order === 'random' && draft.seed.trim() !== '') {
    const parsed = intIn(draft.seed, 0, 2 ** 31 - 1);
    if (parsed === null) errors.seed = 'A whole number from 0 to 2147483647, or empty for a fresh one.';
    else seed = parsed;
  }
  if (Object.keys(errors).length > 0 || iterations === null || warmups === null) return { plan: null, errors };

  const result = Plan.safeParse({
    method: 'oci-direct',
    runtimes,
    workload: 'hello',
    iterations,
    warmups,
    order: draft.order,
    ...(seed === undefined ? {} : { seed }),
    timeoutMs,
  });
  if (!result.success) return { plan: null, errors: { plan: result.error.issues.map((i) => i.message).join('; ') } };
  return { plan: result.data, errors };
}
