import { readFileSync, readdirSync } from 'node:fs';

// Reading /proc: which processes exist (pid + start time, so a reused pid is a new
// process), their parents and command lines, and their PSS. A process may vanish between
// two reads; every reader returns null for it rather than throwing.

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  /** Field 22 of /proc/PID/stat, in clock ticks since boot: with the pid, a process's identity. */
  startTime: string;
}

/** "pid:starttime": the identity of a process, stable across pid reuse. */
export function procKey(p: Pick<ProcInfo, 'pid' | 'startTime'>): string {
  return `${p.pid}:${p.startTime}`;
}

export function readProc(pid: number, procRoot = '/proc'): ProcInfo | null {
  let stat: string;
  try {
    stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return parseStat(stat);
}

/** Parses /proc/PID/stat; comm is in parentheses and may itself hold spaces and ')'. */
export function parseStat(stat: string): ProcInfo | null {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(stat.slice(0, open).trim());
  const comm = stat.slice(open + 1, close);
  // After ") ": state(3) ppid(4) … starttime(22); index 0 here is field 3.
  const rest = stat.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const startTime = rest[19];
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || startTime === undefined) return null;
  return { pid, ppid, comm, startTime };
}

/** Every process now on the host. */
export function listProcesses(procRoot = '/proc'): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProc(Number(name), procRoot);
    if (info) found.push(info);
  }
  return found;
}

/** Pss of /proc/PID/smaps_rollup in bytes; null when the process is gone (or a kernel thread). */
export function readPssBytes(pid: number, procRoot = '/proc'): number | null {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const match = /^Pss:\s+(\d+)\s+kB/m.exec(text);
  return match?.[1] === undefined ? null : Number(match[1]) * 1024;
}

/** Every descendant of the given roots (the roots included) among `processes`. */
export function descendants(processes: readonly ProcInfo[], roots: Iterable<number>): Set<number> {
  const children = new Map<number, number[]>();
  for (const p of processes) {
    const list = children.get(p.ppid) ?? [];
    list.push(p.pid);
    children.set(p.ppid, list);
  }
  const seen = new Set<number>();
  const queue = [...roots].filter((pid) => processes.some((p) => p.pid === pid));
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return seen;
}

/** MemAvailable and MemTotal of /proc/meminfo, in bytes. */
export function readMemInfo(procRoot = '/proc'): { availableBytes: number; totalBytes: number } {
  const text = readFileSync(`${procRoot}/meminfo`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    if (match?.[1] === undefined) throw new Error(`${procRoot}/meminfo has no ${name}`);
    return Number(match[1]) * 1024;
  };
  return { availableBytes: field('MemAvailable'), totalBytes: field('MemTotal') };
}

/** The arguments of a process; [] for a kernel thread or a vanished process. */
export function readArgv(pid: number, procRoot = '/proc'): string[] {
  try {
    return readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return [];
  }
}

/** VmRSS of /proc/PID/status in bytes; null when the process is gone. */
export function readRssBytes(pid: number, procRoot = '/proc'): number | null {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return match?.[1] === undefined ? null : Number(match[1]) * 1024;
}
