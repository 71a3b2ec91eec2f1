import { z } from 'zod';

// What the setup wizard exchanges with main: the recipe catalogue, the doctor's report,
// the dry-run plan as data, live progress, and the verified runtime × method matrix. The
// engine (services/setup/) keeps its own TypeScript types; these schemas are what crosses
// IPC, so they name only what the renderer needs and never a secret (the sudo password
// goes in with setup:run and never comes back out).

export const SETUP_METHODS = ['oci-direct', 'ctr', 'docker', 'cri'] as const;
export const SetupMethod = z.enum(SETUP_METHODS);
export type SetupMethod = z.infer<typeof SetupMethod>;

export const SetupId = z.string().regex(/^setup-[a-z0-9-]{6,64}$/);
export type SetupId = z.infer<typeof SetupId>;

const RecipeIdInput = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/).max(64);
/** Recipe parameters, as `runtime-lab setup --set` takes them: a value or a list. */
export const SetupParams = z.record(z.string().regex(/^[a-z][A-Za-z0-9]*$/).max(64), z.union([z.string().max(4096), z.array(z.string().max(4096)).max(64)]));
export type SetupParams = z.infer<typeof SetupParams>;
export const SetupRecipeList = z.array(RecipeIdInput).min(1).max(32);

// ---- The recipe catalogue -----------------------------------------------------------

export const RecipeMethodInfo = z.object({
  method: SetupMethod,
  /** Tools that must be installed for this method. */
  tools: z.array(z.string()),
  /** Recipes that provide the method's plumbing (containerd, docker, crictl). */
  recipes: z.array(z.string()),
  note: z.string().nullable(),
  /** Why this runtime cannot be used through this method at all, or null. */
  unsupported: z.string().nullable(),
});
export type RecipeMethodInfo = z.infer<typeof RecipeMethodInfo>;

export const RecipeInfo = z.object({
  id: z.string(),
  title: z.string(),
  version: z.string(),
  kind: z.enum(['runtime', 'component']),
  tool: z.string().nullable(),
  /** Recipes added to the plan with this one. */
  requires: z.array(z.string()),
  /** Recipes that run first when also chosen. */
  after: z.array(z.string()),
  prerequisites: z.array(z.object({ id: z.string(), required: z.boolean() })),
  methods: z.array(RecipeMethodInfo),
  params: z.array(z.object({ name: z.string(), description: z.string(), default: z.union([z.string(), z.array(z.string())]) })),
  /** Distributions the recipe is written for ("debian 11/12"). */
  appliesTo: z.array(z.string()),
  /** Ran end to end on a real host by the test suite, or why not. */
  ran: z.boolean(),
  notRunWhy: z.string().nullable(),
});
export type RecipeInfo = z.infer<typeof RecipeInfo>;

// ---- The doctor ---------------------------------------------------------------------

export const CheckVerdict = z.enum(['ok', 'warn', 'fail']);
export type CheckVerdict = z.infer<typeof CheckVerdict>;

export const CheckResultView = z.object({
  id: z.string(),
  title: z.string(),
  verdict: CheckVerdict,
  reason: z.string(),
  fix: z.string().optional(),
});
export type CheckResultView = z.infer<typeof CheckResultView>;

export const MatrixCellView = z.object({ status: z.enum(['works', 'fails', 'unknown']), reason: z.string() });
export type MatrixCellView = z.infer<typeof MatrixCellView>;

const cells = <T extends z.ZodType>(cell: T) => z.object({ 'oci-direct': cell, ctr: cell, docker: cell, cri: cell });

/** services/setup/doctor.ts DoctorReport, plus how root is reached on the host. */
export const DoctorReportView = z.object({
  host: z.string(),
  checks: z.array(CheckResultView),
  recipes: z.array(z.object({ id: z.string(), title: z.string(), kind: z.enum(['runtime', 'component']), prerequisites: z.array(CheckResultView) })),
  /** Derived from facts and checks only: "works" here means installed with every prerequisite met. */
  matrix: z.array(z.object({ runtime: z.string(), title: z.string(), cells: cells(MatrixCellView) })),
  access: z.object({
    user: z.string(),
    /** root, passwordless sudo, sudo with the password given this session, or no way yet. */
    mode: z.enum(['root', 'sudo', 'sudo-password', 'none']),
  }),
  collectedAt: z.string(),
});
export type DoctorReportView = z.infer<typeof DoctorReportView>;

// ---- The dry-run plan ---------------------------------------------------------------

export const PlannedEditView = z.object({
  path: z.string(),
  kind: z.enum(['json-merge', 'managed-block', 'file']),
  read: z.string(),
  backup: z.string().nullable(),
  write: z.string(),
});

export const PlannedStepView = z.object({
  key: z.string(),
  recipeId: z.string(),
  stepId: z.string(),
  phase: z.enum(['step', 'verify']),
  title: z.string(),
  why: z.string(),
  /** Why the step does not apply here, or null. */
  skip: z.string().nullable(),
  /** Every command line exactly as the runner executes it. */
  check: z.string().nullable(),
  apply: z.array(z.string()),
  edits: z.array(PlannedEditView),
  afterChange: z.array(z.string()),
  onCancel: z.array(z.string()),
  timeoutMs: z.number(),
  expectOutput: z.string().nullable(),
  /** Its check passed and its edits change nothing right now (null: not known, or the step always runs). */
  alreadyDone: z.boolean().nullable(),
});
export type PlannedStepView = z.infer<typeof PlannedStepView>;

