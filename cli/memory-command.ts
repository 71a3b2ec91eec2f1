import fs from 'node:fs';
import { LabError } from '../shared/lab-error.ts';
import { runtimePresets } from '../shared/bench/runtime-presets.ts';
import type { LabEvent } from '../shared/contract/ipc-contract.ts';
import { memoryStepsToCsv, runSidecarJson } from '../shared/csv-export.ts';
import type { Plan } from '../shared/model/plan.ts';
import { MemoryProcess, type MemoryStep } from '../shared/model/run-record.ts';
import { dataFiles, defaultDataDir } from '../services/app-paths.ts';
import { BenchRunner } from '../services/bench/bench-runner.ts';
import { inspectHost } from '../services/inspect/inspect-host.ts';
import { ResultsStore } from '../services/results/results-store.ts';
import { describeEnvironment, methodOptions, resolveRuntimes, type BenchFlags } from './bench-command.ts';
import type { ConnectionFlags } from './inspect-command.ts';
import { openCliHostLink } from './host-link.ts';

// `runtime-lab memory TARGET [--method oci-direct|ctr|docker] --runtime runc --runtime runsc
// --containers 1,5,10`: the seed's loop.c kept running in N containers per runtime, N
// stepping up; per step the summed PSS of every process the runtime added (through ctr and
// docker: the shims too) and the drop of MemAvailable, per container. The daemon flags are
// bench's (methodOptions). Stored with the app's results like a bench run.

export const MEMORY_METHODS = ['oci-direct', 'ctr', 'docker'] as const;

export interface MemoryFlags extends ConnectionFlags, Pick<BenchFlags, 'snapshotter' | 'storageDriver' | 'containerdAddress' | 'dockerHost' | 'daemonJson'> {
  method: (typeof MEMORY_METHODS)[number];
  runtime: string[];
  containers: number[];
  settle: number;
  /** MiB that MemAvailable must keep; default: the agent's (max of 512 MiB and 10% of RAM). */
  safetyMargin?: number;
  timeout: number;
  csv?: string;
  json?: string;
}

/** "1,5,10" → [1, 5, 10]: whole numbers ≥ 1, in the order given. */
export function parseContainerSteps(text: string): number[] {
  const steps = text.split(',').map((part) => part.trim()).filter(Boolean).map(Number);
  if (steps.length === 0 || steps.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new LabError('invalid-input', `--containers takes whole numbers ≥ 1 separated by commas (e.g. 1,5,10), not "${text}".`);
  }
  return steps;
}

const MIB = 1024 * 1024;
const mib = (bytes: number | null): string => (bytes === null ? '-' : (bytes / MIB).toFixed(2));

/** The end-of-run table: one line per step. */
export function formatMemoryTable(steps: readonly MemoryStep[]): string {
  const rows = [['runtime', 'N', 'PSS/container MiB', 'MemAvailable drop/container MiB', 'processes counted', 'status']];
  for (const s of steps) {
    // Roles in the schema's order, not the order the processes were found in: rows compare at a glance.
    const roles = MemoryProcess.shape.role.options.map((role) => [role, s.processes.filter((p) => p.role === role).length] as const).filter(([, n]) => n > 0);
    const counted = s.processes.length === 0 ? '-' : `${s.processes.length} (${roles.map(([role, n]) => `${n} ${role}`).join(', ')})`;
    const status = s.ok ? 'ok' : (s.error ?? 'failed').split('\n')[0] ?? 'failed';
    rows.push([s.runtime, String(s.containers), mib(s.perContainerPssBytes), mib(s.perContainerMemAvailableDropBytes), counted, status]);
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  // Names and the process list left-aligned, numbers right-aligned, the status (last) unpadded.
  const cellText = (cell: string, col: number) => (col === 5 ? cell : col === 0 || col === 4 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!));
  return `${rows.map((r) => r.map(cellText).join('  ')).join('\n')}\n`;
}

export async function memoryCommand(targetText: string, flags: MemoryFlags, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  if (!(MEMORY_METHODS as readonly string[]).includes(flags.method)) {
    throw new LabError('invalid-input', `memory measures through ${MEMORY_METHODS.join(', ')} (not --method ${String(flags.method)}).`);
  }
  if (flags.runtime.length === 0) throw new LabError('invalid-input', 'Name at least one --runtime.');
  const { link, label, firstTransport } = await openCliHostLink(targetText, flags);

  const store = ResultsStore.open(dataFiles(defaultDataDir()).results);
  if (store.recovery) err(`runtime-lab: ${store.recovery.message}\n`);
  const onEvent = (event: LabEvent): void => {
    if (event.type === 'run:phase' && event.message) err(`${event.phase}: ${event.message}\n`);
    else if (event.type === 'run:log' && (event.level !== 'info' || event.message.startsWith('memory: '))) err(`${event.level === 'info' ? '' : `${event.level}: `}${event.message}\n`);
  };
  const runner = new BenchRunner({ store, emit: onEvent });
  try {
    const facts = await inspectHost(firstTransport);
    const plan: Plan = {
      method: flags.method,
      runtimes: resolveRuntimes(flags.runtime, runtimePresets(facts), flags.method),
      ...methodOptions(flags),
      workload: 'loop',
      // Not used by a memory plan: one measurement per step, runtimes interleaved per step.
      iterations: 1,
      warmups: 0,
      order: 'round-robin',
      timeoutMs: flags.timeout,
      memory: {
        containers: flags.containers,
        settleMs: flags.settle,
        ...(flags.safetyMargin !== undefined ? { safetyMarginBytes: flags.safetyMargin * MIB } : {}),
      },
    };
    const runId = await runner.start(link, plan, facts);
    err(`run ${runId} on ${label}: ${plan.method}, ${plan.runtimes.map((r) => r.name).join(', ')}, containers ${flags.containers.join(', ')}, settle ${flags.settle} ms\n`);
    const onSignal = (): void => {
      err('\naborting: the agent deletes every container it started…\n');
      void runner.abort(runId, link).catch((e: unknown) => err(`runtime-lab: ${LabError.from(e).message}\n`));
    };
    process.once('SIGINT', onSignal);
    const status = await runner.follow(runId, link);
    process.removeListener('SIGINT', onSignal);
    const { meta } = store.getRun(runId);
    const steps = store.getMemorySteps(runId);
    out(formatMemoryTable(steps));
    if (flags.csv) fs.writeFileSync(flags.csv, memoryStepsToCsv(meta, steps));
    const environment = store.getEnvironment(runId);
    if (environment) err(`${describeEnvironment(environment)}\n`);
    if (flags.json) fs.writeFileSync(flags.json, `${JSON.stringify({ run: JSON.parse(runSidecarJson(meta)), environment, steps }, null, 2)}\n`);
    if (status === 'detached') throw new LabError('connection-lost', `Lost the host; run ${runId} goes on there. Open it in the app to resume reading.`);
    if (status !== 'completed') throw new LabError('command-failed', `Run ${runId} ${status}${meta.statusMessage ? `: ${meta.statusMessage}` : ''}.`);
    for (const runtime of plan.runtimes) {
      const mine = steps.filter((s) => s.runtime === runtime.name);
      if (mine.length > 0 && mine.every((s) => !s.ok)) err(`warning: every step of ${runtime.name} failed: ${(mine[0]?.error ?? '').split('\n')[0] ?? ''}\n`);
    }
    if (steps.every((s) => !s.ok)) throw new LabError('command-failed', `Run ${runId}: every step failed.`);
    return 0;
  } finally {
    runner.dispose();
    await link.reset();
    store.close();
  }
}
