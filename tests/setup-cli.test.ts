import { Command } from 'commander';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerSetupCommands } from '../cli/setup-commands.ts';
import { LabError } from '../shared/lab-error.ts';

// `runtime-lab doctor` and `setup` on this computer ("local"), through commander as the
// CLI wires them. The dry run runs nothing; --yes on crun fails here with its explanation.

const labDir = mkdtempSync(join(tmpdir(), 'rlab-setup-cli-'));
afterAll(() => rmSync(labDir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ text: string; error: LabError | null }> {
  let text = '';
  const program = new Command().exitOverride();
  registerSetupCommands(program, (t) => { text += t; });
  try {
    await program.parseAsync(['node', 'runtime-lab', ...args]);
    return { text, error: null };
  } catch (err) {
    return { text, error: LabError.from(err) };
  }
}

describe('runtime-lab doctor / setup', () => {
  it('doctor --json gives the verdicts and the runtime × method matrix', async () => {
    const { text, error } = await run(['doctor', 'local', '--json']);
    expect(error).toBeNull();
    const report = JSON.parse(text);
    expect(report.checks.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['kvm', 'vhost-vsock', 'cgroup-crun', 'sudo']));
    const runc = report.matrix.find((r: { runtime: string }) => r.runtime === 'runc');
    expect(runc.cells['oci-direct'].status).toBe('works');
    const kataFc = report.matrix.find((r: { runtime: string }) => r.runtime === 'kata-fc');
    expect(kataFc.cells['oci-direct']).toMatchObject({ status: 'fails', reason: expect.stringContaining('virtio-fs') });
  }, 60_000);

  it('setup --dry-run prints every command and runs none', async () => {
    const { text, error } = await run(['setup', 'local', '--runtime', 'crun', '--dry-run', '--set', `labDir=${labDir}`]);
    expect(error).toBeNull();
    expect(text).toContain('[crun/run-direct] Run the test bundle with crun (verification)');
    expect(text).toContain(`crun run --bundle "$bundleDir" rlab-verify-crun-direct`);
    expect(text).toContain('crun: [');
    // Nothing ran: not even the journal was written.
    expect(existsSync(join(labDir, 'setup'))).toBe(false);
  }, 60_000);

  it('setup --yes exits non-zero with the recognised failure\'s meaning when crun meets hybrid cgroups', async () => {
    const { text, error } = await run(['setup', 'local', '--runtime', 'crun', '--yes', '--set', `labDir=${labDir}`]);
    if (!text.includes('cgroups in hybrid mode')) {
      expect(error).toBeNull();
      return;
    }
    expect(error?.message).toMatch(/^setup failed at crun\/run-direct: .*hybrid/);
    expect(text).toContain('!! recognised: crun-hybrid-cgroup');
    expect(text).toContain('fix: Boot with systemd.unified_cgroup_hierarchy=1');
  }, 120_000);

  it('refuses a setup without --dry-run or --yes, and unknown recipes or parameters', async () => {
    expect((await run(['setup', 'local', '--runtime', 'runc'])).error?.message).toMatch(/--dry-run.*--yes/);
    expect((await run(['setup', 'local', '--runtime', 'kata4', '--dry-run'])).error?.message).toMatch(/No recipe "kata4"/);
    expect((await run(['setup', 'local', '--runtime', 'runc', '--dry-run', '--set', 'nope=1'])).error?.message).toMatch(/Unknown parameter "nope"/);
  }, 60_000);
});
