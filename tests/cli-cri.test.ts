import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRI_STEPS } from '../shared/model/plan.ts';
import { cliLab } from './lab/cli-lab.ts';
import { startDaemons } from './lab/daemons.ts';

// `runtime-lab bench --method cri` as a user runs it: the real bin script, over a real sshd
// on loopback, against a real containerd with its CRI plugin started for this file.

const lab = cliLab({
  prefix: 'runtime-lab-test-cli-cri-',
  sshd: true,
  daemons: (root) => startDaemons(root, '{}\n', [], { docker: false, cri: { sandboxImage: 'runtime-lab/pause:cli-test', handlers: { runc: {} } } }),
});

describe('runtime-lab bench --method cri', () => {
  it('times the pod lifecycle over SSH: a table row per step and per iteration, CSV rows with their step', async () => {
    const csv = path.join(lab.dataDir, 'cri.csv');
    const json = path.join(lab.dataDir, 'cri.json');
    const result = await lab.cli([
      'bench', lab.target(), '--identity', lab.sshd.keys.plain, '--accept-new-host-key',
      '--method', 'cri', '--cri-address', lab.daemons.containerdAddress, '--runtime', 'runc', '--iterations', '2', '--warmup', '1', '--csv', csv, '--json', json,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^runtime\s+step\s+n\s+fail\s+median ms/m);
    for (const step of [...CRI_STEPS, 'whole']) expect(result.stdout).toMatch(new RegExp(`^runc\\s+${step}\\s+2\\s+0\\s`, 'm'));
    expect(result.stderr).toMatch(/environment: CRI containerd 1\.6[^,]*, sandbox image runtime-lab\/pause:cli-test, pod network host/);

    const lines = fs.readFileSync(csv, 'utf8').trim().split(/\r?\n/);
    const header = lines[0]!.split(',');
    const stepColumn = header.indexOf('step');
    expect(stepColumn).toBeGreaterThan(-1);
    // 3 iterations (1 warm-up) × (7 steps + the whole).
    expect(lines).toHaveLength(1 + 3 * 8);
    const steps = lines.slice(1).map((line) => line.split(',')[stepColumn]);
    for (const step of CRI_STEPS) expect(steps.filter((s) => s === step)).toHaveLength(3);
    expect(steps.filter((s) => s === '')).toHaveLength(3);
    const run = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(run.environment.cri).toMatchObject({ address: lab.daemons.containerdAddress, network: 'host', runtimeName: 'containerd' });
  }, 300_000);

  it('refuses --cri-address for another method', async () => {
    const result = await lab.cli(['bench', 'local', '--method', 'ctr', '--runtime', 'runc', '--cri-address', '/x.sock']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--cri-address applies to --method cri only/);
  });
});
