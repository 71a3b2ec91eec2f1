import crypto from 'node:crypto';
import path from 'node:path/posix';
import type { LabEvent, RunPhase } from '../../shared/contract/ipc-contract.ts';
import { LabError } from '../../shared/lab-error.ts';
import { Plan } from '../../shared/model/plan.ts';
import type { HostFacts } from '../../shared/model/host-facts.ts';
import type { AgentEvent, DaemonUsageReading, EnvironmentInfo, MemoryStep, Sample } from '../../shared/model/run-record.ts';
import type { FinalRunStatus } from '../../shared/model/run.ts';
import type { ResultsStore } from '../results/results-store.ts';
import { inspectHost } from '../inspect/inspect-host.ts';
import type { Transport } from '../transport/transport.ts';
import { consumeLines } from './event-tailer.ts';
import { deployAgent, launchAgentRun, stopAgentRun, type DeployedAgent } from './remote-agent.ts';
import { agentBundleLoader, type AgentBundle } from '../agent/agent-bundle.ts';

/** How a runner reaches a host: the app maps a saved host id to it, the CLI its flags. */
export interface HostLink {
  hostId: string;
  hostName: string;
  /** The live transport, reconnecting when the last one closed. */
  transport(): Promise<Transport>;
  /** Drop the current transport (it may be dead without knowing yet). */
  reset(): Promise<void>;
}

export interface BenchRunnerOptions {
  store: ResultsStore;
  emit: (event: LabEvent) => void;
  pollIntervalMs?: number;
  /** Reconnection attempts before a run is left "detached" (the agent goes on; follow it later). */
  reconnectAttempts?: number;
  reconnectDelayMs?: number;
  /** The agent file to upload; without it the bundle is built from source (development, CLI, tests). */
  agentBundlePath?: string;
}

interface Following {
  done: Promise<FinalRunStatus | 'detached'>;
  link: HostLink;
}

// Starts measurements on a host through the agent and follows them: every event line the
// agent appends is read exactly once (byte offsets stored with the samples), so neither a
// dropped connection nor an app restart loses or repeats a sample.
export class BenchRunner {
  private readonly store: ResultsStore;
  private readonly emit: (event: LabEvent) => void;
  private readonly pollIntervalMs: number;
  private readonly reconnectAttempts: number;
  private readonly reconnectDelayMs: number;
  private readonly following = new Map<string, Following>();
  private readonly loadAgentBundle: () => Promise<AgentBundle>;
  private disposed = false;

  constructor(options: BenchRunnerOptions) {
    this.store = options.store;
    this.emit = options.emit;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.reconnectAttempts = options.reconnectAttempts ?? 20;
    this.reconnectDelayMs = options.reconnectDelayMs ?? 3_000;
    this.loadAgentBundle = agentBundleLoader(options.agentBundlePath);
  }

  /** `freshFacts`: an inspection the caller made moments ago (the CLI does, to pick runtimes). */
  async start(link: HostLink, planInput: Plan, freshFacts?: HostFacts): Promise<string> {
    const plan = Plan.parse(
      planInput.order === 'random' && planInput.seed === undefined ? { ...planInput, seed: crypto.randomInt(2 ** 31) } : planInput,
    );
    const runId = newRunId();
    this.phase(runId, 'deploying', `Preparing ${link.hostName}`);
    const transport = await link.transport();
    await requireBinaries(transport, plan);
    // Facts are taken fresh for every run: the environment is part of the result.
    const facts = freshFacts ?? (await inspectHost(transport));
    const agent = await deployAgent(transport, this.loadAgentBundle);
    this.store.createRun({
      id: runId, hostName: link.hostName, method: plan.method, plan, facts, versions: [], bundle: null,
      startedAt: new Date().toISOString(), finishedAt: null, status: 'running', statusMessage: null,
    });
    try {
      const runDir = await launchAgentRun(transport, agent, runId, plan);
      this.store.setFollow(runId, { hostId: link.hostId, remoteDir: runDir, agent: { ...agent } });
    } catch (err) {
      const error = LabError.from(err);
      this.store.finishRun(runId, { status: 'failed', finishedAt: new Date().toISOString(), message: error.message });
      this.phase(runId, 'failed', error.message);
      throw error;
    }
    this.follow(runId, link).catch((err: unknown) => this.phase(runId, 'failed', LabError.from(err).message));
    return runId;
  }

