import { spawnSync } from 'node:child_process';
import { readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { AgentEvent, DaemonUsageReading } from '../shared/model/run-record.ts';

// CPU and memory of the daemons and shims behind a high-level method, read from /proc
// while the measurement loop runs (talk 2: cri-o went to 100% CPU and slowed down over
// time while containerd stayed near 20% — latency alone hides that).
//
// CPU% is (utime + stime) ticks over wall time between two readings of the same process,
// in % of one CPU; a process first seen after the sampler started is averaged since its
// own start (shims live for one container), while processes already running at the first
// reading only give a baseline there. Memory is VmRSS. Processes that start and end
// between two readings (most `runsc` invocations, some shims) are not seen: the interval
// bounds what can be caught, and is recorded with the plan.
//
// Reads are asynchronous (libuv's thread pool), so the agent's event loop — which times
// the measured commands' exits — is never blocked by a /proc scan.

/**
 * Which processes belong to the run. A host (or a CI box) may run other containerds,
 * dockerds and shims; counting them would put someone else's CPU on this run's chart.
 */
export interface SamplerScope {
  /** The containerd socket the run talks to (ctr), or null to take the one dockerd names. */
  containerdSocket: string | null;
  /** The dockerd socket (docker method), or null. */
  dockerSocket: string | null;
  /** containerd namespaces whose shims are the run's (ctr: the plan's; docker: "moby"). */
  shimNamespaces: readonly string[];
  /**
   * Narrower still: only the shims (and what runs under them) whose -id is in `ids` — the CRI
   * pods the run created, in a namespace a kubelet may share. The run learns a pod's ID when
   * RunPodSandbox returns, after its shim started: readings of a shim whose ID is not known
   * yet are held for up to `waitMs`, then kept if the ID became the run's, dropped if not.
   */
  shimIds?: { ids: ReadonlySet<string>; waitMs: number };
  /**
   * A CRI run against cri-o: crio serving `socket`, and the conmons (cri-o's per-container
   * monitors, reparented away from crio) whose container name (-n, "k8s_<container>_<pod>_…")
   * contains `podNamePart`, with what runs under them.
   */
  crio?: { socket: string; podNamePart: string };
}

export interface DaemonSamplerOptions {
  intervalMs: number;
  scope: SamplerScope;
  /** Readings batched into one `daemon-usage` event (4 × 250 ms: one event a second). */
  readingsPerEvent?: number;
  emit: (event: AgentEvent) => void;
  /** For tests: another /proc. */
  procRoot?: string;
}

export interface DaemonSampler {
  /** Takes a last reading, emits what is buffered, and stops. */
  stop(): Promise<void>;
}

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  state: string;
  cpuTicks: number;
  startTicks: number;
}

/** A reading and, for a shim or a process under one, that shim's -id. */
interface Tagged {
  reading: DaemonUsageReading;
  shimId: string | null;
}

interface Held {
  sinceMs: number;
  readings: DaemonUsageReading[];
}

interface Seen {
  cpuTicks: number;
  startTicks: number;
  atNs: bigint;
}

/** Names of processes worth sampling, from their comm (first 15 bytes of the program name). */
const DAEMON_COMMS = new Set(['containerd', 'dockerd', 'crio', 'conmon']);

/**
 * What to call a process, or null when it is not a daemon or shim. `argv0` and `exe` are
 * only consulted when the comm is ambiguous: comm is cut at 15 bytes (containerd-shim-runc-v2
 * shows as "containerd-shim"), and runsc re-executes /proc/self/exe (comm "exe") as
 * runsc-sandbox and runsc-gofer, named only by argv[0].
 */
