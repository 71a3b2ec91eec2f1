// Does Runtime Lab measure what hyperfine measures? On this machine, it alternates blocks of
// the host agent's measurement with blocks of `hyperfine -N` running the very command the
// agent ran (the agent records it in its `environment` event, or it is `RUNTIME run` on the
// agent's own bundle), and compares the pooled medians and, paired by round, the medians'
// differences (which cancels the slow drift of a shared VM).
//
//   node benchmarks/agent-vs-hyperfine.ts [--method oci-direct|docker] [--runtime runc] [--rounds 8] [--runs 25]
//
// Targets: oci-direct within 5% (issue 3); agent overhead ≤ 3% or ≤ 1 ms, whichever is
// larger, for oci-direct and docker (issue 4). Needs root, hyperfine, the runtime; docker
// starts its own containerd and dockerd in a temp folder and stops them at the end.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildAgentBundle } from '../services/agent/agent-bundle.ts';
import { AgentEvent } from '../shared/model/run-record.ts';
import { summarize } from '../shared/stats.ts';
import { startDaemons, type TestDaemons } from '../tests/lab/daemons.ts';

const { values } = parseArgs({
  options: {
    method: { type: 'string', default: 'oci-direct' },
    runtime: { type: 'string', default: 'runc' },
    rounds: { type: 'string', default: '8' },
    runs: { type: 'string', default: '25' },
  },
});
const method = values.method;
if (method !== 'oci-direct' && method !== 'docker') throw new Error('--method is oci-direct or docker');
const runtime = values.runtime;
const rounds = Number(values.rounds);
const runs = Number(values.runs);

const work = mkdtempSync(path.join(os.tmpdir(), 'runtime-lab-agent-vs-hyperfine-'));
const agentFile = path.join(work, 'agent.cjs');
writeFileSync(agentFile, (await buildAgentBundle()).code);
const daemons: TestDaemons | null = method === 'docker' ? startDaemons(path.join(work, 'lab'), '{}\n', []) : null;

function plan(): object {
  const base = { runtimes: [{ name: runtime, binary: runtime }], iterations: runs, warmups: 2, order: 'round-robin', timeoutMs: 60_000 };
  if (method === 'oci-direct') return { method, ...base };
  return { method, ...base, daemonSampleMs: 0, docker: { host: daemons!.dockerHost, daemonJson: daemons!.daemonJson } };
}

