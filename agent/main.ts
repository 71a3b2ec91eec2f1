import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { Plan, type MeasurementMethod } from '../shared/model/plan.ts';
import type { AgentEvent } from '../shared/model/run-record.ts';
import { withoutBanner } from './banner.ts';
import { openEventLog } from './event-log.ts';
import { runCri } from './cri-method.ts';
import { runCtr } from './ctr-method.ts';
import type { MethodRun } from './method-run.ts';
import { runDocker } from './docker-method.ts';
import { runMemory } from './memory-method.ts';
import { runOciDirect } from './oci-direct.ts';
import { removePidFile, runningAgentPid, writePidFile } from './pid-file.ts';
import { newSeed } from './run-order.ts';
import { runStorageDriverLoop } from './storage-driver-loop.ts';

// The host agent's command line. It runs on the lab host under whatever Node (≥ 18) the
// host has, started by the desktop over SSH:
//   run --run-dir DIR [--run-id ID] [--detach]   execute DIR/plan.json, append DIR/events.jsonl
//   stop --run-dir DIR                           abort the agent running DIR
//   version                                      name, version and sha256 of this file, as JSON
// Nothing is printed while a run executes: the SSH session that started it may be gone,
// and every result goes to events.jsonl.

/** Replaced by the bundler with package.json's version; "dev" when run from source. */
declare const __AGENT_VERSION__: string | undefined;
const AGENT_VERSION = typeof __AGENT_VERSION__ === 'string' ? __AGENT_VERSION__ : 'dev';

const USAGE = `usage: runtime-lab-agent run --run-dir DIR [--run-id ID] [--detach]
       runtime-lab-agent stop --run-dir DIR
       runtime-lab-agent version`;

/** How long `run --detach` waits for the agent to take the folder, and `stop` for it to end. */
const START_WAIT_MS = 10_000;
const STOP_WAIT_MS = 60_000;

const METHODS: Record<MeasurementMethod, (run: MethodRun) => Promise<'completed' | 'aborted'>> = {
  'oci-direct': runOciDirect,
  ctr: runCtr,
  docker: (run) => (run.plan.docker?.storageDrivers ? runStorageDriverLoop(run, run.plan.docker.storageDrivers) : runDocker(run)),
  cri: runCri,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'version') {
    console.log(JSON.stringify({ name: 'runtime-lab-agent', version: AGENT_VERSION, sha256: ownSha256(), node: process.version }));
    return 0;
  }
  if (command !== 'run' && command !== 'stop') return usage(`unknown command ${command ?? '(none)'}`);
  let values: { 'run-dir'?: string; 'run-id'?: string; detach?: boolean };
  try {
    ({ values } = parseArgs({ args: rest, options: { 'run-dir': { type: 'string' }, 'run-id': { type: 'string' }, detach: { type: 'boolean' } } }));
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err));
  }
  if (!values['run-dir']) return usage('--run-dir is required');
  const runDir = path.resolve(values['run-dir']);
  if (command === 'stop') return stop(runDir);
  const runId = values['run-id'] ?? path.basename(runDir);
  return values.detach ? detach(runDir, runId) : run(runDir, runId);
}

function usage(problem: string): number {
  console.error(`${problem}\n${USAGE}`);
  return 2;
}

