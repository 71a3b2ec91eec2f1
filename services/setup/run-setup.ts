import { runCheck } from '../../knowledge/checks.ts';
import { LabError } from '../../shared/lab-error.ts';
import type { Transport } from '../transport/transport.ts';
import { diagnose, type Diagnosis } from './diagnose.ts';
import { applyEdit } from './edits.ts';
import { ABSENT_EXIT } from './file-ops.ts';
import type { HostContext } from './host-context.ts';
import { readJournal, writeJournal, type Journal } from './journal.ts';
import { firstChangedStep, planSetup, type PlanOptions, type PlannedCommand, type PlannedStep, type SetupPlan } from './plan.ts';
import { renderArgv, renderScript, type ParamValue } from './template.ts';
import { withPrivilege } from './privilege.ts';
import { commandLine } from '../../shared/shell-quote.ts';

// Runs a setup plan over a Transport, step by step: check (already done?), apply, edit
// config files (backed up first), reload what the edit affects, then the verification
// steps. Live output goes to onEvent as it arrives. A failing step's output is matched
// against the failure signatures; a safe auto-fix is applied once and the setup goes on
// from the first step it changes. The journal on the host lets a later run resume after a
// dropped connection; cancelling kills the running command and runs the step's cleanup.

export type StepOutcome = 'applied' | 'already-done' | 'skipped' | 'resumed' | 'failed' | 'cancelled';

export type SetupEvent =
  | { type: 'plan'; planId: string; resumedFrom: string | null }
  | { type: 'step-start'; key: string; title: string; why: string }
  | { type: 'command'; key: string; display: string }
  | { type: 'output'; key: string; stream: 'stdout' | 'stderr'; chunk: string }
  | { type: 'edit'; key: string; path: string; changed: boolean }
  | { type: 'step-end'; key: string; outcome: StepOutcome; detail: string }
  | { type: 'diagnosis'; key: string; diagnosis: Diagnosis | null }
  | { type: 'auto-fix'; key: string; signatureId: string; description: string };

export interface RunOptions {
  onEvent?: (event: SetupEvent) => void;
  signal?: AbortSignal;
  /** Apply safe auto-fixes of recognised failures (default true). */
  autoFix?: boolean;
  /** Ignore an unfinished journal and start from the first step (checks still skip what is done). */
  fresh?: boolean;
}

export interface SetupFailure {
  key: string;
  title: string;
  message: string;
  output: string;
  diagnosis: Diagnosis | null;
}

export interface SetupResult {
  planId: string;
  status: 'complete' | 'failed' | 'cancelled';
  steps: Array<{ key: string; outcome: StepOutcome; detail: string }>;
  failure: SetupFailure | null;
  autoFixes: Array<{ signatureId: string; description: string }>;
  /** Every parameter as finally used (defaults, the user's values, auto-fixes). */
  params: Record<string, ParamValue>;
}

type StepRun =
  | { ok: true; outcome: 'applied' | 'already-done'; detail: string }
  | { ok: false; message: string; output: string; timedOut: boolean };

const CLEANUP_TIMEOUT_MS = 60_000;

