import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliLab } from './lab/cli-lab.ts';
import { startDaemons } from './lab/daemons.ts';

// `runtime-lab perf` as a user runs it: the real bin script as a child process, over a real
// sshd on loopback (and on this computer), measuring with the real runc and runsc, and
// through a real containerd started for this file.

const NAMESPACE = 'rlab-test-cli-perf';
// Small kernels: runsc on ptrace spends tens of µs per intercepted getpid.
const SMALL = ['--cpu-loops', '5000000', '--syscalls', '5000', '--io-bytes', '1048576'];
const lab = cliLab({ prefix: 'runtime-lab-test-cli-perf-', sshd: true, daemons: (root) => startDaemons(root, '{}\n', [NAMESPACE]) });

/** The table's row for a runtime and what it measured: [n, fail, median, CI, rate…]. */
function row(stdout: string, runtime: string, measured: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`${runtime} `) && l.slice(runtime.length).trimStart().startsWith(`${measured} `));
  expect(line, `row ${runtime} ${measured} in\n${stdout}`).toBeDefined();
  return (line ?? '').slice(runtime.length).trim().slice(measured.length).trim().split(/\s+/);
}

describe('runtime-lab perf', () => {
  it('documents its flags in --help', async () => {
    const help = await lab.cli(['perf', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--runtime', '--method', '--iterations', '--warmup', '--cpu-loops', '--syscalls', '--io-bytes', '--csv', '--json', '--containerd-address', '--docker-host']) {
      expect(help.stdout).toContain(flag);
    }
    expect((await lab.cli(['--help'])).stdout).toContain('perf');
  });

  it('measures runc and runsc over SSH: a row per runtime and kernel, CSV with the kernel steps, JSON with the plan', async () => {
    const csv = path.join(lab.dataDir, 'perf.csv');
    const json = path.join(lab.dataDir, 'perf.json');
    const result = await lab.cli([
      'perf', lab.target(), '--identity', lab.sshd.keys.plain, '--accept-new-host-key',
      '--runtime', 'runc', '--runtime', 'runsc', '--iterations', '3', '--warmup', '1', ...SMALL, '--csv', csv, '--json', json,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^runtime\s+measured\s+n\s+fail\s+median ms\s+median 95% CI\s+rate$/m);
    for (const runtime of ['runc', 'runsc']) {
      expect(row(result.stdout, runtime, 'start to exit').slice(0, 2)).toEqual(['3', '0']);
      for (const [kernel, unit] of [['cpu', 'ns/loop'], ['syscalls', 'ns/call'], ['io', 'MiB/s']] as const) {
        const cells = row(result.stdout, runtime, kernel);
        expect(cells.slice(0, 2)).toEqual(['3', '0']);
        expect(Number(cells[2])).toBeGreaterThan(0);
        expect(cells.at(-1)).toBe(unit);
      }
    }
    // Progress counts iterations, not their kernel samples.
    expect(result.stderr).toContain('[8/8]');

    const lines = fs.readFileSync(csv, 'utf8').trim().split(/\r?\n/);
    const header = lines[0]!.split(',');
    const step = header.indexOf('step');
    expect(step).toBeGreaterThan(-1);
    expect(lines).toHaveLength(1 + 2 * 4 * 4);
    const steps = lines.slice(1).map((l) => l.split(',')[step]);
    expect(steps.filter((s) => s === '')).toHaveLength(8);
    for (const kernel of ['cpu', 'syscalls', 'io']) expect(steps.filter((s) => s === kernel)).toHaveLength(8);

    const run = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(run.run.plan).toMatchObject({ method: 'oci-direct', workload: 'perf', perf: { cpuLoops: 5_000_000, syscalls: 5_000, ioBytes: 1_048_576 } });
    expect(run.samples).toHaveLength(32);
    expect(run.summaries.map((s: { runtime: string; step: string | null }) => `${s.runtime}/${s.step ?? 'whole'}`).sort()).toEqual(
      ['runc/cpu', 'runc/io', 'runc/syscalls', 'runc/whole', 'runsc/cpu', 'runsc/io', 'runsc/syscalls', 'runsc/whole'],
    );
  }, 300_000);

  it('measures through ctr on the containerd it is pointed at', async () => {
    const json = path.join(lab.dataDir, 'perf-ctr.json');
    const result = await lab.cli([
      'perf', 'local', '--method', 'ctr', '--containerd-address', lab.daemons.containerdAddress, '--runtime', 'runc', '--iterations', '2', '--warmup', '0', ...SMALL, '--json', json,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/environment: containerd 1\.6/);
    for (const kernel of ['start to exit', 'cpu', 'syscalls', 'io']) expect(row(result.stdout, 'runc', kernel).slice(0, 2)).toEqual(['2', '0']);
    const run = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(run.environment.image.command).toEqual(['/perf', '5000000', '5000', '1048576']);
  }, 300_000);

  it('refuses an io kernel smaller than one write, and a method perf does not measure through', async () => {
    const small = await lab.cli(['perf', 'local', '--runtime', 'runc', '--io-bytes', '100']);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/--io-bytes must be at least 65536/);
    const cri = await lab.cli(['perf', 'local', '--runtime', 'runc', '--method', 'cri']);
    expect(cri.code).toBe(1);
    expect(cri.stderr).toMatch(/--method.*cri.*invalid|Allowed choices/i);
  });

  it('exits non-zero when every iteration failed, with the runtime\'s reason', async () => {
    const result = await lab.cli(['perf', 'local', '--runtime', 'crun', '--iterations', '1', '--warmup', '0', ...SMALL]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cgroups in hybrid mode not supported');
    expect(result.stderr).toMatch(/all samples failed/);
    expect(row(result.stdout, 'crun', 'start to exit').slice(0, 2)).toEqual(['0', '1']);
  }, 120_000);
});