export const SetupPlanView = z.object({
  planId: z.string(),
  host: z.string(),
  recipes: z.array(z.object({ id: z.string(), title: z.string(), version: z.string() })),
  params: SetupParams,
  /** Why a host-dependent default was chosen (runsc's platform…). */
  paramNotes: z.record(z.string(), z.string()),
  /** Parameters fixed by an earlier run's auto-fix (kept in the journal on the host). */
  fixes: z.record(z.string(), z.string()),
  steps: z.array(PlannedStepView),
  /** Root is needed and there is no way to it yet: ask for the sudo password before running. */
  needsSudoPassword: z.boolean(),
  /** The whole dry run as text (what `runtime-lab setup --dry-run` prints). */
  text: z.string(),
});
export type SetupPlanView = z.infer<typeof SetupPlanView>;

// ---- Verify: the matrix from real runs ----------------------------------------------

export const VerifyEvidence = z.object({
  /** The command lines that ran, as shown in the dry run. */
  commands: z.array(z.string()),
  exitCode: z.number().nullable(),
  durationMs: z.number(),
  /** The end of the combined output. */
  output: z.string(),
});
export type VerifyEvidence = z.infer<typeof VerifyEvidence>;

export const VerifyCell = z.object({
  status: z.enum(['works', 'fails', 'unknown']),
  /** Why, in a sentence: the runtime's own error line for a failure. */
  reason: z.string(),
  /** The recognised failure's meaning and fix, when the output matched a signature. */
  signatureId: z.string().nullable(),
  meaning: z.string().nullable(),
  fix: z.string().nullable(),
  /** A safe auto-fix that made it work (e.g. runsc --network=none), or null. */
  autoFixed: z.string().nullable(),
  evidence: VerifyEvidence.nullable(),
});
export type VerifyCell = z.infer<typeof VerifyCell>;

// ---- Live progress ------------------------------------------------------------------

export const StepOutcome = z.enum(['applied', 'already-done', 'skipped', 'resumed', 'failed', 'cancelled']);
export type StepOutcome = z.infer<typeof StepOutcome>;

export const DiagnosisView = z.object({
  signatureId: z.string(),
  /** The output line that matched. */
  excerpt: z.string(),
  meaning: z.string(),
  fix: z.string(),
  source: z.string(),
  /** What the safe auto-fix does, when the signature has one. */
  autoFix: z.string().nullable(),
});
export type DiagnosisView = z.infer<typeof DiagnosisView>;

export const SetupStatus = z.enum(['running', 'complete', 'failed', 'cancelled']);
export type SetupStatus = z.infer<typeof SetupStatus>;

export const SetupFailureView = z.object({
  key: z.string(),
  title: z.string(),
  message: z.string(),
  /** The failed command's last output. */
  output: z.string(),
  diagnosis: DiagnosisView.nullable(),
});
export type SetupFailureView = z.infer<typeof SetupFailureView>;

export const SetupRunEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('setup:started'),
    setupId: SetupId,
    hostId: z.string(),
    planId: z.string(),
    recipes: z.array(z.string()),
    /** A run after a dropped connection resumes here (journal), or null. */
    resumedFrom: z.string().nullable(),
  }),
  z.object({ type: z.literal('setup:step-started'), setupId: SetupId, key: z.string(), title: z.string(), why: z.string() }),
  /** Live output of the step's commands; `command` is the line about to run, `note` the engine's own remark. */
  z.object({ type: z.literal('setup:output'), setupId: SetupId, key: z.string(), stream: z.enum(['command', 'stdout', 'stderr', 'note']), text: z.string() }),
  z.object({ type: z.literal('setup:step-finished'), setupId: SetupId, key: z.string(), outcome: StepOutcome, detail: z.string() }),
  /** A step failed: the recognised failure (or null: not a known one). An auto-fix may follow. */
  z.object({ type: z.literal('setup:step-failed'), setupId: SetupId, key: z.string(), diagnosis: DiagnosisView.nullable() }),
  z.object({ type: z.literal('setup:auto-fix'), setupId: SetupId, key: z.string(), signatureId: z.string(), description: z.string() }),
  z.object({
    type: z.literal('setup:finished'),
    setupId: SetupId,
    hostId: z.string(),
    status: SetupStatus.exclude(['running']),
    failure: SetupFailureView.nullable(),
    autoFixes: z.array(z.object({ signatureId: z.string(), description: z.string() })),
    /** Every parameter as finally used (auto-fixes included): what verify should use. */
    params: SetupParams,
    /** The run could not go on (connection lost…): the message, or null. */
    error: z.string().nullable(),
  }),
  /** One verified cell, as soon as it is known. */
  z.object({ type: z.literal('setup:verify-cell'), hostId: z.string(), verifyId: z.string(), runtime: z.string(), method: SetupMethod, cell: VerifyCell }),
]);
export type SetupRunEvent = z.infer<typeof SetupRunEvent>;

export const VerifyReport = z.object({
  verifyId: z.string(),
  host: z.string(),
  at: z.string(),
  rows: z.array(z.object({ runtime: z.string(), title: z.string(), cells: cells(VerifyCell) })),
});
export type VerifyReport = z.infer<typeof VerifyReport>;
