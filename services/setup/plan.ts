import { createHash } from 'node:crypto';
import { choose } from '../../knowledge/choices.ts';
import { findRecipe, RECIPES } from '../../knowledge/recipes/index.ts';
import type { Command, Daemon, Edit, ParsedRecipe, When } from '../../knowledge/schema.ts';
import { LabError } from '../../shared/lab-error.ts';
import { commandLine } from '../../shared/shell-quote.ts';
import { daemonArgv } from './daemon-commands.ts';
import { renderEdit } from './edits.ts';
import { backupFileArgv, readFileArgv, writeFileArgv } from './file-ops.ts';
import type { HostContext } from './host-context.ts';
import { withPrivilege } from './privilege.ts';
import { renderArgv, renderScript, renderText, validateParamValue, type ParamValue, type Params } from './template.ts';

// A setup plan: the chosen recipes (plus what they require) in order, their parameters
// resolved for this host, and every command each step would run, rendered exactly as it
// will run (sudo included). The dry run prints this; the runner executes nothing else.

export interface PlannedCommand {
  argv: string[];
  /** The argv as one shell-quoted line: what the dry run and the live log show. */
  display: string;
  stdinPrefix?: string;
}

export interface PlannedEdit {
  edit: Edit;
  read: PlannedCommand;
  backup: PlannedCommand | null;
  write: PlannedCommand;
}

export interface PlannedStep {
  key: string;
  recipeId: string;
  stepId: string;
  phase: 'step' | 'verify';
  title: string;
  why: string;
  /** Why the step does not apply to this host or setup, or null. */
  skip: string | null;
  check: PlannedCommand | null;
  apply: PlannedCommand[];
  edits: PlannedEdit[];
  afterChange: PlannedCommand[];
  onCancel: PlannedCommand[];
  timeoutMs: number;
  expectOutput: string | undefined;
}

export interface SetupPlan {
  /** Stable for the same recipes and versions: names the journal on the host. */
  id: string;
  recipes: ParsedRecipe[];
  params: Record<string, ParamValue>;
  /** Why a host-dependent default was chosen (runsc platform...). */
  paramNotes: Record<string, string>;
  /** Parameters set by the user or by an applied auto-fix. */
  overrides: Record<string, ParamValue>;
  steps: PlannedStep[];
  labDir: string;
}

export interface PlanOptions {
  recipes: readonly string[];
  params?: Readonly<Record<string, ParamValue>>;
}

export function planSetup(context: HostContext, options: PlanOptions): SetupPlan {
  const recipes = orderRecipes(options.recipes);
  const overrides = { ...(options.params ?? {}) };
  const { params, notes } = resolveParams(recipes, context, overrides);
  const daemons = new Map(recipes.flatMap((r) => r.daemons.map((d) => [d.id, d] as const)));
  const ids = new Set(recipes.map((r) => r.id));
  const render = (command: Command, needsRoot: boolean) => renderCommand(command, needsRoot, params, daemons, context);

  const steps = recipes.flatMap((recipe) =>
    [...recipe.steps.map((s) => ({ s, phase: 'step' as const })), ...recipe.verify.map((s) => ({ s, phase: 'verify' as const }))].map(({ s, phase }) => {
      const skip = skipReason(s.when, context, ids, params);
      const planned: PlannedStep = {
        key: `${recipe.id}/${s.id}`,
        recipeId: recipe.id,
        stepId: s.id,
        phase,
        title: s.title,
        why: s.why,
        skip,
        check: null,
        apply: [],
        edits: [],
        afterChange: [],
        onCancel: [],
        timeoutMs: s.timeoutMs,
        expectOutput: s.expectOutput === undefined ? undefined : renderText(s.expectOutput, params),
      };
      // A skipped step may name parameters of recipes that are not in the plan: not rendered.
      if (skip !== null) return planned;
      return {
        ...planned,
        check: s.check ? render(s.check, s.needsRoot) : null,
        apply: s.apply.map((c) => render(c, s.needsRoot)),
        edits: s.edits.map((e) => planEdit(renderEdit(e, params), s.backup, s.needsRoot, String(params.labDir), context)),
        afterChange: s.afterChange.map((c) => render(c, s.needsRoot)),
        onCancel: s.onCancel.map((c) => render(c, s.needsRoot)),
      };
    }),
  );
  const id = createHash('sha256').update(recipes.map((r) => `${r.id}@${r.version}`).join(',')).digest('hex').slice(0, 12);
  return { id, recipes, params, paramNotes: notes, overrides, steps, labDir: String(params.labDir) };
}

/** The chosen recipes plus everything they require, each after what it requires or follows. */
function orderRecipes(ids: readonly string[]): ParsedRecipe[] {
  const wanted = new Map<string, ParsedRecipe>();
  const add = (id: string) => {
    if (wanted.has(id)) return;
    const recipe = findRecipe(id);
    if (!recipe) {
      throw new LabError('invalid-input', `No recipe "${id}". Known: ${RECIPES.map((r) => r.id).join(', ')}.`);
    }
    wanted.set(id, recipe);
    recipe.requires.forEach(add);
  };
  ids.forEach(add);
  const ordered: ParsedRecipe[] = [];
  const visiting = new Set<string>();
  const visit = (recipe: ParsedRecipe) => {
    if (ordered.includes(recipe)) return;
    if (visiting.has(recipe.id)) throw new LabError('internal', `recipes depend on each other in a circle at ${recipe.id}`);
    visiting.add(recipe.id);
    for (const before of [...recipe.requires, ...recipe.after]) {
      const dependency = wanted.get(before);
      if (dependency) visit(dependency);
    }
    ordered.push(recipe);
  };
  // Catalogue order breaks ties, so the same choice always gives the same plan.
  RECIPES.filter((r) => wanted.has(r.id)).forEach(visit);
  return ordered;
}

