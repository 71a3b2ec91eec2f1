import { spawn } from 'node:child_process';
import { chmod, open, readFile, writeFile } from 'node:fs/promises';
import { LabError } from '../../shared/lab-error.ts';
import type { ExecOptions, ExecResult, Transport } from './transport.ts';

// "This computer" as a lab host: the same contract as SSH, so every service runs
// unchanged against the local machine. Commands are spawned without a shell, so an
// argument is always passed exactly as given.

export function createLocalTransport(): Transport {
  let isClosed = false;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => { markClosed = resolve; });

  return {
    kind: 'local',
    label: 'this computer',
    closed,
    exec(argv, options) {
      if (isClosed) return Promise.reject(new LabError('connection-lost', 'The local transport was closed.'));
      if (argv.length === 0) return Promise.reject(new LabError('invalid-input', 'empty command'));
      return run(argv, options ?? {});
    },
    async writeFile(path, data, mode = 0o644) {
      await writeFile(path, data, { mode });
      // The mode option only applies when the file is created; an existing file keeps its own.
      await chmod(path, mode);
    },
    readFile(path) {
      return readFile(path);
    },
    async readFileFrom(path, offset) {
      const file = await open(path, 'r');
      try {
        const { size } = await file.stat();
        const length = Math.max(0, size - offset);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await file.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        await file.close();
      }
    },
    async close() {
      isClosed = true;
      markClosed();
    },
  };
}

function run(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    // detached: the command leads its own process group, so a timeout or abort can
    // kill everything it started (a shell's children too), not just the first process.
    const child = spawn(command, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = () => killGroup();
    const finish = (result: ExecResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk);
    });
    // A command that exits without reading all its input is normal, not a failure.
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');

    child.on('error', (err: NodeJS.ErrnoException) => {
      // Mirror the shell's codes: 127 "not found", 126 "found but cannot run".
      const exitCode = err.code === 'ENOENT' ? 127 : 126;
      const reason = err.code === 'ENOENT' ? 'command not found' : err.message;
      finish({ exitCode, signal: null, stdout, stderr: `${stderr}${command}: ${reason}\n`, timedOut: false });
    });
    child.on('close', (exitCode, signal) => {
      finish({ exitCode: timedOut ? null : exitCode, signal, stdout, stderr, timedOut });
    });

    if (options.signal?.aborted) killGroup();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
