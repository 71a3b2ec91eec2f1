import { readFileSync } from 'node:fs';
import type { EnvironmentInfo } from '../shared/model/run-record.ts';

// What every method records about the host itself, read where the agent runs.

/** Kernel release, for every method. */
export function hostBasics(): { kernel: string | null } {
  try {
    return { kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() };
  } catch {
    return { kernel: null };
  }
}

/** v2: cgroup2 at /sys/fs/cgroup; hybrid: v1 controllers plus a cgroup2 mount; v1: controllers only. */
export function cgroupMode(): EnvironmentInfo['cgroup']['mode'] {
  let mounts: string;
  try {
    mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return 'unknown';
  }
  const rows = mounts.split('\n').map((line) => {
    const [before, after] = line.split(' - ');
    return { point: before?.split(' ')[4] ?? '', type: after?.split(' ')[0] ?? '' };
  });
  if (rows.some((r) => r.type === 'cgroup2' && r.point === '/sys/fs/cgroup')) return 'v2';
  const v1 = rows.some((r) => r.type === 'cgroup');
  const v2 = rows.some((r) => r.type === 'cgroup2');
  if (v1 && v2) return 'hybrid';
  return v1 ? 'v1' : 'unknown';
}
