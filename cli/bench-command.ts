import fs from 'node:fs';
import { LabError } from '../shared/lab-error.ts';
import { runtimePresets } from '../shared/bench/runtime-presets.ts';
import type { Plan, RuntimeSpec } from '../shared/model/plan.ts';
import type { LabEvent } from '../shared/contract/ipc-contract.ts';
import { samplesToCsv, runSidecarJson } from '../shared/csv-export.ts';
import { summarizeSamples } from '../shared/stats.ts';
import { dataFiles, defaultDataDir } from '../services/app-paths.ts';
import { BenchRunner, type HostLink } from '../services/bench/bench-runner.ts';
import { inspectHost } from '../services/inspect/inspect-host.ts';
import { ResultsStore } from '../services/results/results-store.ts';
import type { Transport } from '../services/transport/transport.ts';
import { connectFromFlags, type ConnectionFlags } from './inspect-command.ts';
import { formatSummaryTable } from './summary-table.ts';

export interface BenchFlags extends ConnectionFlags {
  method: 'oci-direct';
  runtime: string[];
  iterations: number;
  warmup: number;
  order: 'round-robin' | 'random';
  seed?: number;
  timeout: number;
  csv?: string;
  json?: string;
}

/** `--runtime runc` takes the host's preset; `--runtime name=/path/to/binary` names any binary. */
export function resolveRuntimes(requested: readonly string[], presets: readonly RuntimeSpec[]): RuntimeSpec[] {
  return requested.map((entry) => {
    const [name, binary] = entry.split(/=(.*)/s) as [string, string | undefined];
    if (binary) return { name, binary, globalArgs: [], lifecycle: 'run' as const };
    const preset = presets.find((p) => p.name === name);
    if (!preset) {
      const known = presets.map((p) => p.name).join(', ') || 'none';
      throw new LabError('not-found', `Unknown runtime "${name}" on this host (found: ${known}). Use NAME=/path/to/binary for another binary.`);
    }
    return preset;
  });
}

export async function benchCommand(targetText: string, flags: BenchFlags, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const opened = await connectFromFlags(targetText, flags);
  let transport: Transport | null = opened.transport;
  const link: HostLink = {
    hostId: `cli:${opened.label}`,
    hostName: opened.label,
    async transport() {
      transport ??= (await connectFromFlags(targetText, { ...flags, acceptNewHostKey: false, reuseSecret: opened.secret })).transport;
      return transport;
    },
    async reset() {
      const old = transport;
      transport = null;
      await old?.close();
    },
  };
  const store = ResultsStore.open(dataFiles(defaultDataDir()).results);
  if (store.recovery) err(`runtime-lab: ${store.recovery.message}\n`);
  const counts = new Map<string, { done: number; failed: number }>();
  const total = (flags.iterations + flags.warmup) * flags.runtime.length;
  const onEvent = (event: LabEvent): void => {
    if (event.type === 'run:samples') {
      for (const s of event.samples) {
        const c = counts.get(s.runtime) ?? { done: 0, failed: 0 };
        c.done += 1;
        if (!s.ok) c.failed += 1;
        counts.set(s.runtime, c);
      }
      const done = [...counts.values()].reduce((a, c) => a + c.done, 0);
      const perRuntime = [...counts.entries()].map(([r, c]) => `${r} ${c.done}${c.failed ? ` (${c.failed} failed)` : ''}`).join(', ');
      err(`\r[${done}/${total}] ${perRuntime}   `);
    } else if (event.type === 'run:phase' && event.message) {
      err(`\n${event.phase}: ${event.message}\n`);
    } else if (event.type === 'run:log' && event.level !== 'info') {
      err(`\n${event.level}: ${event.message}\n`);
    }
  };
  const runner = new BenchRunner({ store, emit: onEvent });
  try {
    const facts = await inspectHost(opened.transport);
    const plan: Plan = {
      method: flags.method,
      runtimes: resolveRuntimes(flags.runtime, runtimePresets(facts)),
      workload: 'hello',
      iterations: flags.iterations,
      warmups: flags.warmup,
      order: flags.order,
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      timeoutMs: flags.timeout,
    };
    const runId = await runner.start(link, plan);
    err(`run ${runId} on ${opened.label}: ${plan.runtimes.map((r) => r.name).join(', ')}, ${plan.warmups} warm-ups + ${plan.iterations} iterations each, ${plan.order}\n`);
    const onSignal = (): void => {
      err('\naborting: the agent cleans up the current container…\n');
      void runner.abort(runId, link).catch((e: unknown) => err(`runtime-lab: ${LabError.from(e).message}\n`));
    };
    process.once('SIGINT', onSignal);
    const status = await runner.follow(runId, link);
    process.removeListener('SIGINT', onSignal);
    err('\n');
    const { meta, samples } = store.getRun(runId);
    const summaries = summarizeSamples(samples);
    out(formatSummaryTable(summaries));
    if (flags.csv) fs.writeFileSync(flags.csv, samplesToCsv(meta, samples));
    if (flags.json) fs.writeFileSync(flags.json, `${JSON.stringify({ run: JSON.parse(runSidecarJson(meta)), summaries, samples }, null, 2)}\n`);
    if (status === 'detached') throw new LabError('connection-lost', `Lost the host; run ${runId} goes on there. Open it in the app to resume reading.`);
    if (status !== 'completed') throw new LabError('command-failed', `Run ${runId} ${status}${meta.statusMessage ? `: ${meta.statusMessage}` : ''}.`);
    // A runtime that failed throughout is reported; the run only fails when nothing worked.
    for (const s of summaries.filter((x) => x.n === 0 && x.failures > 0)) {
      const example = samples.find((x) => !x.ok && !x.warmup && x.runtime === s.runtime)?.error ?? '';
      err(`warning: every sample of ${s.runtime} failed: ${example.split('\n')[0]}\n`);
    }
    if (summaries.every((s) => s.n === 0)) throw new LabError('command-failed', `Run ${runId}: all samples failed.`);
    return 0;
  } finally {
    runner.dispose();
    await link.reset();
    store.close();
  }
}
