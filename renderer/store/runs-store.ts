import { create } from 'zustand';
import type { LabEvent, RunPhase } from '../../shared/contract/ipc-contract.ts';
import { CRI_STEPS, PERF_KERNELS, type Plan } from '../../shared/model/plan.ts';
import type { Sample } from '../../shared/model/run-record.ts';
import type { RunListItem, RunMeta, RunStatus } from '../../shared/model/run.ts';
import { asLabError, call } from '../lab-client.ts';
import { addLiveExtras, storeRunExtras } from '../components/bench/run-extras.ts';

// Runs as the renderer sees them: the stored list, and every run it has heard of or opened,
// fed live by run:* events. A run can reach tens of thousands of samples, so its sample
// array is appended in place (never copied per event); `rev` says "more arrived" and
// `epoch` says "the array was rebuilt" (a stored copy merged in), so a chart appends the
// tail it has not drawn yet, or redraws from scratch on a new epoch.

export const TERMINAL_PHASES: readonly RunPhase[] = ['completed', 'aborted', 'failed'];
const MAX_LOG_LINES = 2_000;

export interface RunLogLine {
  id: number;
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface RuntimeCounts {
  ok: number;
  failed: number;
  warmups: number;
  warmupFailed: number;
}

export interface LiveRun {
  runId: string;
  /** The last run:phase heard, or one derived from the stored status. */
  phase: RunPhase | null;
  message: string | null;
  /** The stored record, once runs:get has answered. */
  meta: RunMeta | null;
  /** What was asked: from the start call or from the stored record. */
  plan: Plan | null;
  hostName: string | null;
  /** Whether main is following the run on its host right now. */
  following: boolean;
  /** In seq order. Appended in place: read it together with `rev`/`epoch`, never keep a copy. */
  samples: Sample[];
  rev: number;
  epoch: number;
  counts: Record<string, RuntimeCounts>;
  logs: RunLogLine[];
  /** When this renderer first heard of the run (ms since epoch). */
  firstSeenAt: number;
  loading: boolean;
  loadError: string | null;
}

export interface BenchDraft {
  hostId: string | null;
  /** Runtime name → picked; a runtime absent here is picked (every runtime found, by default). */
  picked: Record<string, boolean>;
  /** Runtime name → global flags as typed. */
  flags: Record<string, string>;
  /** Numbers as typed (validated when the plan is built). */
  iterations: string;
  warmups: string;
  order: 'round-robin' | 'random';
  seed: string;
  timeoutSec: string;
}

interface RunsState {
  runs: Record<string, LiveRun>;
  list: RunListItem[];
  listLoaded: boolean;
  listError: string | null;
  /** The run the Benchmarks page shows. */
  activeRunId: string | null;
  /**
   * Set while runs:start is on its way (deploying can take a while): the runs heard of
   * before it was called, so the new run's first events can be told apart.
   */
  starting: { known: ReadonlySet<string>; hostName: string } | null;
  startError: string | null;
  /** The run the Results page has open. */
  selectedRunId: string | null;
  draft: BenchDraft;