export function classifyProcess(comm: string, argv0: string | null, exe: string | null): string | null {
  if (DAEMON_COMMS.has(comm)) return comm;
  const arg = argv0 ? path.basename(argv0) : '';
  if (comm.startsWith('containerd-shim')) return arg.startsWith('containerd-shim') ? arg : comm;
  const exeName = exe ? path.basename(exe.replace(/ \(deleted\)$/, '')) : '';
  if (comm.startsWith('runsc') || exeName === 'runsc') return arg.startsWith('runsc') ? arg : 'runsc';
  return null;
}

/** comm needs a second look (argv[0] or exe) before it can be classified. */
function maybeInteresting(comm: string): boolean {
  return DAEMON_COMMS.has(comm) || comm.startsWith('containerd-shim') || comm.startsWith('runsc') || comm === 'exe';
}

/** /proc/PID/stat: the comm may hold spaces and parentheses, so fields are counted after the last ')'. */
export function parseStat(pid: number, text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime 15, starttime 22.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const start = Number(fields[19]);
  if (![utime, stime, start].every(Number.isFinite)) return null;
  return { pid, ppid: Number(fields[1]), comm: text.slice(open + 1, close), state: fields[0] ?? '?', cpuTicks: utime + stime, startTicks: start };
}

let clockTicksPerSecond: number | undefined;

/** sysconf(_SC_CLK_TCK), which Node does not expose: asked once of getconf; 100 on every Linux we know. */
function clockTicks(): number {
  if (clockTicksPerSecond === undefined) {
    const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5_000 });
    const value = Number(result.stdout?.trim());
    clockTicksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return clockTicksPerSecond;
}

export function startDaemonSampler(options: DaemonSamplerOptions): DaemonSampler {
  const proc = options.procRoot ?? '/proc';
  const perEvent = Math.max(1, options.readingsPerEvent ?? 4);
  const hz = clockTicks();
  const seen = new Map<number, Seen>();
  let buffer: DaemonUsageReading[] = [];
  let ticksInBuffer = 0;
  let first = true;
  let stopped = false;
  let warned = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const startMs = Date.now();
  let slot = 0;
  const shimIds = options.scope.shimIds;
  /** Readings of shims whose ID is not (yet) the run's, by shim ID. */
  const held = new Map<string, Held>();
  /** Shim IDs that stayed unknown past waitMs: someone else's; forgotten once their shim is gone. */
  const foreign = new Set<string>();

  /** Into the buffer what is the run's; readings of unknown shims wait (`final`: no more waiting). */
  const admit = (tagged: Tagged[], final: boolean) => {
    const now = Date.now();
    const present = new Set<string>();
    for (const { reading, shimId } of tagged) {
      if (shimId === null || !shimIds || shimIds.ids.has(shimId)) {
        buffer.push(reading);
        continue;
      }
      present.add(shimId);
      if (foreign.has(shimId)) continue;
      const entry = held.get(shimId) ?? { sinceMs: now, readings: [] };
      entry.readings.push(reading);
      held.set(shimId, entry);
    }
    if (!shimIds) return;
    for (const [id, entry] of held) {
      if (shimIds.ids.has(id)) {
        buffer.push(...entry.readings);
        held.delete(id);
      } else if (final || now - entry.sinceMs > shimIds.waitMs) {
        held.delete(id);
        foreign.add(id);
      }
    }
    for (const id of foreign) if (!present.has(id)) foreign.delete(id);
  };

  const flush = () => {
    if (buffer.length > 0) options.emit({ type: 'daemon-usage', at: new Date().toISOString(), samples: buffer });
    buffer = [];
    ticksInBuffer = 0;
  };

  const tick = async (final = false): Promise<void> => {
    let readings: Tagged[];
    try {
      readings = await readOnce(proc, hz, seen, first, options.scope);
    } catch (err) {
      if (!warned) {
        warned = true;
        options.emit({ type: 'log', level: 'warn', message: `daemon sampling: cannot read ${proc}: ${err instanceof Error ? err.message : String(err)}` });
      }
      readings = [];
    }
    first = false;
    admit(readings, final);
    ticksInBuffer += 1;
    if (ticksInBuffer >= perEvent) flush();
  };

  const schedule = () => {
    if (stopped) return;
    // On a fixed grid from the start, so a slow scan does not make every later reading late.
    slot = Math.max(slot + 1, Math.floor((Date.now() - startMs) / options.intervalMs) + 1);
    timer = setTimeout(() => {
      running = tick().then(schedule);
    }, Math.max(0, startMs + slot * options.intervalMs - Date.now()));
  };

  running = tick().then(schedule);
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await running;
      await tick(true);
      flush();
    },
  };
}