  /** Follows a run until it ends; calling it again for the same run returns the same promise. */
  follow(runId: string, link: HostLink): Promise<FinalRunStatus | 'detached'> {
    const current = this.following.get(runId);
    if (current) return current.done;
    // Already over (its follower read the end): following again would find the agent gone
    // and wrongly call the run failed.
    const status = this.store.runStatus(runId);
    if (status !== 'running') return Promise.resolve(status);
    const done = this.followLoop(runId, link).finally(() => this.following.delete(runId));
    this.following.set(runId, { done, link });
    return done;
  }

  isFollowing(runId: string): boolean {
    return this.following.has(runId);
  }

  async abort(runId: string, link?: HostLink): Promise<void> {
    const follow = this.store.getFollow(runId);
    const theLink = link ?? this.following.get(runId)?.link;
    if (!follow || !theLink) throw new LabError('not-found', `Run ${runId} is not being measured on a reachable host.`);
    const transport = await theLink.transport();
    await stopAgentRun(transport, follow.agent as unknown as DeployedAgent, follow.remoteDir);
  }

  dispose(): void {
    this.disposed = true;
  }

  private async followLoop(runId: string, link: HostLink): Promise<FinalRunStatus | 'detached'> {
    const follow = this.store.getFollow(runId);
    if (!follow) throw new LabError('not-found', `Run ${runId} has no host to follow.`);
    const eventsFile = path.join(follow.remoteDir, 'events.jsonl');
    const pidFile = path.join(follow.remoteDir, 'agent.pid');
    let offset = follow.tailOffset;
    let failures = 0;
    let idlePolls = 0;
    this.phase(runId, 'running');
    while (!this.disposed) {
      let chunk: Buffer;
      let transport: Transport;
      try {
        transport = await link.transport();
        chunk = await readFrom(transport, eventsFile, offset);
        failures = 0;
      } catch (err) {
        failures += 1;
        if (failures > this.reconnectAttempts) {
          this.phase(runId, 'detached', `Lost ${link.hostName}: ${LabError.from(err).message}. The agent keeps measuring; reopen the run to resume.`);
          return 'detached';
        }
        this.phase(runId, 'reconnecting', `Connection to ${link.hostName} lost (${LabError.from(err).message}); retrying ${failures}/${this.reconnectAttempts}`);
        await link.reset().catch(() => {});
        await sleep(this.reconnectDelayMs);
        continue;
      }
      // Disposed while reading (the app is quitting): store nothing more; the next start resumes.
      if (this.disposed) break;
      const batch = consumeLines(chunk, offset);
      for (const line of batch.rejected) this.log(runId, 'warn', `Unreadable line in events.jsonl skipped: ${line}`);
      const samples: Sample[] = [];
      const daemonUsage: DaemonUsageReading[] = [];
      const memorySteps: MemoryStep[] = [];
      let finished: Extract<AgentEvent, { type: 'finished' }> | undefined;
      let environment: EnvironmentInfo | undefined;
      for (const event of batch.events) {
        if (event.type === 'sample') samples.push(event.sample);
        else if (event.type === 'daemon-usage') daemonUsage.push(...event.samples);
        else if (event.type === 'memory-step') {
          const { type: _type, ...step } = event;
          memorySteps.push(step);
        }
        else if (event.type === 'bundle') this.store.setBundle(runId, event.bundle);
        else if (event.type === 'versions') this.store.setVersions(runId, event.versions);
        else if (event.type === 'environment') {
          this.store.setEnvironment(runId, event.environment);
          environment = event.environment;
        }
        else if (event.type === 'log') this.log(runId, event.level, event.message);
        else if (event.type === 'finished') finished = event;
      }
      if (batch.offset !== offset) {
        this.store.recordTail(runId, samples, batch.offset, daemonUsage, memorySteps);
        offset = batch.offset;
        idlePolls = 0;
        if (samples.length > 0) this.emit({ type: 'run:samples', runId, samples });
        if (daemonUsage.length > 0 || memorySteps.length > 0 || environment) {
          this.emit({ type: 'run:extras', runId, daemonUsage, memorySteps, ...(environment ? { environment } : {}) });
        }
      } else {
        idlePolls += 1;
      }
      if (finished) {
        this.store.finishRun(runId, { status: finished.status, finishedAt: finished.at, message: finished.message ?? null });
        this.phase(runId, finished.status, finished.message);
        return finished.status;
      }
      // Quiet for a while: make sure the agent is still alive, or the run would wait forever.
      if (idlePolls > 0 && idlePolls % Math.max(1, Math.round(5_000 / this.pollIntervalMs)) === 0) {
        const dead = await agentIsGone(transport, pidFile).catch(() => false);
        if (dead) {
          // One more read: the agent may have written its last lines just before exiting.
          const last = consumeLines(await readFrom(transport, eventsFile, offset), offset);
          if (last.offset !== offset) continue;
          const log = await transport.exec(['tail', '-c', '2000', path.join(follow.remoteDir, 'agent.log')]).catch(() => null);
          const message = `The agent on ${link.hostName} stopped without finishing the run. ${log?.stdout.trim() ?? ''}`.trim();
          this.store.finishRun(runId, { status: 'failed', finishedAt: new Date().toISOString(), message });
          this.phase(runId, 'failed', message);
          return 'failed';
        }
      }
      await sleep(this.pollIntervalMs);
    }
    return 'detached';
  }

