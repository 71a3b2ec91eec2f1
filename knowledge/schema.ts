import { z } from 'zod';

// The knowledge base as typed data. A recipe says what to run on a host to install and
// wire one runtime or component; the setup engine (services/setup/) renders and runs it.
// Nothing here executes anything: recipes are validated with these schemas when loaded,
// and the static tests (bash -n, shellcheck, URL and version checks) read the same data.
//
// Templates: `{{name}}` in an argv element, a file or a JSON value is replaced by the
// parameter's value; an argv element that is exactly `{{@name}}` spreads a list
// parameter. Scripts never get values spliced into their text: the engine prepends
// `name='value'` assignments (quoted with shared/shell-quote.ts) for every parameter the
// script mentions as `$name` or `${name}`, so a script quotes "$name" like any shell code.

export const METHODS = ['oci-direct', 'ctr', 'docker', 'cri'] as const;
export const Method = z.enum(METHODS);
export type Method = z.infer<typeof Method>;

const Id = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/);
/** Parameter names double as shell variable names in scripts: lower camelCase. */
const ParamName = z.string().regex(/^[a-z][A-Za-z0-9]*$/);

export const DaemonAction = z.enum(['start', 'stop', 'restart', 'reload', 'running']);
export type DaemonAction = z.infer<typeof DaemonAction>;

export const Command = z.union([
  z.strictObject({ argv: z.array(z.string().min(1)).min(1) }),
  /** A POSIX sh script, run as `sh -c SCRIPT`. */
  z.strictObject({ script: z.string().min(1) }),
  /** A daemon of some recipe in the plan, started/stopped the host's way (systemd or setsid + pidfile). */
  z.strictObject({ daemon: Id, action: DaemonAction }),
]);
export type Command = z.infer<typeof Command>;

export const Param = z.strictObject({
  name: ParamName,
  description: z.string().min(1),
  /** A list default makes a list parameter, usable only as a whole argv element `{{@name}}`. */
  default: z.union([z.string(), z.array(z.string())]),
  /** Name of a chooser in knowledge/choices.ts that picks the default from the host's facts. */
  chooser: z.string().optional(),
  /** The only values the parameter takes (one templated bare into TOML, say `true`/`false`). */
  values: z.array(z.string()).min(1).optional(),
});
export type Param = z.infer<typeof Param>;

/** An edit is a pure function of the file's current content; a step whose edits change nothing is already done. */
export const Edit = z.discriminatedUnion('kind', [
  /** Deep-merge an object into a JSON file (missing file = `{}`); string values are templates. */
  z.strictObject({ kind: z.literal('json-merge'), path: z.string().min(1), value: z.record(z.string(), z.unknown()) }),
  /**
   * A block between `# BEGIN runtime-lab MARKER` and `# END runtime-lab MARKER`, replaced or
   * appended. `exclusive` drops everything outside runtime-lab blocks (the file's original
   * content stays in the backup): for configs whose tables cannot be declared twice (TOML).
   */
  z.strictObject({
    kind: z.literal('managed-block'),
    path: z.string().min(1),
    marker: Id,
    content: z.string(),
    exclusive: z.boolean().default(false),
  }),
  /** The whole file. */
  z.strictObject({ kind: z.literal('file'), path: z.string().min(1), content: z.string(), mode: z.number().int().default(0o644) }),
]);
export type Edit = z.infer<typeof Edit>;

export const When = z.strictObject({
  /** os-release ID values this step is for. */
  distros: z.array(z.string()).optional(),
  /** Only when these recipes are part of the same setup (wiring a runtime into Docker, say). */
  planIncludes: z.array(Id).optional(),
  /** Only when parameters have these values. */
  params: z.record(z.string(), z.string()).optional(),
});
export type When = z.infer<typeof When>;

export const Step = z.strictObject({
  id: Id,
  title: z.string().min(1),
  /** Why the step exists, in the words the user reads before it runs. */
  why: z.string().min(1),
  when: When.optional(),
  /** Exits 0 when the step's work is already there: the step is then skipped ("already done"). */
  check: Command.optional(),
  apply: z.array(Command).default([]),
  edits: z.array(Edit).default([]),
  /** Config files under the lab's own folder need no backup; everything else is backed up before the first edit. */
  backup: z.boolean().default(true),
  /** Run only when an edit changed a file (reload a daemon after its config changed). */
  afterChange: z.array(Command).default([]),
  /** Run when the user cancels during this step, to leave the host clean. */
  onCancel: z.array(Command).default([]),
  needsRoot: z.boolean(),
  timeoutMs: z.number().int().positive().default(300_000),
  /** Text the last apply command's output must contain (a smoke test's "Hello"). */
  expectOutput: z.string().optional(),
});
export type Step = z.infer<typeof Step>;
export type StepInput = z.input<typeof Step>;