  applyEvent(event: LabEvent): void;
  loadList(): Promise<void>;
  open(runId: string): Promise<void>;
  select(runId: string | null): void;
  /** Starts a run; resolves with its id, or null when it could not start (see startError). */
  start(hostId: string, hostName: string, plan: Plan): Promise<string | null>;
  abort(runId: string): Promise<void>;
  remove(runId: string): Promise<void>;
  setActive(runId: string | null): void;
  setDraft(patch: Partial<BenchDraft>): void;
}

// Seqs each run already holds, so that a sample heard live and read back from the store
// (or sent twice) is kept once. Beside the state: never rendered, only consulted.
const seen = new Map<string, Set<number>>();
let logId = 0;

function seenOf(runId: string): Set<number> {
  let set = seen.get(runId);
  if (!set) {
    set = new Set();
    seen.set(runId, set);
  }
  return set;
}

function emptyRun(runId: string): LiveRun {
  return {
    runId,
    phase: null,
    message: null,
    meta: null,
    plan: null,
    hostName: null,
    following: false,
    samples: [],
    rev: 0,
    epoch: 0,
    counts: {},
    logs: [],
    firstSeenAt: Date.now(),
    loading: false,
    loadError: null,
  };
}

function countInto(counts: Record<string, RuntimeCounts>, s: Sample): void {
  // Iterations, not parts of them: a CRI call or perf kernel is counted with its whole iteration.
  if (s.step != null) return;
  const c = (counts[s.runtime] ??= { ok: 0, failed: 0, warmups: 0, warmupFailed: 0 });
  if (s.warmup) {
    c.warmups++;
    if (!s.ok) c.warmupFailed++;
  } else if (s.ok) c.ok++;
  else c.failed++;
}

function countAll(samples: readonly Sample[]): Record<string, RuntimeCounts> {
  const counts: Record<string, RuntimeCounts> = {};
  for (const s of samples) countInto(counts, s);
  return counts;
}

function phaseOfStatus(status: RunStatus, following: boolean): RunPhase {
  if (status === 'running') return following ? 'running' : 'detached';
  return status;
}

export function isTerminal(phase: RunPhase | null): boolean {
  return phase !== null && TERMINAL_PHASES.includes(phase);
}

/**
 * What a run will record: its samples (every runtime's warm-ups and measured iterations,
 * each with one sample per CRI call or perf kernel besides the whole, once per storage
 * driver), or a memory plan's steps (one per runtime and container count).
 */
export function plannedTotal(plan: Plan | null): number {
  if (!plan) return 0;
  if (plan.memory) return plan.runtimes.length * plan.memory.containers.length;
  const perIteration = plan.method === 'cri' ? CRI_STEPS.length + 1 : plan.perf ? PERF_KERNELS.length + 1 : 1;
  const drivers = plan.docker?.storageDrivers?.length ?? 1;
  return plan.runtimes.length * (plan.iterations + plan.warmups) * perIteration * drivers;
}

const DEFAULT_DRAFT: BenchDraft = {
  hostId: null,
  picked: {},
  flags: {},
  iterations: '100',
  warmups: '3',
  order: 'round-robin',
  seed: '',
  timeoutSec: '30',
};

export const useRuns = create<RunsState>()((set, get) => {
  /** Applies `change` to the run (created if unknown) and stores a new run object. */
  const update = (runId: string, change: (run: LiveRun) => Partial<LiveRun>) =>
    set((s) => {
      const run = s.runs[runId] ?? emptyRun(runId);
      return { runs: { ...s.runs, [runId]: { ...run, ...change(run) } } };
    });

  const appendSamples = (runId: string, incoming: readonly Sample[]) => {
    const ids = seenOf(runId);
    update(runId, (run) => {
      const counts = { ...run.counts };
      let added = 0;
      let outOfOrder = false;
      let last = run.samples[run.samples.length - 1]?.seq ?? -1;
      for (const sample of incoming) {
        if (ids.has(sample.seq)) continue;
        ids.add(sample.seq);
        if (sample.seq < last) outOfOrder = true;
        last = Math.max(last, sample.seq);
        run.samples.push(sample);
        const c = counts[sample.runtime];
        counts[sample.runtime] = c ? { ...c } : { ok: 0, failed: 0, warmups: 0, warmupFailed: 0 };
        countInto(counts, sample);
        added++;
      }
      if (added === 0) return {};
      if (outOfOrder) {
        // Rare (a stored copy and live news crossing): keep seq order, and tell charts to redraw.
        const samples = [...run.samples].sort((a, b) => a.seq - b.seq);
        return { samples, counts, rev: run.rev + 1, epoch: run.epoch + 1 };
      }
      return { counts, rev: run.rev + 1 };
    });
  };

  /** A terminal phase: read the stored record again (status, versions, bundle) and the list. */
  const settle = (runId: string) => {
    const run = get().runs[runId];
    if (run?.meta || get().selectedRunId === runId) void get().open(runId);
    if (get().listLoaded) void get().loadList();
  };

  return {
    runs: {},
    list: [],
    listLoaded: false,
    listError: null,
    activeRunId: null,
    starting: null,
    startError: null,
    selectedRunId: null,
    draft: DEFAULT_DRAFT,

    applyEvent(event) {
      switch (event.type) {
        case 'run:phase': {
          const wasTerminal = isTerminal(get().runs[event.runId]?.phase ?? null);
          update(event.runId, () => ({
            phase: event.phase,
            message: event.message ?? null,
            following: !isTerminal(event.phase) && event.phase !== 'detached',
          }));
          if (isTerminal(event.phase) && !wasTerminal) settle(event.runId);
          else if (event.phase === 'running' && get().listLoaded && !get().list.some((r) => r.id === event.runId)) void get().loadList();
          break;
        }
        case 'run:samples':
          appendSamples(event.runId, event.samples);
          break;
        // Kept whether or not a view of the run is mounted: merged once, in the extras store.
        case 'run:extras':
          addLiveExtras(event.runId, event);
          break;
        case 'run:log':
          update(event.runId, (run) => {
            const line: RunLogLine = { id: ++logId, at: new Date().toISOString(), level: event.level, message: event.message };
            const logs = run.logs.length >= MAX_LOG_LINES ? [...run.logs.slice(-(MAX_LOG_LINES - 1)), line] : [...run.logs, line];
            return { logs };
          });
          break;
        default:
          break;
      }
    },

    async loadList() {
      try {
        const list = await call('runs:list', {});
        set({ list, listLoaded: true, listError: null });
      } catch (err) {
        set({ listLoaded: true, listError: asLabError(err).message });
      }
    },

    async open(runId) {
      update(runId, () => ({ loading: true, loadError: null }));
      try {
        const detail = await call('runs:get', { runId });
        storeRunExtras(runId, detail);
        const ids = seenOf(runId);
        update(runId, (run) => {
          const fresh = detail.samples.filter((s) => !ids.has(s.seq));
          for (const s of fresh) ids.add(s.seq);
          // Live phase news is more recent than the stored status while a run goes on.
          const livePhase = run.phase && !isTerminal(run.phase) && detail.meta.status === 'running' ? run.phase : null;
          const base = {
            meta: detail.meta,
            plan: detail.meta.plan,
            hostName: detail.meta.hostName,
            following: detail.following,
            phase: livePhase ?? phaseOfStatus(detail.meta.status, detail.following),
            message: livePhase ? run.message : (detail.meta.statusMessage ?? (detail.meta.status === 'running' && !detail.following ? 'The host is not reachable right now; the agent keeps measuring there. Connect to the host to read on.' : null)),
            loading: false,
          };
          if (fresh.length === 0) return base;
          const samples = run.samples.length === 0 ? [...detail.samples] : [...run.samples, ...fresh].sort((a, b) => a.seq - b.seq);
          return { ...base, samples, counts: countAll(samples), rev: run.rev + 1, epoch: run.epoch + 1 };
        });
      } catch (err) {
        update(runId, () => ({ loading: false, loadError: asLabError(err).message }));
      }
    },

    select(runId) {
      set({ selectedRunId: runId });
      if (runId) void get().open(runId);
    },

    async start(hostId, hostName, plan) {
      if (get().starting) return null;
      set({ starting: { known: new Set(Object.keys(get().runs)), hostName }, startError: null });
      try {
        const { runId } = await call('runs:start', { hostId, plan });
        update(runId, (run) => ({ plan: run.plan ?? plan, hostName, phase: run.phase ?? 'running' }));
        set({ activeRunId: runId, starting: null });
        if (get().listLoaded) void get().loadList();
        return runId;
      } catch (err) {
        set({ starting: null, startError: asLabError(err).message });
        return null;
      }
    },

    async abort(runId) {
      await call('runs:abort', { runId });
    },

    async remove(runId) {
      await call('runs:delete', { runId });
      seen.delete(runId);
      set((s) => {
        const runs = { ...s.runs };
        delete runs[runId];
        const index = s.list.findIndex((r) => r.id === runId);
        const list = s.list.filter((r) => r.id !== runId);
        const next = list[Math.min(Math.max(index, 0), list.length - 1)]?.id ?? null;
        return {
          runs,
          list,
          selectedRunId: s.selectedRunId === runId ? next : s.selectedRunId,
          activeRunId: s.activeRunId === runId ? null : s.activeRunId,
        };
      });
      const next = get().selectedRunId;
      if (next && !get().runs[next]?.meta) void get().open(next);
    },

    setActive(runId) {
      set({ activeRunId: runId });
    },

    setDraft(patch) {
      set((s) => ({ draft: { ...s.draft, ...patch } }));
    },
  };
});