function resolveParams(recipes: ParsedRecipe[], context: HostContext, overrides: Readonly<Record<string, ParamValue>>) {
  const { facts, probes } = context;
  const params: Record<string, ParamValue> = {
    // First, since other defaults are built from it.
    labDir: overrides.labDir ?? `${context.home}/.runtime-lab`,
    arch: facts.os.arch,
    goArch: ({ x86_64: 'amd64', aarch64: 'arm64' } as Record<string, string>)[facts.os.arch] ?? facts.os.arch,
    kernel: facts.os.kernel,
  };
  const notes: Record<string, string> = {};
  for (const param of recipes.flatMap((r) => r.params)) {
    if (param.chooser) {
      const choice = choose(param.chooser, facts, probes);
      params[param.name] = choice.value;
      notes[param.name] = choice.reason;
    } else {
      // String defaults may name the built-ins ("{{labDir}}/bundle").
      params[param.name] = typeof param.default === 'string' ? renderText(param.default, params) : param.default;
    }
  }
  // A parameter of a recipe outside this plan is ignored (one set of settings can serve
  // several setups); a name no recipe declares is a typo and refused.
  const catalogue = new Set(RECIPES.flatMap((r) => r.params.map((p) => p.name)));
  for (const [name, value] of Object.entries(overrides)) {
    if (params[name] === undefined && catalogue.has(name)) continue;
    if (params[name] === undefined) {
      throw new LabError('invalid-input', `Unknown parameter "${name}". Known: ${[...new Set([...Object.keys(params), ...catalogue])].sort().join(', ')}.`);
    }
    if (typeof params[name] !== typeof value) throw new LabError('invalid-input', `Parameter ${name} takes ${typeof params[name] === 'string' ? 'one value' : 'a list'}.`);
    params[name] = value;
    delete notes[name];
  }
  for (const [name, value] of Object.entries(params)) validateParamValue(name, value);
  for (const param of recipes.flatMap((r) => r.params)) {
    const value = params[param.name];
    if (param.values && (typeof value !== 'string' || !param.values.includes(value))) {
      throw new LabError('invalid-input', `Parameter ${param.name} takes ${param.values.join(' or ')}, not "${String(value)}".`);
    }
  }
  return { params, notes };
}

function skipReason(when: When | undefined, context: HostContext, ids: ReadonlySet<string>, params: Params): string | null {
  if (!when) return null;
  const distro = context.facts.os.distroId;
  if (when.distros && !when.distros.includes(distro)) return `for ${when.distros.join('/')}, not ${distro}`;
  const missing = (when.planIncludes ?? []).filter((id) => !ids.has(id));
  if (missing.length > 0) return `only when ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} set up too`;
  for (const [name, value] of Object.entries(when.params ?? {})) {
    if (params[name] !== value) return `only when ${name}=${value} (it is ${String(params[name])})`;
  }
  return null;
}

function renderCommand(command: Command, needsRoot: boolean, params: Params, daemons: ReadonlyMap<string, Daemon>, context: HostContext): PlannedCommand {
  let argv: string[];
  if ('argv' in command) argv = renderArgv(command.argv, params);
  else if ('script' in command) argv = ['sh', '-c', renderScript(command.script, params)];
  else {
    const daemon = daemons.get(command.daemon);
    if (!daemon) throw new LabError('internal', `a step names daemon ${command.daemon}, which no recipe in this setup declares`);
    argv = daemonArgv(daemon, command.action, params, context.init);
  }
  return planned(argv, needsRoot, context);
}

function planned(argv: string[], needsRoot: boolean, context: HostContext): PlannedCommand {
  const wrapped = withPrivilege(argv, needsRoot, context.privilege);
  return { argv: wrapped.argv, display: commandLine(wrapped.argv), ...(wrapped.stdinPrefix !== undefined ? { stdinPrefix: wrapped.stdinPrefix } : {}) };
}

function planEdit(edit: Edit, backup: boolean, needsRoot: boolean, labDir: string, context: HostContext): PlannedEdit {
  return {
    edit,
    read: planned(readFileArgv(edit.path), needsRoot, context),
    backup: backup ? planned(backupFileArgv(edit.path, labDir), needsRoot, context) : null,
    write: planned(writeFileArgv(edit.path, edit.kind === 'file' ? edit.mode : null), needsRoot, context),
  };
}

/** The first step that renders differently in two plans of the same recipes (-1: none): where an auto-fix that changed parameters starts again. */
export function firstChangedStep(before: SetupPlan, after: SetupPlan): number {
  return after.steps.findIndex((s, i) => fingerprint(s) !== fingerprint(before.steps[i]));
}

/** The steps (not verification steps) that render differently in two plans of the same recipes: what a parameter change must apply again. */
export function changedSetupSteps(before: SetupPlan, after: SetupPlan): PlannedStep[] {
  return after.steps.filter((s, i) => s.phase === 'step' && fingerprint(s) !== fingerprint(before.steps[i]));
}

function fingerprint(step: PlannedStep | undefined): string {
  return JSON.stringify(step && [step.skip, step.check, step.apply, step.edits, step.afterChange]);
}
