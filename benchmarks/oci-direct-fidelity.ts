// Fidelity benchmark: does Runtime Lab's oci-direct measurement agree with hyperfine?
// On this machine, with the same bundle, it alternates blocks of the host agent's
// measurement of `RUNTIME run` with blocks of `hyperfine -N` running the very same
// command, then compares the pooled medians. Target: within 5%.
//
//   node benchmarks/oci-direct-fidelity.ts [--runtime runc] [--rounds 6] [--runs 20]
//
// Needs root, hyperfine and the runtime. Prints a table and a JSON line for the record.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildAgentBundle } from '../services/agent/agent-bundle.ts';
import { AgentEvent } from '../shared/model/run-record.ts';
import { summarize } from '../shared/stats.ts';

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'runc' },
    rounds: { type: 'string', default: '6' },
    runs: { type: 'string', default: '20' },
  },
});
const runtime = values.runtime;
const rounds = Number(values.rounds);
const runs = Number(values.runs);

const work = mkdtempSync(path.join(os.tmpdir(), 'runtime-lab-fidelity-'));
const agentFile = path.join(work, 'agent.cjs');
writeFileSync(agentFile, (await buildAgentBundle()).code);

function agentBlock(round: number): { durations: number[]; bundle: string } {
  const dir = path.join(work, `agent-${round}`);
  mkdirSync(dir);
  const plan = { method: 'oci-direct', runtimes: [{ name: runtime, binary: runtime }], iterations: runs, warmups: 2, order: 'round-robin', timeoutMs: 30_000 };
  writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
  const result = spawnSync(process.execPath, [agentFile, 'run', '--run-dir', dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`agent failed: ${result.stderr}`);
  const events = readFileSync(path.join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => AgentEvent.parse(JSON.parse(l)));
  const durations = events.flatMap((e) => (e.type === 'sample' && !e.sample.warmup && e.sample.ok ? [e.sample.durationMs] : []));
  const bundle = events.flatMap((e) => (e.type === 'bundle' ? [e.bundle.path] : []))[0];
  if (!bundle || durations.length !== runs) throw new Error(`agent block ${round}: ${durations.length}/${runs} ok samples`);
  return { durations, bundle };
}

function hyperfineBlock(round: number, bundle: string): number[] {
  const out = path.join(work, `hyperfine-${round}.json`);
  // `runc run` deletes its container on exit, so one ID serves every run.
  const command = `${runtime} run --bundle ${bundle} rlab-fidelity-${process.pid}-${round}`;
  const result = spawnSync('hyperfine', ['-N', '--style', 'none', '--warmup', '2', '--runs', String(runs), '--export-json', out, command], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`hyperfine failed: ${result.stderr}`);
  const parsed = JSON.parse(readFileSync(out, 'utf8')) as { results: { times: number[] }[] };
  return (parsed.results[0]?.times ?? []).map((s) => s * 1000);
}

const agentTimes: number[] = [];
const hyperfineTimes: number[] = [];
let bundle = '';
try {
  for (let round = 0; round < rounds; round += 1) {
    // Alternate which tool goes first, so neither always meets a warmer machine.
    const first = round % 2 === 0 ? 'agent' : 'hyperfine';
    for (const tool of first === 'agent' ? ['agent', 'hyperfine'] : ['hyperfine', 'agent']) {
      if (tool === 'agent') {
        const block = agentBlock(round);
        bundle ||= block.bundle;
        agentTimes.push(...block.durations);
      } else {
        if (!bundle) bundle = agentBlock(-1 - round).bundle;
        hyperfineTimes.push(...hyperfineBlock(round, bundle));
      }
    }
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const agent = summarize(agentTimes);
const hyperfine = summarize(hyperfineTimes);
const ratio = agent.median! / hyperfine.median!;
const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(2));
console.log(`runtime ${runtime}, ${rounds} interleaved rounds × ${runs} runs each (${agentTimes.length} vs ${hyperfineTimes.length} samples)`);
console.log('tool          median ms  mean ms  sd ms  min ms  p95 ms  median 95% CI');
for (const [name, s] of [['runtime-lab', agent], ['hyperfine -N', hyperfine]] as const) {
  console.log(`${name.padEnd(12)}  ${fmt(s.median).padStart(9)}  ${fmt(s.mean).padStart(7)}  ${fmt(s.sd).padStart(5)}  ${fmt(s.min).padStart(6)}  ${fmt(s.p95).padStart(6)}  ${fmt(s.medianCi?.low ?? null)}–${fmt(s.medianCi?.high ?? null)}`);
}
console.log(`median ratio runtime-lab / hyperfine = ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)}%); target within 5%: ${Math.abs(ratio - 1) <= 0.05 ? 'met' : 'NOT met'}`);
console.log(JSON.stringify({ runtime, rounds, runs, agentMedianMs: agent.median, hyperfineMedianMs: hyperfine.median, ratio }));