const DEFAULT_CONTAINERD_SOCKET = '/run/containerd/containerd.sock';
const DEFAULT_CRIO_SOCKET = '/var/run/crio/crio.sock';
const DEFAULT_DOCKER_SOCKET = '/run/docker.sock';

/**
 * For comparing: "unix:///var/run/x.sock", "unix:/var/run/x.sock" and "/var/run/x.sock" name
 * the same socket as "/run/x.sock" (to connect, cri-error.ts's socketPathOf keeps the path as given).
 */
export function socketPath(address: string): string {
  return address.replace(/^unix:(\/\/)?/, '').replace(/^\/var\/run\//, '/run/');
}

/** The value after any of `flags` in an argv (`--flag value` or `--flag=value`). */
export function flagValue(argv: readonly string[], flags: readonly string[]): string | null {
  for (const [i, arg] of argv.entries()) {
    if (flags.includes(arg)) return argv[i + 1] ?? null;
    const eq = flags.find((f) => arg.startsWith(`${f}=`));
    if (eq) return arg.slice(eq.length + 1);
  }
  return null;
}

interface Candidate {
  stat: ProcStat;
  label: string;
  argv: string[];
  rssKb: string;
}

/**
 * Daemons by the socket they serve, shims by namespace, runsc and friends by descent from a
 * counted shim. The value: the shim's -id for a shim and what is under it (when the scope
 * narrows by ID), else null.
 */
function inScope(candidates: Map<number, Candidate>, parents: Map<number, number>, scope: SamplerScope): Map<number, string | null> {
  const dockerd = [...candidates.values()].find((c) => c.label === 'dockerd' && scope.dockerSocket !== null &&
    socketPath(flagValue(c.argv, ['-H', '--host']) ?? DEFAULT_DOCKER_SOCKET) === socketPath(scope.dockerSocket));
  const containerdSocket = scope.containerdSocket ?? (dockerd ? flagValue(dockerd.argv, ['--containerd']) ?? DEFAULT_CONTAINERD_SOCKET : null);
  const counted = new Map<number, string | null>();
  for (const [pid, c] of candidates) {
    if (c.label === 'dockerd' && c === dockerd) counted.set(pid, null);
    if (c.label === 'containerd' && containerdSocket !== null &&
      socketPath(flagValue(c.argv, ['--address', '-a']) ?? DEFAULT_CONTAINERD_SOCKET) === socketPath(containerdSocket)) counted.set(pid, null);
    if (c.label.startsWith('containerd-shim') && scope.shimNamespaces.includes(flagValue(c.argv, ['-namespace', '--namespace']) ?? '')) {
      counted.set(pid, scope.shimIds ? (flagValue(c.argv, ['-id', '--id']) ?? '') : null);
    }
    if (scope.crio && c.label === 'crio' && socketPath(flagValue(c.argv, ['--listen']) ?? DEFAULT_CRIO_SOCKET) === socketPath(scope.crio.socket)) counted.set(pid, null);
    if (scope.crio && c.label === 'conmon' && (flagValue(c.argv, ['-n', '--name']) ?? '').includes(scope.crio.podNamePart)) counted.set(pid, null);
  }
  // Shims and conmons: what runs under one of the run's belongs to the run.
  const shims = new Map([...counted].filter(([pid]) => /^(containerd-shim|conmon)/.test(candidates.get(pid)!.label)));
  for (const pid of candidates.keys()) {
    if (counted.has(pid)) continue;
    // Walk up at most a few generations: sandbox and gofer sit under runsc under the shim.
    for (let p = parents.get(pid), depth = 0; p !== undefined && p > 1 && depth < 8; p = parents.get(p), depth += 1) {
      if (shims.has(p)) {
        counted.set(pid, shims.get(p)!);
        break;
      }
    }
  }
  return counted;
}

async function readOnce(proc: string, hz: number, seen: Map<number, Seen>, baselineOnly: boolean, scope: SamplerScope): Promise<Tagged[]> {
  const entries = (await readdir(proc)).filter((name) => /^\d+$/.test(name));
  const [uptimeText] = await Promise.all([readFile(path.join(proc, 'uptime'), 'utf8').catch(() => '')]);
  const uptime = Number(uptimeText.split(' ')[0]);
  const nowNs = process.hrtime.bigint();
  const at = new Date().toISOString();
  const parents = new Map<number, number>();
  const candidates = new Map<number, Candidate>();
  await Promise.all(entries.map(async (name) => {
    const pid = Number(name);
    const dir = path.join(proc, name);
    let stat: ProcStat | null;
    try {
      stat = parseStat(pid, await readFile(path.join(dir, 'stat'), 'utf8'));
    } catch {
      return; // gone since the listing
    }
    if (!stat) return;
    parents.set(pid, stat.ppid);
    if (stat.state === 'Z' || stat.state === 'X' || !maybeInteresting(stat.comm)) return;
    const [cmdline, exe, status] = await Promise.all([
      readFile(path.join(dir, 'cmdline'), 'utf8').catch(() => ''),
      readlink(path.join(dir, 'exe')).catch(() => null),
      readFile(path.join(dir, 'status'), 'utf8').catch(() => null),
    ]);
    const argv = cmdline.split('\0').filter(Boolean);
    const label = classifyProcess(stat.comm, argv[0] ?? null, exe);
    const rssKb = status ? /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] : undefined;
    // Kernel threads and exiting processes have no VmRSS: nothing to report.
    if (label !== null && rssKb !== undefined) candidates.set(pid, { stat, label, argv, rssKb });
  }));
  const counted = inScope(candidates, parents, scope);
  const live = new Set<number>();
  const results: Tagged[] = [];
  for (const [pid, shimId] of counted) {
    const { stat, label, rssKb } = candidates.get(pid)!;
    live.add(pid);
    const before = seen.get(pid);
    const reused = before !== undefined && before.startTicks !== stat.startTicks;
    seen.set(pid, { cpuTicks: stat.cpuTicks, startTicks: stat.startTicks, atNs: nowNs });
    let cpuSeconds: number;
    let wallSeconds: number;
    if (before && !reused) {
      cpuSeconds = (stat.cpuTicks - before.cpuTicks) / hz;
      wallSeconds = Number(nowNs - before.atNs) / 1e9;
    } else {
      if (baselineOnly) continue;
      // New since the last reading: averaged over its own life so far.
      cpuSeconds = stat.cpuTicks / hz;
      wallSeconds = Number.isFinite(uptime) ? uptime - stat.startTicks / hz : Number.NaN;
    }
    // Uptime has 10 ms resolution: a process younger than one tick gets one tick of wall time.
    const cpuPercent = Number.isFinite(wallSeconds) ? (Math.max(0, cpuSeconds) / Math.max(wallSeconds, 1 / hz)) * 100 : 0;
    results.push({ reading: { at, process: label, pid, cpuPercent: Math.round(cpuPercent * 100) / 100, rssBytes: Number(rssKb) * 1024 }, shimId });
  }
  for (const pid of seen.keys()) if (!live.has(pid)) seen.delete(pid);
  return results.sort((a, b) => a.reading.pid - b.reading.pid);
}
