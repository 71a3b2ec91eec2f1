import type { Verdict } from '../../knowledge/checks.ts';
import { SIGNATURES } from '../../knowledge/signatures.ts';
import type { ParsedSignature } from '../../knowledge/schema.ts';
import type { Params } from './template.ts';

// Recognises a failed step: its output (or its timing out) against the failure
// signatures. The recipe's own signatures are tried first, then every other one, since a
// trap of one component (the vsock module, a stuck task) shows up in another's steps.

export interface Diagnosis {
  signature: ParsedSignature;
  /** The output line that matched, or a note for a time-out. */
  excerpt: string;
  /** Named groups of the pattern (a stuck task's ID), usable by the auto-fix as parameters. */
  groups: Record<string, string>;
}

export interface FailedOutput {
  output: string;
  timedOut: boolean;
}

/** A prerequisite check's verdict on the host the output came from. */
export type HostCheck = (checkId: string) => Verdict;

/** Without `hostCheck`, a signature that needs a host check's verdict never matches. */
export function diagnose(
  failed: FailedOutput, recipeId: string, recipeSignatures: readonly string[], params: Params, hostCheck?: HostCheck,
): Diagnosis | null {
  const own = SIGNATURES.filter((s) => recipeSignatures.includes(s.id));
  const others = SIGNATURES.filter((s) => !recipeSignatures.includes(s.id));
  for (const signature of [...own, ...others]) {
    if (signature.recipes && !signature.recipes.includes(recipeId)) continue;
    if (Object.entries(signature.params ?? {}).some(([name, value]) => params[name] !== value)) continue;
    if (signature.hostCheck && (!hostCheck || hostCheck(signature.hostCheck) === 'ok')) continue;
    const found = matchSignature(signature, failed);
    if (found) return { signature, ...found };
  }
  return null;
}

export function matchSignature(signature: ParsedSignature, failed: FailedOutput): Omit<Diagnosis, 'signature'> | null {
  if (signature.timedOut) return failed.timedOut ? { excerpt: 'the step did not finish within its time limit', groups: {} } : null;
  const { pattern } = signature;
  if (!pattern) return null;
  if ('text' in pattern) {
    const line = failed.output.split('\n').find((l) => l.includes(pattern.text));
    return line === undefined ? null : { excerpt: line.trim(), groups: {} };
  }
  const match = new RegExp(pattern.regex, pattern.flags).exec(failed.output);
  if (!match) return null;
  const start = failed.output.lastIndexOf('\n', match.index) + 1;
  const end = failed.output.indexOf('\n', match.index + match[0].length);
  const groups = Object.fromEntries(Object.entries(match.groups ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
  return { excerpt: failed.output.slice(start, end === -1 ? undefined : end).trim(), groups };
}
