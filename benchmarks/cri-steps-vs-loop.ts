// How much of a CRI iteration is the client's own time? The host agent runs a cri plan and
// times each CRI call (RunPodSandbox … RemovePodSandbox) and the whole iteration around
// them; this prints, per runtime, the median whole-iteration time, the median of the
// per-iteration sum of steps, and their ratio. The gap is what Runtime Lab's CRI client
// spends between calls (encoding, the event loop, writing nothing: samples are emitted
// after the iteration) — issue 4's overhead check for the cri method.
//
//   node benchmarks/cri-steps-vs-loop.ts [--runtime runc]… [--iterations 30] [--warmups 3] [--address /run/containerd/containerd.sock]
//
// Without --address it starts its own containerd with the CRI plugin in a temp folder
// (handlers runc, and runsc behind the runc shim) and stops it at the end. Needs root.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildAgentBundle } from '../services/agent/agent-bundle.ts';
import { CRI_STEPS } from '../shared/model/plan.ts';
import { AgentEvent, type Sample } from '../shared/model/run-record.ts';
import { summarize } from '../shared/stats.ts';
import { startDaemons, type TestDaemons } from '../tests/lab/daemons.ts';

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', multiple: true, default: ['runc'] },
    iterations: { type: 'string', default: '30' },
    warmups: { type: 'string', default: '3' },
    address: { type: 'string' },
  },
});

const work = mkdtempSync(path.join(os.tmpdir(), 'runtime-lab-cri-steps-'));
let daemons: TestDaemons | null = null;
try {
  const agentFile = path.join(work, 'agent.cjs');
  writeFileSync(agentFile, (await buildAgentBundle()).code);
  let address = values.address;
  if (!address) {
    const runsc = spawnSync('sh', ['-c', 'command -v runsc'], { encoding: 'utf8' }).stdout.trim() || '/usr/bin/runsc';
    daemons = startDaemons(path.join(work, 'lab'), '{}\n', [], {
      docker: false,
      cri: { sandboxImage: 'runtime-lab/pause:benchmark', handlers: { runc: {}, runsc: { binary: runsc, args: ['--network=host', '--platform=ptrace'] } } },
    });
    address = daemons.containerdAddress;
  }
  const runDir = path.join(work, 'run');
  mkdirSync(runDir);
  const plan = {
    method: 'cri', runtimes: values.runtime.map((name) => ({ name, binary: name })), iterations: Number(values.iterations), warmups: Number(values.warmups),
    order: 'round-robin', timeoutMs: 30_000, daemonSampleMs: 0, cri: { address },
  };
  writeFileSync(path.join(runDir, 'plan.json'), JSON.stringify(plan));
  const result = spawnSync(process.execPath, [agentFile, 'run', '--run-dir', runDir], { encoding: 'utf8' });
  const events = readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => AgentEvent.parse(JSON.parse(l)));
  const finished = events.at(-1);
  if (result.status !== 0 || finished?.type !== 'finished' || finished.status !== 'completed') {
    throw new Error(`the agent run did not complete: ${result.stderr}${JSON.stringify(finished)}`);
  }
  const samples = events.flatMap((e) => (e.type === 'sample' && !e.sample.warmup ? [e.sample] : []));
  console.log(`cri at ${address}: ${plan.iterations} measured iterations per runtime after ${plan.warmups} warm-ups, interleaved`);
  console.log('runtime  ok/n    median whole ms  median sum of steps ms  gap ms  whole/steps');
  for (const runtime of values.runtime) {
    const ours = samples.filter((s) => s.runtime === runtime);
    const wholes = ours.filter((s) => (s.step ?? null) === null);
    const okIterations = wholes.filter((w) => w.ok).map((w) => w.iteration);
    const sums = okIterations.map((i) => stepSum(ours, i));
    const wholeMs = median(wholes.filter((w) => w.ok).map((w) => w.durationMs));
    const sumMs = median(sums);
    const gaps = okIterations.map((i, k) => wholes.find((w) => w.iteration === i)!.durationMs - sums[k]!);
    console.log(`${runtime.padEnd(8)} ${`${okIterations.length}/${wholes.length}`.padEnd(7)} ${fmt(wholeMs).padStart(15)}  ${fmt(sumMs).padStart(22)}  ${fmt(median(gaps)).padStart(6)}  ${Number.isNaN(wholeMs / sumMs) ? '-' : (wholeMs / sumMs).toFixed(4)}`);
    const perStep = CRI_STEPS.map((step) => `${step} ${fmt(median(ours.filter((s) => s.step === step && s.ok).map((s) => s.durationMs)))}`);
    console.log(`  median per step (ms): ${perStep.join(', ')}`);
    const failure = wholes.find((w) => !w.ok);
    if (failure) console.log(`  ${runtime} failed ${wholes.length - okIterations.length} iterations, e.g.: ${(failure.error ?? '').split('\n')[0]}`);
  }
} finally {
  daemons?.stop();
  rmSync(work, { recursive: true, force: true });
}

function stepSum(samples: readonly Sample[], iteration: number): number {
  return samples.filter((s) => s.iteration === iteration && (s.step ?? null) !== null).reduce((sum, s) => sum + s.durationMs, 0);
}

function median(values: readonly number[]): number {
  return summarize(values).median ?? Number.NaN;
}

function fmt(ms: number): string {
  return Number.isNaN(ms) ? '-' : ms.toFixed(3);
}
