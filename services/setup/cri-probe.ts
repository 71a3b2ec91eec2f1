import path from 'node:path/posix';
import type { Plan } from '../../shared/model/plan.ts';
import type { Sample } from '../../shared/model/run-record.ts';
import type { AgentBundle } from '../agent/agent-bundle.ts';
import { consumeLines } from '../bench/event-tailer.ts';
import { deployAgent } from '../bench/remote-agent.ts';
import type { ExecResult, Transport } from '../transport/transport.ts';

// The verify step's CRI check: a one-iteration, no-warm-up cri plan run by the host agent
// in the foreground — Runtime Lab's own CRI client, so no crictl is needed — and what it
// recorded, read back from its events file. The run folder is removed afterwards.

export interface CriProbe {
  /** The agent's finished status; null when it left no finished line. */
  status: 'completed' | 'aborted' | 'failed' | null;
  /** The finished line's message (why a run failed). */
  message: string | null;
  /** The whole-iteration sample, and the steps before it. */
  whole: Sample | null;
  steps: Sample[];
  /** The agent's warnings, then its error output. */
  output: string;
  commands: string[];
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
}

/** Runs a command as root (the verifier's privilege: root, sudo -n, or sudo with the kept password). */
export type RunAsRoot = (argv: string[], timeoutMs: number) => Promise<ExecResult & { display: string }>;

export async function runCriProbe(transport: Transport, asRoot: RunAsRoot, loadBundle: () => Promise<AgentBundle>, plan: Plan, timeoutMs: number): Promise<CriProbe> {
  const started = Date.now();
  const agent = await deployAgent(transport, loadBundle);
  const runId = `verify-cri-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const runDir = path.join(agent.baseDir, 'verify', runId);
  const made = await transport.exec(['mkdir', '-p', runDir], { timeoutMs: 20_000 });
  if (made.exitCode !== 0) throw new Error(`mkdir ${runDir} failed: ${made.stderr.trim()}`);
  await transport.writeFile(path.join(runDir, 'plan.json'), `${JSON.stringify(plan, null, 2)}\n`, 0o644);
  try {
    const ran = await asRoot([agent.node, agent.agentPath, 'run', '--run-dir', runDir, '--run-id', runId], timeoutMs);
    const read = await asRoot(['cat', path.join(runDir, 'events.jsonl')], 20_000);
    // The agent writes whole lines; what does not parse is left out, as the run tailer does.
    const { events } = consumeLines(Buffer.from(read.stdout), 0);
    const samples = events.flatMap((e) => (e.type === 'sample' ? [e.sample] : []));
    const finished = events.find((e) => e.type === 'finished');
    const warnings = events.flatMap((e) => (e.type === 'log' && e.level !== 'info' ? [`${e.level}: ${e.message}`] : []));
    const whole = samples.find((s) => (s.step ?? null) === null) ?? null;
    const failure = whole?.error ?? (finished?.type === 'finished' ? finished.message : undefined) ?? `${ran.stderr}${ran.stdout}`.trim();
    return {
      status: finished?.type === 'finished' ? finished.status : null,
      message: finished?.type === 'finished' ? (finished.message ?? null) : null,
      whole,
      steps: samples.filter((s) => (s.step ?? null) !== null),
      output: [...warnings, failure].filter(Boolean).join('\n'),
      commands: [ran.display],
      exitCode: ran.exitCode,
      timedOut: ran.timedOut,
      durationMs: Date.now() - started,
    };
  } finally {
    await asRoot(['rm', '-rf', runDir], 20_000).catch(() => undefined);
  }
}