  private phase(runId: string, phase: RunPhase, message?: string): void {
    this.emit({ type: 'run:phase', runId, phase, ...(message ? { message } : {}) });
  }

  private log(runId: string, level: 'info' | 'warn' | 'error', message: string): void {
    this.emit({ type: 'run:log', runId, level, message });
  }
}

function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${crypto.randomBytes(4).toString('hex')}`;
}

async function readFrom(transport: Transport, file: string, offset: number): Promise<Buffer> {
  try {
    return await transport.readFileFrom(file, offset);
  } catch (err) {
    // Before the agent's first line the file may not exist yet.
    if (/ENOENT|No such file/i.test(String((err as Error).message ?? err))) return Buffer.alloc(0);
    throw err;
  }
}

async function agentIsGone(transport: Transport, pidFile: string): Promise<boolean> {
  const result = await transport.exec(['sh', '-c', 'pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && [ -d "/proc/$pid" ]', 'sh', pidFile], { timeoutMs: 15_000 });
  return result.exitCode === 1;
}

/** Every runtime binary must exist on the host before anything is started. */
async function requireBinaries(transport: Transport, plan: Plan): Promise<void> {
  const script = 'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; for b in "$@"; do command -v "$b" >/dev/null 2>&1 || printf "%s\\n" "$b"; done';
  // Methods through a daemon need its client too (the daemon itself answers, or not, at run start);
  // method cri imports its workload and pause images with ctr.
  const client = plan.method === 'oci-direct' ? [] : plan.method === 'cri' ? ['ctr'] : [plan.method];
  const result = await transport.exec(['sh', '-c', script, 'sh', ...client, ...plan.runtimes.map((r) => r.binary)], { timeoutMs: 20_000 });
  const missing = result.stdout.split('\n').filter(Boolean);
  if (missing.length > 0) {
    const names = [
      ...client.filter((c) => missing.includes(c)).map((c) => `${c} (${plan.method === 'cri' ? 'method cri imports its images with it' : `the client of method ${plan.method}`})`),
      ...plan.runtimes.filter((r) => missing.includes(r.binary)).map((r) => `${r.name} (${r.binary})`),
    ];
    throw new LabError('not-found', `Not installed on ${transport.label}: ${names.join(', ')}. Install it with the setup wizard or remove it from the plan.`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
