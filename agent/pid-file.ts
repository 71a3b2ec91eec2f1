import { readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// DIR/agent.pid names the agent running that run folder, for `stop` (the desktop's abort)
// and to refuse a second agent on the same folder. A pid outlives its process: after a
// crash or a reboot the number may belong to something else, so a pid only counts when
// that process's command line is an agent `run` of this very folder.

export function writePidFile(runDir: string): void {
  const file = path.join(runDir, 'agent.pid');
  // Written aside then renamed, so a reader never sees an empty or partial number.
  writeFileSync(`${file}.tmp`, `${process.pid}\n`);
  renameSync(`${file}.tmp`, file);
}

export function removePidFile(runDir: string): void {
  rmSync(path.join(runDir, 'agent.pid'), { force: true });
}

/** The pid of the live agent running `runDir`, or null when there is none. */
export function runningAgentPid(runDir: string): number | null {
  let pid: number;
  let argv: string[];
  let cwd: string;
  try {
    pid = Number(readFileSync(path.join(runDir, 'agent.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    // A zombie or a reused pid fails here or below: empty command line, another program.
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
  const dir = runDirArgument(argv);
  return argv.includes('run') && dir !== null && path.resolve(cwd, dir) === path.resolve(runDir) ? pid : null;
}

function runDirArgument(argv: string[]): string | null {
  for (const [i, arg] of argv.entries()) {
    if (arg === '--run-dir') return argv[i + 1] ?? null;
    if (arg.startsWith('--run-dir=')) return arg.slice('--run-dir='.length);
  }
  return null;
}
