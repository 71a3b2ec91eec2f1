import { PERF_KERNELS, type PerfKernel } from '../shared/model/plan.ts';
import type { Sample } from '../shared/model/run-record.ts';
import { PERF_REPORT_PREFIX } from './perf-workload.ts';

// What one perf iteration becomes in events.jsonl: the container's whole life (start to
// exit, timed outside like every other sample, step absent), then one sample per kernel
// whose duration is the kernel's time as the workload measured it inside the container —
// same iteration index, each its own seq. An iteration that produced no complete report
// line failed, with the workload's output as its error, and has no kernel samples: there
// is nothing honest to put in them.

/** The kernels' times in ms from the workload's report line; null when no complete, well-formed line is there. */
export function parsePerfReport(stdout: string): Record<PerfKernel, number> | null {
  const line = stdout.split('\n').find((l) => l.startsWith(`${PERF_REPORT_PREFIX} `));
  if (!line) return null;
  const fields = new Map(line.trim().split(/\s+/).slice(1).map((field) => {
    const at = field.indexOf('=');
    return [field.slice(0, at), field.slice(at + 1)] as const;
  }));
  const times: Partial<Record<PerfKernel, number>> = {};
  for (const kernel of PERF_KERNELS) {
    const ns = fields.get(`${kernel}_ns`);
    if (ns === undefined || !/^\d{1,18}$/.test(ns)) return null;
    times[kernel] = Number(ns) / 1e6;
  }
  return times as Record<PerfKernel, number>;
}

/**
 * The samples of one perf iteration, given its whole-iteration sample (seq already set) and
 * the workload's output: `[whole, cpu, syscalls, io]` with seqs whole.seq + 0…3, or just the
 * whole sample — failed when it ran to exit 0 but its report line is missing or broken.
 */
export function perfIterationSamples(whole: Sample, output: { stdout: string; stderr: string }): Sample[] {
  if (!whole.ok) return [whole];
  const times = parsePerfReport(output.stdout);
  if (!times) {
    const said = [output.stdout.trim(), output.stderr.trim()].filter(Boolean).join('\n');
    return [{ ...whole, ok: false, error: `exited 0 without a complete "${PERF_REPORT_PREFIX}" line: ${said || '(no output)'}` }];
  }
  return [whole, ...PERF_KERNELS.map((step, i): Sample => ({ ...whole, seq: whole.seq + 1 + i, durationMs: times[step], step }))];
}