export async function runSetup(transport: Transport, context: HostContext, planOptions: PlanOptions, options: RunOptions = {}): Promise<SetupResult> {
  const emit = options.onEvent ?? (() => {});
  const firstPlan = planSetup(context, planOptions);
  const previous = options.fresh ? null : await readJournal(transport, firstPlan.labDir, firstPlan.id);
  const journal: Journal = {
    planId: firstPlan.id,
    recipes: firstPlan.recipes.map((r) => r.id),
    status: 'running',
    fixes: { ...previous?.fixes },
    // Only an unfinished run is resumed; after a complete one, the checks decide again.
    steps: previous && previous.status !== 'complete' ? previous.steps : {},
    updatedAt: '',
  };
  const paramsWithFixes = () => ({ ...planOptions.params, ...journal.fixes });
  let plan = planSetup(context, { ...planOptions, params: paramsWithFixes() });
  const resumable = new Set(Object.entries(journal.steps).filter(([, s]) => s.status === 'done').map(([key]) => key));
  const resumedFrom = resumable.size > 0 ? (plan.steps.find((s) => !s.skip && !resumable.has(s.key))?.key ?? null) : null;
  emit({ type: 'plan', planId: plan.id, resumedFrom });

  const mark = async (key: string, status: Journal['steps'][string]['status']) => {
    journal.steps[key] = { status, at: new Date().toISOString() };
    await writeJournal(transport, plan.labDir, journal);
  };
  const result: SetupResult = { planId: plan.id, status: 'complete', steps: [], failure: null, autoFixes: [], params: plan.params };
  const record = (key: string, outcome: StepOutcome, detail: string) => {
    result.steps.push({ key, outcome, detail });
    emit({ type: 'step-end', key, outcome, detail });
  };
  const fixed = new Set<string>();
  const runner = new StepRunner(transport, emit, options.signal);

  for (let i = 0; i < plan.steps.length;) {
    const step = plan.steps[i]!;
    if (options.signal?.aborted) return finish(result, journal, 'cancelled', transport, plan);
    if (step.skip !== null) {
      record(step.key, 'skipped', step.skip);
      i++;
      continue;
    }
    if (resumable.has(step.key)) {
      record(step.key, 'resumed', 'done in an earlier run (journal)');
      i++;
      continue;
    }
    emit({ type: 'step-start', key: step.key, title: step.title, why: step.why });
    await mark(step.key, 'started');
    const run = await runner.run(step);
    if (options.signal?.aborted) {
      await runner.cleanup(step);
      await mark(step.key, 'cancelled');
      record(step.key, 'cancelled', 'cancelled by the user; the step\'s cleanup ran');
      return finish(result, journal, 'cancelled', transport, plan);
    }
    if (run.ok) {
      await mark(step.key, 'done');
      record(step.key, run.outcome, run.detail);
      i++;
      continue;
    }

    const recipe = plan.recipes.find((r) => r.id === step.recipeId)!;
    const hostCheck = (id: string) => runCheck(id, { facts: context.facts, probes: context.probes }).verdict;
    const diagnosis = diagnose({ output: run.output, timedOut: run.timedOut }, recipe.id, recipe.signatures, plan.params, hostCheck);
    emit({ type: 'diagnosis', key: step.key, diagnosis });
    const fix = diagnosis?.signature.autoFix;
    if (diagnosis && fix && options.autoFix !== false && !fixed.has(diagnosis.signature.id)) {
      fixed.add(diagnosis.signature.id);
      emit({ type: 'auto-fix', key: step.key, signatureId: diagnosis.signature.id, description: fix.description });
      result.autoFixes.push({ signatureId: diagnosis.signature.id, description: fix.description });
      const params = { ...plan.params, ...diagnosis.groups };
      for (const command of fix.commands) {
        const argv = 'argv' in command ? renderArgv(command.argv, params) : 'script' in command ? ['sh', '-c', renderScript(command.script, params)] : null;
        if (!argv) throw new LabError('internal', `auto-fix of ${diagnosis.signature.id} names a daemon; fixes use argv or scripts`);
        const wrapped = withPrivilege(argv, fix.needsRoot, context.privilege);
        await runner.exec(step, { argv: wrapped.argv, display: commandLine(wrapped.argv), ...(wrapped.stdinPrefix !== undefined ? { stdinPrefix: wrapped.stdinPrefix } : {}) }, true);
      }
      if (Object.keys(fix.setParams).length > 0) {
        journal.fixes = { ...journal.fixes, ...fix.setParams };
        const next = planSetup(context, { ...planOptions, params: paramsWithFixes() });
        result.params = next.params;
        const changed = firstChangedStep(plan, next);
        plan = next;
        if (changed !== -1 && changed < i) i = changed;
      }
      const retryFrom = fix.retryFrom ? plan.steps.findIndex((s) => s.recipeId === step.recipeId && s.stepId === fix.retryFrom) : -1;
      if (retryFrom !== -1 && retryFrom < i) i = retryFrom;
      for (const s of plan.steps.slice(i)) resumable.delete(s.key);
      continue;
    }
    await mark(step.key, 'failed');
    record(step.key, 'failed', run.message);
    result.failure = { key: step.key, title: step.title, message: run.message, output: run.output, diagnosis };
    return finish(result, journal, 'failed', transport, plan);
  }
  return finish(result, journal, 'complete', transport, plan);
}

async function finish(result: SetupResult, journal: Journal, status: SetupResult['status'], transport: Transport, plan: SetupPlan): Promise<SetupResult> {
  journal.status = status;
  await writeJournal(transport, plan.labDir, journal);
  return { ...result, status };
}

class StepRunner {
  readonly #transport: Transport;
  readonly #emit: (event: SetupEvent) => void;
  readonly #signal: AbortSignal | undefined;

