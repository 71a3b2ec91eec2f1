import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { TestDaemons } from './daemons.ts';
import { startSshd, type TestSshd } from './sshd.ts';

// The CLI as a user runs it: the real bin script as a child process, its data in a temp
// directory of the test file's own, no ssh-agent (keys come from --identity), against a
// real sshd on loopback and daemons in a temp root when the file asks for them. Started in
// beforeAll, stopped and removed in afterAll.

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(PROJECT_ROOT, 'bin/runtime-lab.mjs');
const LIFECYCLE_TIMEOUT_MS = 180_000;

export interface CliResult { code: number | null; stdout: string; stderr: string }

export interface CliLabOptions {
  /** Prefix of the temp directory. */
  prefix: string;
  sshd?: boolean;
  /** Starts the daemons under `root` (tests/lab/daemons.ts). */
  daemons?: (root: string) => TestDaemons;
  /** After the daemons and sshd stopped, before the temp directory goes. */
  afterStop?: () => void;
}

export interface CliLab {
  /** The temp directory: the CLI's data in `dataDir` below it, the daemons' root too. */
  readonly dir: string;
  readonly dataDir: string;
  readonly sshd: TestSshd;
  readonly daemons: TestDaemons;
  /** `ssh://root@127.0.0.1:PORT` of the sshd. */
  target(): string;
  cli(args: readonly string[], input?: string): Promise<CliResult>;
}

export function cliLab(options: CliLabOptions): CliLab {
  let dir = '';
  let sshd: TestSshd | null = null;
  let daemons: TestDaemons | null = null;
  const started = <T>(what: string, value: T | null): T => {
    if (value === null) throw new Error(`the CLI lab has no ${what}: ask for it in cliLab's options`);
    return value;
  };

  beforeAll(async () => {
    if (options.sshd) sshd = await startSshd();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), options.prefix));
    fs.mkdirSync(path.join(dir, 'data'));
    if (options.daemons) daemons = options.daemons(path.join(dir, 'lab'));
  }, LIFECYCLE_TIMEOUT_MS);

  afterAll(async () => {
    daemons?.stop();
    await sshd?.stop();
    options.afterStop?.();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, LIFECYCLE_TIMEOUT_MS);

  const lab: CliLab = {
    get dir() {
      return dir;
    },
    get dataDir() {
      return path.join(dir, 'data');
    },
    get sshd() {
      return started('sshd', sshd);
    },
    get daemons() {
      return started('daemons', daemons);
    },
    target: () => `ssh://root@127.0.0.1:${lab.sshd.port}`,
    cli: (args, input = '') =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, RUNTIME_LAB_DATA_DIR: lab.dataDir, SSH_AUTH_SOCK: '' }, cwd: PROJECT_ROOT });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(input);
      }),
  };
  return lab;
}
