import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliLab } from './lab/cli-lab.ts';
import { startDaemons } from './lab/daemons.ts';

// `runtime-lab bench --method docker --storage-driver …` as a user runs it: the real bin
// script as a child process, on this computer, against a real dockerd started for this file.
// One name is an expectation (dockerd is not touched); a comma-separated list is a loop.

const ORIGINAL_DAEMON_JSON = '{"debug":false}\n';
const runIds: string[] = [];
const lab = cliLab({
  prefix: 'rlab-cli-storage-',
  daemons: (root) => startDaemons(root, ORIGINAL_DAEMON_JSON, []),
  afterStop: () => {
    for (const id of runIds) fs.rmSync(path.join(os.homedir(), '.runtime-lab', 'runs', id), { recursive: true, force: true });
  },
});

const dockerFlags = () => ['--method', 'docker', '--docker-host', lab.daemons.dockerHost, '--daemon-json', lab.daemons.daemonJson];
const driver = () => spawnSync('docker', ['-H', lab.daemons.dockerHost, 'info', '--format', '{{.Driver}}'], { encoding: 'utf8', timeout: 60_000 }).stdout.trim();

describe('runtime-lab bench --storage-driver', () => {
  it('documents both meanings in --help', async () => {
    const help = await lab.cli(['bench', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/--storage-driver <name\[,name…\]>.*one name is the storage driver dockerd must be using.*a comma-separated list \(overlay2,vfs\) measures the whole plan once per driver/);
  });

  it('with a list, measures once per driver: a driver column in the table, CSV and JSON tagged, dockerd put back', async () => {
    const csv = path.join(lab.dir, 'loop.csv');
    const json = path.join(lab.dir, 'loop.json');
    const result = await lab.cli(['bench', 'local', ...dockerFlags(), '--runtime', 'runc', '--storage-driver', 'overlay2,vfs', '--iterations', '2', '--warmup', '1', '--csv', csv, '--json', json]);
    const run = fs.existsSync(json) ? JSON.parse(fs.readFileSync(json, 'utf8')) : null;
    if (run) runIds.push(run.run.id);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^runtime\s+driver\s+n\s+fail\s+median ms/m);
    expect(result.stdout).toMatch(/^runc\s+overlay2\s+2\s+0\s/m);
    expect(result.stdout).toMatch(/^runc\s+vfs\s+2\s+0\s/m);
    expect(result.stderr).toContain('[6/6]');
    expect(result.stderr).toContain('storage drivers overlay2, vfs');

    const [header, ...rows] = fs.readFileSync(csv, 'utf8').trim().split(/\r?\n/);
    const column = header!.split(',').indexOf('storage_driver');
    expect(column).toBeGreaterThan(0);
    expect(rows.map((r) => r.split(',')[column])).toEqual(['overlay2', 'overlay2', 'overlay2', 'vfs', 'vfs', 'vfs']);
    expect(run.run.plan.docker).toMatchObject({ storageDrivers: ['overlay2', 'vfs'] });
    expect(run.run.plan.docker.storageDriver).toBeUndefined();
    expect(run.environment.docker).toMatchObject({ storageDrivers: ['overlay2', 'vfs'], storageDriver: 'mixed' });
    expect(run.samples.map((s: { seq: number }) => s.seq)).toEqual([0, 1, 2, 3, 4, 5]);

    expect(fs.readFileSync(lab.daemons.daemonJson, 'utf8')).toBe(ORIGINAL_DAEMON_JSON);
    expect(driver()).toBe('overlay2');
  }, 300_000);

  it('with one name, only expects it: a dockerd on another driver fails the run and is not touched', async () => {
    const pid = lab.daemons.dockerdPid();
    const result = await lab.cli(['bench', 'local', ...dockerFlags(), '--runtime', 'runc', '--storage-driver', 'vfs', '--iterations', '1', '--warmup', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/uses the storage driver overlay2, not vfs as the plan expects/);
    expect(fs.readFileSync(lab.daemons.daemonJson, 'utf8')).toBe(ORIGINAL_DAEMON_JSON);
    expect(lab.daemons.dockerdPid()).toBe(pid);
  }, 120_000);

  it('refuses a driver named twice, and the flag with another method', async () => {
    const twice = await lab.cli(['bench', 'local', ...dockerFlags(), '--runtime', 'runc', '--storage-driver', 'vfs,overlay2,vfs']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^runtime-lab: --storage-driver names vfs twice\./m);
    const ctr = await lab.cli(['bench', 'local', '--method', 'ctr', '--runtime', 'runc', '--storage-driver', 'overlay2,vfs']);
    expect(ctr.code).toBe(1);
    expect(ctr.stderr).toMatch(/--storage-driver applies to --method docker only/);
  }, 60_000);
});
