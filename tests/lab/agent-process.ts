// The host agent as the tests run it: the real bundle written to a temp folder and run by
// this Node as a child process, exactly as the desktop starts it on a lab host.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildAgentBundle } from '../../services/agent/agent-bundle.ts';
import { expect } from 'vitest';
import { AgentEvent, type Sample } from '../../shared/model/run-record.ts';

export interface AgentResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface AgentWorkspace {
  readonly work: string;
  readonly agentFile: string;
  readonly agentSha256: string;
  /** A run folder holding plan.json. */
  runDirWith(name: string, plan: object): string;
  start(...args: string[]): { child: ReturnType<typeof spawn>; done: Promise<AgentResult> };
  run(...args: string[]): Promise<AgentResult>;
  remove(): void;
}

export async function createAgentWorkspace(prefix: string): Promise<AgentWorkspace> {
  const work = mkdtempSync(path.join(tmpdir(), prefix));
  const bundle = await buildAgentBundle();
  const agentFile = path.join(work, 'runtime-lab-agent.cjs');
  writeFileSync(agentFile, bundle.code);
  const start = (...args: string[]) => {
    const child = spawn(process.execPath, [agentFile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const done = new Promise<AgentResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    return { child, done };
  };
  return {
    work,
    agentFile,
    agentSha256: bundle.sha256,
    runDirWith(name, plan) {
      const dir = path.join(work, name);
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
      return dir;
    },
    start,
    run: (...args) => start(...args).done,
    remove: () => rmSync(work, { recursive: true, force: true }),
  };
}

/** Every line of events.jsonl, each parsed on its own: what lets the desktop tail the file. */
export function readEvents(runDir: string): AgentEvent[] {
  const file = path.join(runDir, 'events.jsonl');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  return text.split('\n').filter((line) => line !== '').map((line) => AgentEvent.parse(JSON.parse(line)));
}

export function samplesOf(events: AgentEvent[]): Sample[] {
  return events.flatMap((e) => (e.type === 'sample' ? [e.sample] : []));
}

export async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** IDs the runtime lists. --quiet, not -q: runsc only knows the long form. */
export function containerIds(binary: string, globalArgs: string[] = []): string[] {
  const listed = spawnSync(binary, [...globalArgs, 'list', '--quiet'], { encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`${binary} list failed: ${listed.stderr}`);
  return listed.stdout.split('\n').filter(Boolean);
}

/** The one event of `type` the run must have. */
export function only<T extends AgentEvent['type']>(events: AgentEvent[], type: T): Extract<AgentEvent, { type: T }> {
  const found = events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);
  expect(found, `exactly one ${type} event`).toHaveLength(1);
  return found[0] as Extract<AgentEvent, { type: T }>;
}

/** Every log line, as "level: message". */
export function logs(events: AgentEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'log' ? [`${e.level}: ${e.message}`] : []));
}