/** One agent block: its measured durations and the exact command it timed. */
function agentBlock(round: number): { durations: number[]; command: string[] } {
  const dir = path.join(work, `agent-${round}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan()));
  const result = spawnSync(process.execPath, [agentFile, 'run', '--run-dir', dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`agent failed: ${result.stderr}`);
  const events = readFileSync(path.join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => AgentEvent.parse(JSON.parse(l)));
  const durations = events.flatMap((e) => (e.type === 'sample' && !e.sample.warmup && e.sample.ok ? [e.sample.durationMs] : []));
  if (durations.length !== runs) throw new Error(`agent block ${round}: ${durations.length}/${runs} ok samples: ${JSON.stringify(events.filter((e) => e.type === 'sample').slice(-1))}`);
  let command: string[];
  if (method === 'oci-direct') {
    const bundle = events.flatMap((e) => (e.type === 'bundle' ? [e.bundle.path] : []))[0]!;
    // `runc run` deletes its container on exit, so one ID serves every hyperfine run.
    command = [runtime, 'run', '--bundle', bundle, `rlab-hf-${process.pid}`];
  } else {
    const invocation = events.flatMap((e) => (e.type === 'environment' ? e.environment.runtimes : []))[0]!;
    // Without --name: hyperfine reuses one command line, and --rm frees the name asynchronously.
    const argv = [...invocation.argv];
    const name = argv.indexOf('--name');
    if (name >= 0) argv.splice(name, 2);
    command = argv;
  }
  return { durations, command };
}

function hyperfineBlock(round: number, command: string[]): number[] {
  const out = path.join(work, `hyperfine-${round}.json`);
  if (command.some((a) => /[\s'"]/.test(a))) throw new Error(`cannot hand ${JSON.stringify(command)} to hyperfine -N unquoted`);
  const result = spawnSync('hyperfine', ['-N', '--style', 'none', '--warmup', '2', '--runs', String(runs), '--export-json', out, command.join(' ')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`hyperfine failed: ${result.stderr}`);
  const parsed = JSON.parse(readFileSync(out, 'utf8')) as { results: { times: number[] }[] };
  return (parsed.results[0]?.times ?? []).map((s) => s * 1000);
}

const agentTimes: number[] = [];
const hyperfineTimes: number[] = [];
/** Per round: agent median − hyperfine median. Paired by round, so slow drift of the host cancels out. */
const roundDifferences: number[] = [];
let command: string[] | null = null;
try {
  for (let round = 0; round < rounds; round += 1) {
    // Alternate which tool goes first, so neither always meets a warmer machine.
    const order = round % 2 === 0 ? ['agent', 'hyperfine'] : ['hyperfine', 'agent'];
    let roundAgent: number | null = null;
    let roundHyperfine: number | null = null;
    for (const tool of order) {
      if (tool === 'agent' || command === null) {
        const block = agentBlock(tool === 'agent' ? round : -1 - round);
        command ??= block.command;
        if (tool === 'agent') {
          agentTimes.push(...block.durations);
          roundAgent = summarize(block.durations).median;
        }
      }
      if (tool === 'hyperfine') {
        const times = hyperfineBlock(round, command);
        hyperfineTimes.push(...times);
        roundHyperfine = summarize(times).median;
      }
    }
    if (roundAgent !== null && roundHyperfine !== null) roundDifferences.push(roundAgent - roundHyperfine);
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }
} finally {
  daemons?.stop();
  rmSync(work, { recursive: true, force: true });
}

const agent = summarize(agentTimes);
const hyperfine = summarize(hyperfineTimes);
const ratio = agent.median! / hyperfine.median!;
const overheadMs = agent.median! - hyperfine.median!;
const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(2));
console.log(`method ${method}, runtime ${runtime}, ${rounds} interleaved rounds × ${runs} runs (${agentTimes.length} vs ${hyperfineTimes.length} samples)`);
console.log(`command: ${command?.join(' ')}`);
console.log('tool          median ms  mean ms  sd ms  min ms  p95 ms  median 95% CI');
for (const [name, s] of [['runtime-lab', agent], ['hyperfine -N', hyperfine]] as const) {
  console.log(`${name.padEnd(12)}  ${fmt(s.median).padStart(9)}  ${fmt(s.mean).padStart(7)}  ${fmt(s.sd).padStart(5)}  ${fmt(s.min).padStart(6)}  ${fmt(s.p95).padStart(6)}  ${fmt(s.medianCi?.low ?? null)}–${fmt(s.medianCi?.high ?? null)}`);
}
const allowedMs = Math.max(0.03 * hyperfine.median!, 1);
const paired = summarize(roundDifferences);
console.log(`median ratio runtime-lab / hyperfine = ${ratio.toFixed(3)} (${overheadMs >= 0 ? '+' : ''}${overheadMs.toFixed(2)} ms)`);
console.log(`paired by round: median difference ${fmt(paired.median)} ms (95% CI ${fmt(paired.medianCi?.low ?? null)} to ${fmt(paired.medianCi?.high ?? null)}) over ${roundDifferences.length} rounds`);
if (method === 'oci-direct') console.log(`fidelity target (within 5%): ${Math.abs(ratio - 1) <= 0.05 ? 'met' : 'NOT met'}`);
console.log(`overhead target (≤ 3% or ≤ 1 ms, here ≤ ${allowedMs.toFixed(2)} ms): ${overheadMs <= allowedMs ? 'met' : 'NOT met'}`);
console.log(JSON.stringify({ method, runtime, rounds, runs, agentMedianMs: agent.median, hyperfineMedianMs: hyperfine.median, ratio, overheadMs, pairedMedianDifferenceMs: paired.median, pairedCi: paired.medianCi }));
