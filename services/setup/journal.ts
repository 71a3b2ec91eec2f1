import { z } from 'zod';
import { LabError } from '../../shared/lab-error.ts';
import type { Transport } from '../transport/transport.ts';

// The setup's journal, kept on the host in {labDir}/setup/journal-<planId>.json: which
// steps are done, which one was running when the connection dropped or a step failed,
// and the parameters auto-fixes changed. A later run of the same recipes resumes an
// unfinished run from the first step not done; every later run keeps the auto-fixed
// parameters, so a set-up host stays set up. Written by the login user (no sudo), and
// never holds a secret.

export const StepStatus = z.enum(['started', 'done', 'failed', 'cancelled']);

export const Journal = z.object({
  planId: z.string(),
  recipes: z.array(z.string()),
  status: z.enum(['running', 'failed', 'cancelled', 'complete']),
  /** Parameters set by auto-fixes: they win over defaults and the user's values. */
  fixes: z.record(z.string(), z.string()),
  steps: z.record(z.string(), z.object({ status: StepStatus, at: z.string() })),
  updatedAt: z.string(),
});
export type Journal = z.infer<typeof Journal>;

export function journalPath(labDir: string, planId: string): string {
  return `${labDir}/setup/journal-${planId}.json`;
}

/** The journal of this plan's last run, or null (none or unreadable). */
export async function readJournal(transport: Transport, labDir: string, planId: string): Promise<Journal | null> {
  const result = await transport.exec(['cat', journalPath(labDir, planId)], { timeoutMs: 20_000 });
  if (result.exitCode !== 0) return null;
  const parsed = Journal.safeParse(safeJson(result.stdout));
  return parsed.success ? parsed.data : null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export async function writeJournal(transport: Transport, labDir: string, journal: Journal): Promise<void> {
  const mkdir = await transport.exec(['mkdir', '-p', `${labDir}/setup`], { timeoutMs: 20_000 });
  if (mkdir.exitCode !== 0) throw new LabError('command-failed', `Could not create ${labDir}/setup on ${transport.label}: ${mkdir.stderr.trim()}`);
  const path = journalPath(labDir, journal.planId);
  await transport.writeFile(`${path}.tmp`, `${JSON.stringify({ ...journal, updatedAt: new Date().toISOString() }, null, 2)}\n`, 0o600);
  const move = await transport.exec(['mv', '-f', `${path}.tmp`, path], { timeoutMs: 20_000 });
  if (move.exitCode !== 0) throw new LabError('command-failed', `Could not write the setup journal on ${transport.label}: ${move.stderr.trim()}`);
}
