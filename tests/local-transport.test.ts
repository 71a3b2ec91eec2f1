import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalTransport } from '../services/transport/local-transport.ts';
import { execScript } from '../services/transport/transport.ts';
import { isRunning } from './lab/process-state.ts';

// Real processes only: the local transport is what "this computer" hosts run through.

const transport = createLocalTransport();
let dir: string;

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'local-transport-')); });
afterAll(async () => {
  await transport.close();
  await rm(dir, { recursive: true, force: true });
});

async function waitUntilStopped(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if (!isRunning(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('local transport exec', () => {
  it('returns output, exit code and live chunks', async () => {
    const chunks: string[] = [];
    const result = await execScript(transport, 'echo out; echo err >&2; exit 7', { onStdout: (c) => chunks.push(c) });
    expect(result).toEqual({ exitCode: 7, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    expect(chunks.join('')).toBe('out\n');
  });

  it('feeds stdin and closes it', async () => {
    const result = await transport.exec(['cat'], { stdin: 'line one\nline two ü\n' });
    expect(result.stdout).toBe('line one\nline two ü\n');
    expect(result.exitCode).toBe(0);
  });

  it('passes arguments verbatim, without a shell', async () => {
    const args = ['a b', `it's "quoted"`, '$HOME', '`id`', '; rm -rf /', '', 'tab\there', 'new\nline'];
    const result = await transport.exec([process.execPath, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', ...args]);
    expect(JSON.parse(result.stdout)).toEqual(args);
  });

  it('reports a missing command as exit code 127 instead of throwing', async () => {
    const result = await transport.exec(['no-such-command-runtime-lab', '--version']);
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toContain('no-such-command-runtime-lab: command not found');
    expect(result.timedOut).toBe(false);
  });

  it('kills the whole process group on timeout', async () => {
    const started = Date.now();
    const result = await execScript(transport, 'sleep 30 & echo $!; sleep 30; wait', { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5_000);
    const backgroundSleep = Number(result.stdout.trim());
    expect(backgroundSleep).toBeGreaterThan(0);
    expect(await waitUntilStopped(backgroundSleep)).toBe(true);
  });

  it('kills the command when the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const result = await transport.exec(['sleep', '30'], { signal: controller.signal });
    expect(result.signal).toBe('SIGKILL');
    expect(result.timedOut).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('local transport files', () => {
  it('writes with a mode, reads back, and reads from an offset', async () => {
    const path = join(dir, 'results.jsonl');
    await transport.writeFile(path, 'first\nsecond\n', 0o600);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await transport.readFile(path)).toString()).toBe('first\nsecond\n');
    expect((await transport.readFileFrom(path, 6)).toString()).toBe('second\n');
    expect((await transport.readFileFrom(path, 100)).length).toBe(0);
  });

  it('applies the mode to an existing file too', async () => {
    const path = join(dir, 'script.sh');
    await writeFile(path, 'old', { mode: 0o644 });
    await transport.writeFile(path, 'echo new', 0o755);
    expect((await stat(path)).mode & 0o777).toBe(0o755);
    expect(await readFile(path, 'utf8')).toBe('echo new');
  });
});

describe('local transport lifetime', () => {
  it('resolves closed only after close()', async () => {
    const own = createLocalTransport();
    expect(own.label).toBe('this computer');
    const early = await Promise.race([own.closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 50))]);
    expect(early).toBe('open');
    await own.close();
    await expect(own.closed).resolves.toBeUndefined();
    await expect(own.exec(['true'])).rejects.toMatchObject({ code: 'connection-lost' });
  });
});