  constructor(transport: Transport, emit: (event: SetupEvent) => void, signal: AbortSignal | undefined) {
    this.#transport = transport;
    this.#emit = emit;
    this.#signal = signal;
  }

  async run(step: PlannedStep): Promise<StepRun> {
    const checkPassed = step.check ? (await this.exec(step, step.check, false)).exitCode === 0 : false;
    const pending: Array<{ index: number; content: string }> = [];
    for (const [index, edit] of step.edits.entries()) {
      const read = await this.exec(step, edit.read, false);
      if (read.exitCode !== 0 && read.exitCode !== ABSENT_EXIT) return failure(`could not read ${edit.edit.path}`, read);
      const current = read.exitCode === ABSENT_EXIT ? null : read.stdout;
      const next = applyEdit(edit.edit, current);
      if (next !== current) pending.push({ index, content: next });
      else this.#emit({ type: 'edit', key: step.key, path: edit.edit.path, changed: false });
    }
    const idempotent = step.check !== null || step.edits.length > 0;
    if (idempotent && (step.check === null || checkPassed) && pending.length === 0) {
      return { ok: true, outcome: 'already-done', detail: 'already done: nothing changed' };
    }

    let last: Awaited<ReturnType<StepRunner['exec']>> | null = null;
    if (!checkPassed) {
      for (const command of step.apply) {
        last = await this.exec(step, command, true);
        if (last.exitCode !== 0) return failure(last.timedOut ? `timed out after ${Math.round(step.timeoutMs / 1000)} s` : `exited with ${last.exitCode ?? last.signal}`, last);
      }
    }
    for (const { index, content } of pending) {
      const edit = step.edits[index]!;
      if (edit.backup) {
        const backup = await this.exec(step, edit.backup, true);
        if (backup.exitCode !== 0) return failure(`could not back up ${edit.edit.path}`, backup);
      }
      const write = await this.exec(step, edit.write, true, content);
      if (write.exitCode !== 0) return failure(`could not write ${edit.edit.path}`, write);
      this.#emit({ type: 'edit', key: step.key, path: edit.edit.path, changed: true });
    }
    if (pending.length > 0) {
      for (const command of step.afterChange) {
        const after = await this.exec(step, command, true);
        if (after.exitCode !== 0) return failure(`exited with ${after.exitCode ?? after.signal}`, after);
      }
    }
    if (step.expectOutput !== undefined && last && !`${last.stdout}${last.stderr}`.includes(step.expectOutput)) {
      return failure(`the output does not contain "${step.expectOutput}"`, last);
    }
    const changed = pending.map((p) => step.edits[p.index]!.edit.path);
    return { ok: true, outcome: 'applied', detail: changed.length > 0 ? `done; changed ${changed.join(', ')}` : 'done' };
  }

  /** Runs a step's cleanup after a cancel: not cancellable itself, bounded in time. */
  async cleanup(step: PlannedStep): Promise<void> {
    for (const command of step.onCancel) {
      this.#emit({ type: 'command', key: step.key, display: command.display });
      await this.#transport.exec(command.argv, { timeoutMs: CLEANUP_TIMEOUT_MS, ...(command.stdinPrefix ? { stdin: command.stdinPrefix } : {}) }).catch(() => undefined);
    }
  }

  async exec(step: PlannedStep, command: PlannedCommand, live: boolean, input = '') {
    if (live) this.#emit({ type: 'command', key: step.key, display: command.display });
    const stdin = `${command.stdinPrefix ?? ''}${input}`;
    const stream = (kind: 'stdout' | 'stderr') => (chunk: string) => this.#emit({ type: 'output', key: step.key, stream: kind, chunk });
    try {
      return await this.#transport.exec(command.argv, {
        timeoutMs: step.timeoutMs,
        ...(stdin !== '' ? { stdin } : {}),
        ...(this.#signal ? { signal: this.#signal } : {}),
        ...(live ? { onStdout: stream('stdout'), onStderr: stream('stderr') } : {}),
      });
    } catch (err) {
      // The SSH transport rejects an aborted command; the caller sees the abort on the signal.
      if (this.#signal?.aborted) return { exitCode: null, signal: 'SIGKILL', stdout: '', stderr: '', timedOut: false };
      throw err;
    }
  }
}

function failure(message: string, result: { stdout: string; stderr: string; timedOut: boolean }): StepRun {
  return { ok: false, message, output: `${result.stdout}${result.stderr}`, timedOut: result.timedOut };
}
