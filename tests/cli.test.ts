import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliLab } from './lab/cli-lab.ts';

// The CLI as a user runs it: the real bin script as a child process, against this
// computer and a real sshd on loopback.

const lab = cliLab({ prefix: 'runtime-lab-test-cli-', sshd: true });
const knownHosts = () => path.join(lab.dataDir, 'known_hosts');

describe('runtime-lab CLI', () => {
  it('documents every command and flag in --help', async () => {
    const help = await lab.cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['inspect', 'bench', 'doctor', 'setup']) expect(help.stdout).toContain(command);
    const inspect = await lab.cli(['inspect', '--help']);
    for (const flag of ['--json', '--identity', '--known-hosts', '--accept-new-host-key', '--password-stdin']) expect(inspect.stdout).toContain(flag);
  });

  it('inspects this computer as JSON that matches what the machine has', async () => {
    const result = await lab.cli(['inspect', 'local', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const facts = JSON.parse(result.stdout);
    expect(facts.os.kernel).toBe(os.release());
    expect(facts.tools.find((t: { id: string }) => t.id === 'runc')).toMatchObject({ found: true });
    expect(facts.tools.find((t: { id: string }) => t.id === 'crio')).toMatchObject({ found: false });
  });

  it('refuses an unknown host key unless --accept-new-host-key, then trusts it', async () => {
    const refused = await lab.cli(['inspect', lab.target(), '--identity', lab.sshd.keys.plain]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(lab.sshd.hostKeyFingerprint);
    expect(fs.existsSync(knownHosts())).toBe(false);

    const accepted = await lab.cli(['inspect', lab.target(), '--identity', lab.sshd.keys.plain, '--accept-new-host-key']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/runc\s+yes\s+1\.1/);
    const again = await lab.cli(['inspect', lab.target(), '--identity', lab.sshd.keys.plain, '--json']);
    expect(again.code, again.stderr).toBe(0);
  });

  it('reads a key passphrase or a password from stdin', async () => {
    const withPassphrase = await lab.cli(['inspect', lab.target(), '--identity', lab.sshd.keys.withPassphrase, '--password-stdin', '--json'], `${lab.sshd.keys.passphrase}\n`);
    expect(withPassphrase.code, withPassphrase.stderr).toBe(0);
    const user = lab.sshd.passwordUser;
    const password = await lab.cli(['inspect', `ssh://${user.name}@127.0.0.1:${lab.sshd.port}`, '--password-stdin', '--json'], `${user.password}\n`);
    expect(password.code, password.stderr).toBe(0);
    expect(JSON.parse(password.stdout).user.name).toBe(user.name);
    const wrong = await lab.cli(['inspect', `ssh://${user.name}@127.0.0.1:${lab.sshd.port}`, '--password-stdin'], 'not-the-password\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^runtime-lab: .*password/i);
    // The secret itself never appears in any output.
    expect(wrong.stderr).not.toContain('not-the-password');
  });

  it('fails with a one-line reason for a bad target and an unreachable host', async () => {
    const bad = await lab.cli(['inspect', 'http://example']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^runtime-lab: Target "http:\/\/example" is neither/);
    const closed = await lab.cli(['inspect', 'ssh://root@127.0.0.1:1', '--identity', lab.sshd.keys.plain]);
    expect(closed.code).toBe(1);
    expect(closed.stderr.trim().split('\n')).toHaveLength(1);
    expect(closed.stderr).toMatch(/refused|unreachable|reach/i);
  });

  it('benchmarks runc over SSH, prints a summary table and writes CSV and JSON', async () => {
    const csv = path.join(lab.dataDir, 'samples.csv');
    const json = path.join(lab.dataDir, 'run.json');
    const result = await lab.cli(['bench', lab.target(), '--identity', lab.sshd.keys.plain, '--runtime', 'runc', '--runtime', 'crun', '--iterations', '4', '--warmup', '1', '--csv', csv, '--json', json]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^runtime\s+n\s+fail\s+median ms/m);
    expect(result.stdout).toMatch(/^runc\s+4\s+0\s/m);
    // crun fails on this hybrid-cgroup host: counted as failures, not dropped, and explained.
    expect(result.stdout).toMatch(/^crun\s+0\s+4\s/m);
    expect(result.stderr).toContain('cgroups in hybrid mode not supported');
    const lines = fs.readFileSync(csv, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^run_id,host,method,runtime,step,storage_driver,iteration,warmup,duration_ms,ok,error,/);
    expect(lines).toHaveLength(1 + 2 * 5);
    const run = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(run.samples).toHaveLength(10);
    expect(run.run.facts.os.kernel).toBe(os.release());
  }, 120_000);

  it('exits non-zero naming the runtimes it knows when asked for one it does not', async () => {
    const result = await lab.cli(['bench', lab.target(), '--identity', lab.sshd.keys.plain, '--runtime', 'kata']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Unknown runtime "kata" on this host \(found: runc, crun, runsc\)/);
  });

  it('exits non-zero when every sample failed', async () => {
    const result = await lab.cli(['bench', 'local', '--runtime', 'crun', '--iterations', '2', '--warmup', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/all samples failed/);
  }, 60_000);
});
