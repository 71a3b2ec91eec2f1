import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startSshd, type TestSshd } from './lab/sshd.ts';
import { createLabServices, hostLinkFor, type LabServices } from '../services/lab-services.ts';
import type { LabEvent } from '../shared/contract/ipc-contract.ts';
import type { Plan } from '../shared/model/plan.ts';
import { AgentEvent } from '../shared/model/run-record.ts';

// The whole benchmark path against a real lab host: a real sshd on loopback, the agent
// uploaded over SFTP and started detached, real runc and runsc, real SQLite. The
// connection is cut mid-run, and the app is "restarted" mid-run: no sample may be lost
// or stored twice.

const RUNSC = { name: 'runsc', binary: 'runsc', globalArgs: ['--network=none', '--platform=ptrace'], lifecycle: 'run' as const };
const RUNC = { name: 'runc', binary: 'runc', globalArgs: [], lifecycle: 'run' as const };

let sshd: TestSshd;
const dataDirs: string[] = [];

function newServices(dataDir: string, events: LabEvent[]): LabServices {
  return createLabServices({
    dataDir,
    encryptor: null,
    emit: (e) => events.push(e),
    runner: { pollIntervalMs: 100, reconnectDelayMs: 300, reconnectAttempts: 40 },
  });
}

async function trustedHost(services: LabServices): Promise<string> {
  const host = services.hosts.add({
    name: 'loopback lab',
    target: { kind: 'ssh', ssh: { host: sshd.host, port: sshd.port, user: 'root', auth: { method: 'key', keyPath: sshd.keys.plain, rememberSecret: false } } },
  });
  const first = await services.hosts.connect(host.id);
  if (first.status !== 'host-key-unknown') throw new Error(`expected an unknown host key, got ${first.status}`);
  expect(await services.hosts.trustHostKey(host.id, first.fingerprint)).toBe(true);
  expect((await services.hosts.connect(host.id)).status).toBe('connected');
  return host.id;
}

/** Kills sshd's per-connection processes (not the listener): the client sees its link drop. */
function dropSshConnections(): number {
  const master = Number(fs.readFileSync(path.join(sshd.dir, 'sshd.pid'), 'utf8').trim());
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(master)], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter(Boolean);
  for (const pid of children) process.kill(pid, 'SIGKILL');
  return children.length;
}

