import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTAINERD_NAMESPACE } from '../shared/model/plan.ts';
import type { EnvironmentInfo, MemoryStep } from '../shared/model/run-record.ts';
import { cliLab } from './lab/cli-lab.ts';
import { startDaemons } from './lab/daemons.ts';

// `runtime-lab memory --method ctr|docker` as a user runs it: the real bin script as a child
// process on this computer, measuring runc and runsc through a real containerd and a real
// dockerd started for this file, with bench's daemon flags.

// The CLI uses Runtime Lab's own namespace, as a user's run would.
const RUNC_STATE = `/run/containerd/runc/${DEFAULT_CONTAINERD_NAMESPACE}`;
const ORIGINAL_DAEMON_JSON = '{}\n';
const lab = cliLab({
  prefix: 'runtime-lab-test-cli-memory-',
  // No namespace to wipe at the end: other suites may use Runtime Lab's own meanwhile (emptied by the runs, removed below if empty).
  daemons: (root) => startDaemons(root, ORIGINAL_DAEMON_JSON, []),
  afterStop: () => {
    try {
      fs.rmdirSync(RUNC_STATE);
    } catch {
      // not empty (another suite's containers) or not there
    }
  },
});

/** Shims and runsc helpers of this file's containerd still running (their arguments name its temp root). */
function helpersLeft(): string[] {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).flatMap((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const helper = /^containerd-shim|^runsc-/.test(path.basename(argv[0] ?? '')) && argv.some((a) => a.includes(lab.daemons.root));
      return helper && stat[stat.lastIndexOf(')') + 2] !== 'Z' ? [`${pid} ${argv.join(' ')}`] : [];
    } catch {
      return [];
    }
  });
}

describe('runtime-lab memory through a daemon', () => {
  it('documents the methods and the daemon flags in --help', async () => {
    const help = await lab.cli(['memory', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--method', '--containerd-address', '--snapshotter', '--docker-host', '--daemon-json', '--containers']) expect(help.stdout).toContain(flag);
    expect(help.stdout).toMatch(/"oci-direct", "ctr", "docker"/);
  });

  it('refuses method cri and a flag of the other method before touching the host', async () => {
    const cri = await lab.cli(['memory', 'local', '--method', 'cri', '--runtime', 'runc']);
    expect(cri.code).not.toBe(0);
    expect(cri.stderr).toMatch(/--method.*cri.*(invalid|Allowed choices)/is);
    const mixed = await lab.cli(['memory', 'local', '--method', 'docker', '--snapshotter', 'native', '--runtime', 'runc', '--docker-host', lab.daemons.dockerHost]);
    expect(mixed.code).not.toBe(0);
    expect(mixed.stderr).toMatch(/--snapshotter applies to --method ctr only/);
  });

  it.each([
    ['ctr', () => ['--containerd-address', lab.daemons.containerdAddress, '--snapshotter', 'overlayfs']],
    // No --daemon-json: the agent finds the file this dockerd was started with (--config-file).
    ['docker', () => ['--docker-host', lab.daemons.dockerHost]],
  ] as const)('measures runc and runsc through %s: a row per step with the shims counted, JSON with the environment, nothing left', async (method, flags) => {
    const json = path.join(lab.dataDir, `memory-${method}.json`);
    const result = await lab.cli(['memory', 'local', '--method', method, ...flags(), '--runtime', 'runc', '--runtime', 'runsc', '--containers', '1', '--settle', '300', '--json', json]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^runtime\s+N\s+PSS\/container MiB\s+MemAvailable drop\/container MiB\s+processes counted\s+status$/);
    expect(lines[1]).toMatch(/^runc\s+1\s+\d+\.\d\d\s+-?\d+\.\d\d\s+2 \(1 container, 1 shim\)\s+ok$/);
    expect(lines[2]).toMatch(/^runsc\s+1\s+\d+\.\d\d\s+-?\d+\.\d\d\s+\d+ \((?=.*1 shim)(?=.*1 gofer)(?=.*\d+ sandbox).*\)\s+ok$/);
    // The shared daemons' change is reported beside each step, and what the numbers depend on.
    expect(result.stderr).toMatch(/memory: runc × 1: .*shared daemons, not counted: containerd RSS/);
    expect(result.stderr).toMatch(method === 'ctr' ? /environment: containerd .*snapshotter overlayfs/ : /environment: dockerd .*storage driver/);

    const parsed = JSON.parse(fs.readFileSync(json, 'utf8')) as { run: { id: string; method: string }; environment: EnvironmentInfo; steps: MemoryStep[] };
    expect(parsed.run.method).toBe(method);
    expect(parsed.environment.method).toBe(method);
    expect(parsed.environment.image?.ref).toMatch(/runtime-lab\/loop:/);
    expect(parsed.steps.map((s) => s.runtime)).toEqual(['runc', 'runsc']);
    expect(parsed.steps.every((s) => s.ok && s.processes.every((p) => p.pssBytes > 0))).toBe(true);

    const prefix = `rlab-${parsed.run.id.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}-`;
    const listed = method === 'ctr'
      ? spawnSync('ctr', ['--address', lab.daemons.containerdAddress, '--namespace', DEFAULT_CONTAINERD_NAMESPACE, 'containers', 'ls', '--quiet'], { encoding: 'utf8' })
      : spawnSync('docker', ['-H', lab.daemons.dockerHost, 'ps', '--all', '--format', '{{.Names}}'], { encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n').filter((l) => l.startsWith(prefix))).toEqual([]);
    if (method === 'docker') expect(fs.readFileSync(lab.daemons.daemonJson, 'utf8')).toBe(ORIGINAL_DAEMON_JSON);
    expect(helpersLeft()).toEqual([]);
  }, 240_000);
});