async function run(runDir: string, runId: string): Promise<number> {
  const eventsFile = path.join(runDir, 'events.jsonl');
  if (runningAgentPid(runDir) !== null) return refuse(`an agent is already running ${runDir}`);
  // One folder, one run: appending a second run would make the desktop read two as one.
  if (existsSync(eventsFile) && statSync(eventsFile).size > 0) return refuse(`${eventsFile} already holds a run`);

  // Handlers first: once agent.pid exists, `stop` may send SIGTERM at any moment.
  const controller = new AbortController();
  const abort = (signal: NodeJS.Signals) => controller.abort(signal);
  process.on('SIGTERM', abort);
  process.on('SIGINT', abort);
  // The SSH session that started the agent may end at any time; that must not end the run.
  process.on('SIGHUP', () => {});
  const log = openEventLog(eventsFile);
  writePidFile(runDir);

  let finished: Extract<AgentEvent, { type: 'finished' }>;
  try {
    const plan = readPlan(runDir);
    log.write({ type: 'started', runId, at: now(), plan, agentVersion: `${AGENT_VERSION}+sha256.${ownSha256()}`, pid: process.pid });
    // A memory plan (plan.memory) is its own measurement, through the plan's method (memory-method.ts).
    const method = plan.memory ? runMemory : METHODS[plan.method];
    const status = await method({ plan, runId, runDir, signal: controller.signal, emit: (event) => log.write(event) });
    finished = { type: 'finished', at: now(), status };
    if (status === 'aborted') finished.message = `stopped by ${String(controller.signal.reason)}`;
  } catch (err) {
    finished = { type: 'finished', at: now(), status: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
  log.write(finished);
  log.close();
  removePidFile(runDir);
  return finished.status === 'failed' ? 1 : 0;
}

function refuse(message: string): number {
  console.error(message);
  return 2;
}

function readPlan(runDir: string): Plan {
  const file = path.join(runDir, 'plan.json');
  const parsed = Plan.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`invalid ${file}:\n${z.prettifyError(parsed.error)}`);
  const plan = parsed.data;
  // A random order is only reproducible from its seed, so one is always chosen and recorded.
  return plan.order === 'random' && plan.seed === undefined ? { ...plan, seed: newSeed() } : plan;
}

/**
 * Starts the run in a new session with its output in DIR/agent.log and returns once it
 * has taken the folder, so the SSH command that started it can end — and `stop` works —
 * as soon as this returns. Prints {"pid": N}.
 */
async function detach(runDir: string, runId: string): Promise<number> {
  const logFd = openSync(path.join(runDir, 'agent.log'), 'a');
  const script = ownFile();
  const child = spawn(process.execPath, [script, 'run', '--run-dir', runDir, '--run-id', runId], { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  child.unref();
  let exitCode: number | null = null;
  child.once('exit', (code) => { exitCode = code ?? 1; });
  const deadline = Date.now() + START_WAIT_MS;
  while (exitCode === null && runningAgentPid(runDir) !== child.pid && Date.now() < deadline) await sleep(20);
  if (exitCode !== null && exitCode !== 0) {
    console.error(`the agent exited with code ${exitCode}; see ${path.join(runDir, 'agent.log')}`);
    return exitCode;
  }
  console.log(JSON.stringify({ pid: child.pid }));
  return 0;
}

/** SIGTERM to the agent running DIR, then wait for it to clean up and end. Prints JSON. */
async function stop(runDir: string): Promise<number> {
  const pid = runningAgentPid(runDir);
  if (pid === null) {
    console.log(JSON.stringify({ stopped: false, reason: 'no agent is running this folder' }));
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_WAIT_MS;
  while (runningAgentPid(runDir) === pid && Date.now() < deadline) await sleep(50);
  const stopped = runningAgentPid(runDir) !== pid;
  console.log(JSON.stringify({ stopped, pid, ...(stopped ? {} : { reason: `still running ${STOP_WAIT_MS} ms after SIGTERM` }) }));
  return stopped ? 0 : 1;
}

/** This agent's file: Node makes argv[1] absolute, bundled or run from source alike. */
function ownFile(): string {
  const file = process.argv[1];
  if (!file) throw new Error('cannot tell which file this agent runs from');
  return file;
}

/** sha256 of the code this process runs, read back from disk (see banner.ts). */
function ownSha256(): string {
  return createHash('sha256').update(withoutBanner(readFileSync(ownFile()))).digest('hex');
}

function now(): string {
  return new Date().toISOString();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