function samplesOnHost(remoteDir: string): number[] {
  return fs.readFileSync(path.join(remoteDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean)
    .map((l) => AgentEvent.parse(JSON.parse(l)))
    .flatMap((e) => (e.type === 'sample' ? [e.sample.seq] : []));
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sampleCount = (events: LabEvent[]) => events.reduce((n, e) => n + (e.type === 'run:samples' ? e.samples.length : 0), 0);

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-lab-test-bench-'));
  dataDirs.push(dir);
  return dir;
}

describe('benchmark runs over SSH', () => {
  it('keeps measuring through a dropped connection and stores every sample exactly once', async () => {
    const events: LabEvent[] = [];
    const services = newServices(dataDir(), events);
    try {
      const hostId = await trustedHost(services);
      const plan: Plan = { method: 'oci-direct', runtimes: [RUNC, RUNSC], workload: 'hello', iterations: 12, warmups: 2, order: 'random', seed: 7, timeoutMs: 30_000 };
      const runId = await services.runner.start(hostLinkFor(services.hosts, hostId), plan);
      await until('the first samples', () => sampleCount(events) >= 4);
      const seenBeforeDrop = events.length;
      expect(dropSshConnections()).toBeGreaterThan(0);
      const status = await services.runner.follow(runId, hostLinkFor(services.hosts, hostId));
      expect(status).toBe('completed');
      // The link really went down mid-run (and was re-opened by the follower).
      const afterDrop = events.slice(seenBeforeDrop);
      expect(afterDrop.some((e) => e.type === 'host:connection' && e.state === 'disconnected')).toBe(true);
      expect(afterDrop.some((e) => e.type === 'run:samples')).toBe(true);

      const { meta, samples } = services.results.getRun(runId);
      const expected = (plan.iterations + plan.warmups) * plan.runtimes.length;
      expect(samples.map((s) => s.seq)).toEqual([...Array(expected).keys()]);
      const follow = services.results.getFollow(runId)!;
      expect(samplesOnHost(follow.remoteDir)).toEqual(samples.map((s) => s.seq));
      expect(samples.filter((s) => !s.warmup && s.ok).length).toBe(plan.iterations * 2);
      // The run carries its environment: fresh facts, runtime versions, bundle digest.
      expect(meta.status).toBe('completed');
      expect(meta.facts.os.kernel).toBe(os.release());
      expect(meta.versions.map((v) => v.runtime)).toEqual(['runc', 'runsc']);
      expect(meta.versions[0]?.version).toMatch(/runc version/);
      expect(meta.bundle?.digest).toMatch(/^[0-9a-f]{64}$/);
      // The environment reached the live views as it was stored, not only through runs:get.
      const extras = events.filter((e) => e.type === 'run:extras' && e.runId === runId);
      expect(extras.some((e) => e.type === 'run:extras' && e.environment?.method === 'oci-direct')).toBe(true);
    } finally {
      await services.dispose();
    }
  }, 180_000);

  it('follows a run again after an app restart, from the stored offset', async () => {
    const dir = dataDir();
    const firstEvents: LabEvent[] = [];
    const first = newServices(dir, firstEvents);
    const hostId = await trustedHost(first);
    const plan: Plan = { method: 'oci-direct', runtimes: [RUNC], workload: 'hello', iterations: 40, warmups: 1, order: 'round-robin', timeoutMs: 30_000 };
    const runId = await first.runner.start(hostLinkFor(first.hosts, hostId), plan);
    await until('some samples', () => sampleCount(firstEvents) >= 5);
    await first.dispose();
    const storedBefore = sampleCount(firstEvents);

    const laterEvents: LabEvent[] = [];
    const later = newServices(dir, laterEvents);
    try {
      // The new instance found the running run and follows it without being asked.
      expect(later.runner.isFollowing(runId)).toBe(true);
      expect(await later.runner.follow(runId, hostLinkFor(later.hosts, hostId))).toBe('completed');
      const { samples } = later.results.getRun(runId);
      expect(samples.map((s) => s.seq)).toEqual([...Array(41).keys()]);
      // Exactly what the first instance had not stored is read by the second.
      expect(sampleCount(laterEvents)).toBe(41 - storedBefore);
    } finally {
      await later.dispose();
    }
  }, 180_000);

  it('refuses a plan naming a runtime the host does not have, before starting anything', async () => {
    const services = newServices(dataDir(), []);
    try {
      const hostId = await trustedHost(services);
      const plan: Plan = { method: 'oci-direct', runtimes: [RUNC, { name: 'kata', binary: 'kata-runtime', globalArgs: [], lifecycle: 'run' }], workload: 'hello', iterations: 2, warmups: 0, order: 'round-robin', timeoutMs: 10_000 };
      await expect(services.runner.start(hostLinkFor(services.hosts, hostId), plan)).rejects.toThrow(/Not installed on .*kata \(kata-runtime\)/);
      expect(services.results.listRuns()).toEqual([]);
    } finally {
      await services.dispose();
    }
  }, 60_000);

  it('uploads the agent once per content hash and reuses it for later runs', async () => {
    const services = newServices(dataDir(), []);
    try {
      const hostId = await trustedHost(services);
      const link = hostLinkFor(services.hosts, hostId);
      const plan: Plan = { method: 'oci-direct', runtimes: [RUNC], workload: 'hello', iterations: 1, warmups: 0, order: 'round-robin', timeoutMs: 30_000 };
      const first = await services.runner.start(link, plan);
      expect(await services.runner.follow(first, link)).toBe('completed');
      const agentPath = String(services.results.getFollow(first)!.agent.agentPath);
      expect(path.basename(agentPath)).toMatch(/^runtime-lab-agent-[0-9a-f]{16}\.cjs$/);
      const before = fs.statSync(agentPath);
      const second = await services.runner.start(link, plan);
      expect(await services.runner.follow(second, link)).toBe('completed');
      const after = fs.statSync(String(services.results.getFollow(second)!.agent.agentPath));
      expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    } finally {
      await services.dispose();
    }
  }, 120_000);

  it('aborts a run on request: the agent cleans up and the run is stored as aborted', async () => {
    const events: LabEvent[] = [];
    const services = newServices(dataDir(), events);
    try {
      const hostId = await trustedHost(services);
      const plan: Plan = { method: 'oci-direct', runtimes: [RUNC], workload: 'hello', iterations: 500, warmups: 0, order: 'round-robin', timeoutMs: 30_000 };
      const link = hostLinkFor(services.hosts, hostId);
      const runId = await services.runner.start(link, plan);
      await until('some samples', () => sampleCount(events) >= 3);
      await services.runner.abort(runId, link);
      // The follower may already have read the end by now; asking again must not re-follow
      // a finished run (it would find the agent gone and call the run failed).
      await until('the follower to read the end', () => !services.runner.isFollowing(runId), 30_000);
      const startedAsking = Date.now();
      expect(await services.runner.follow(runId, link)).toBe('aborted');
      expect(Date.now() - startedAsking).toBeLessThan(1_000);
      const { meta, samples } = services.results.getRun(runId);
      expect(meta.status).toBe('aborted');
      expect(samples.length).toBeLessThan(500);
      const leftovers = spawnSync('runc', ['list', '-q'], { encoding: 'utf8' }).stdout.split('\n').filter((id) => id.includes(runId.slice(0, 8)));
      expect(leftovers).toEqual([]);
    } finally {
      await services.dispose();
    }
  }, 120_000);
});