export const Daemon = z.strictObject({
  id: Id,
  /** The unit to use when systemd is PID 1. */
  systemdUnit: z.string().min(1),
  /** Command line when there is no systemd: started with setsid, pid kept under {{labDir}}/daemons. */
  argv: z.array(z.string().min(1)).min(1),
  /** Exits 0 once the daemon answers. */
  ready: z.array(z.string().min(1)).min(1),
  readyTimeoutMs: z.number().int().positive().default(30_000),
  /** SIGHUP re-reads the config (dockerd); otherwise "reload" restarts. */
  reloadsOnHup: z.boolean().default(false),
  /** Text in the command line of the shims this daemon leaves (its socket path): killed with it on stop. */
  shimMarker: z.string().optional(),
});
export type Daemon = z.infer<typeof Daemon>;

export const CheckRef = z.strictObject({
  id: Id,
  /** Whether a failing check blocks the recipe (fail) or only warns. */
  required: z.boolean().default(true),
  args: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});
export type CheckRef = z.infer<typeof CheckRef>;

export const MethodSupport = z.strictObject({
  method: Method,
  /** Tools (shared/model/host-facts.ts ToolId) that must be installed for this method. */
  tools: z.array(z.string()).default([]),
  /** Recipes that provide the method's plumbing (containerd, docker). */
  recipes: z.array(Id).default([]),
  /** Extra checks for this method only (KVM for Kata through ctr is the recipe's own). */
  checks: z.array(Id).default([]),
  note: z.string().optional(),
  /** Why this runtime cannot be used through this method at all. */
  unsupported: z.string().optional(),
});
export type MethodSupport = z.infer<typeof MethodSupport>;

export const Download = z.strictObject({ url: z.string().url() });

export const Recipe = z.strictObject({
  id: Id,
  title: z.string().min(1),
  /** The recipe's own version: bump when its steps change, so journals of an older version are not resumed. */
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  kind: z.enum(['runtime', 'component']),
  /** The runtime binary (a host-facts ToolId) the doctor looks for. */
  tool: z.string().optional(),
  appliesTo: z.array(z.strictObject({ distro: z.string(), versions: z.array(z.string()).min(1) })).min(1),
  /** Recipes that must run first and are added to the plan when missing. */
  requires: z.array(Id).default([]),
  /** Recipes that, when also chosen, run before this one. */
  after: z.array(Id).default([]),
  params: z.array(Param).default([]),
  prerequisites: z.array(CheckRef).default([]),
  /** Hosts the steps download from: their reachability is a prerequisite. */
  downloads: z.array(Download).default([]),
  daemons: z.array(Daemon).default([]),
  steps: z.array(Step).min(1),
  verify: z.array(Step).default([]),
  signatures: z.array(Id).default([]),
  methods: z.array(MethodSupport).default([]),
  /** Ran end to end on a real host by the test suite, or only checked statically (and why). */
  status: z.union([z.strictObject({ ran: z.literal(true) }), z.strictObject({ ran: z.literal(false), why: z.string().min(1) })]),
});
export type Recipe = z.input<typeof Recipe>;
export type ParsedRecipe = z.infer<typeof Recipe>;

export const AutoFix = z.strictObject({
  /** What the fix does, shown before and after it is applied. */
  description: z.string().min(1),
  /** Parameters to change for the rest of the setup. */
  setParams: z.record(ParamName, z.string()).default({}),
  /** Commands to run first; `{{match.NAME}}` is the pattern's named group NAME. */
  commands: z.array(Command).default([]),
  needsRoot: z.boolean().default(true),
  /** Step of the failing recipe to start again from (default: the failing step). */
  retryFrom: Id.optional(),
});
export type AutoFix = z.infer<typeof AutoFix>;

export const FailureSignature = z.strictObject({
  id: Id,
  /** Exact error text (substring), or a regular expression's source. */
  pattern: z.union([z.strictObject({ text: z.string().min(1) }), z.strictObject({ regex: z.string().min(1), flags: z.string().optional() })]).optional(),
  /** Matches a step killed by its time limit (a hang has no error text). */
  timedOut: z.boolean().default(false),
  /** Only for steps of these recipes, or when these parameters have these values. */
  recipes: z.array(Id).optional(),
  params: z.record(z.string(), z.string()).optional(),
  /** Only on hosts where this prerequisite check (knowledge/checks.ts) is not ok: for a text that has other causes too. */
  hostCheck: Id.optional(),
  meaning: z.string().min(1),
  fix: z.string().min(1),
  /** Present only when the fix is safe to apply without asking. */
  autoFix: AutoFix.optional(),
  source: z.string().min(1),
}).refine((s) => s.pattern !== undefined || s.timedOut, { message: 'a signature needs a pattern or timedOut' });
export type FailureSignature = z.input<typeof FailureSignature>;
export type ParsedSignature = z.infer<typeof FailureSignature>;
