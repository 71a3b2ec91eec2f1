import type { RunPhase } from '../../../shared/contract/ipc-contract.ts';
import type { RunStatus } from '../../../shared/model/run.ts';
import type { Tone } from '../StatusPill.tsx';

// Display helpers for runs: durations, phases, statuses, flags as text.

/** Milliseconds with a precision that suits the value (0.123 ms, 12.3 ms, 1 234 ms). */
export function formatMs(ms: number | null | undefined, unit = true): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const abs = Math.abs(ms);
  const text = abs >= 1000 ? Math.round(ms).toLocaleString('en-US') : abs >= 100 ? ms.toFixed(1) : abs >= 10 ? ms.toFixed(2) : ms.toFixed(3);
  return unit ? `${text} ms` : text;
}

/** An axis tick in ms: no more digits than the axis needs. */
export function formatTick(ms: number): string {
  const abs = Math.abs(ms);
  const digits = abs >= 100 || abs === 0 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return ms.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const PHASE_LABELS: Record<RunPhase, [string, Tone]> = {
  deploying: ['Deploying', 'info'],
  running: ['Running', 'info'],
  reconnecting: ['Reconnecting', 'warn'],
  detached: ['Detached', 'warn'],
  completed: ['Completed', 'ok'],
  aborted: ['Aborted', 'warn'],
  failed: ['Failed', 'bad'],
};

export const STATUS_LABELS: Record<RunStatus, [string, Tone]> = {
  running: ['Running', 'info'],
  completed: ['Completed', 'ok'],
  aborted: ['Aborted', 'warn'],
  failed: ['Failed', 'bad'],
};

/** Splits typed flags like a shell would (quotes group, no expansion). */
export function splitArgs(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let quote: '"' | "'" | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inArg = true;
    } else if (/\s/.test(ch)) {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
    } else {
      current += ch;
      inArg = true;
    }
  }
  if (inArg) args.push(current);
  return args;
}

export function joinArgs(args: readonly string[]): string {
  return args.map((a) => (a === '' || /[\s"']/.test(a) ? (a.includes("'") ? `"${a}"` : `'${a}'`) : a)).join(' ');
}

/** Whether typed flags have an unclosed quote. */
export function hasOpenQuote(text: string): boolean {
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
  }
  return quote !== null;
}
