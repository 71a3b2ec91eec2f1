import type { SetupPlan } from './plan.ts';

// The dry run as text: every step with why it exists and, when it is not skipped, every
// command exactly as the runner will execute it (the same argv, shell-quoted).

export function formatPlan(plan: SetupPlan, hostLabel: string): string {
  const lines = [`Setup plan ${plan.id} for ${hostLabel}: ${plan.recipes.map((r) => `${r.id}@${r.version}`).join(', ')}`];
  const chosen = Object.entries(plan.paramNotes);
  if (chosen.length > 0) {
    lines.push('Chosen for this host:');
    for (const [name, note] of chosen) lines.push(`  ${name}=${String(plan.params[name])}: ${note}`);
  }
  for (const step of plan.steps) {
    lines.push('', `[${step.key}] ${step.title}${step.phase === 'verify' ? ' (verification)' : ''}`, `  why: ${step.why}`);
    if (step.skip !== null) {
      lines.push(`  skipped: ${step.skip}`);
      continue;
    }
    if (step.check) lines.push('  already done when this exits 0:', indent(step.check.display));
    if (step.apply.length > 0) lines.push(step.check ? '  otherwise runs:' : '  runs:', ...step.apply.map((c) => indent(c.display)));
    for (const edit of step.edits) {
      lines.push(`  edits ${edit.edit.path} (${edit.edit.kind}) when its content differs:`, indent(edit.read.display));
      if (edit.backup) lines.push(indent(edit.backup.display));
      lines.push(indent(`${edit.write.display} < new content`));
    }
    if (step.afterChange.length > 0) lines.push('  after a changed file:', ...step.afterChange.map((c) => indent(c.display)));
    if (step.expectOutput !== undefined) lines.push(`  expects output containing: ${step.expectOutput}`);
  }
  return `${lines.join('\n')}\n`;
}

function indent(text: string): string {
  return text.split('\n').map((line) => `    ${line}`).join('\n');
}
