import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import type { AgentEvent, MemoryStep } from '../../shared/model/run-record.ts';
import { readEvents, type AgentWorkspace } from './agent-process.ts';

// What the memory-plan agent tests read from a run folder, and their "stopped in the
// middle of a step" check, shared by the oci-direct and the daemon (ctr, docker) suites.

export function stepsOf(events: AgentEvent[]): MemoryStep[] {
  return events.flatMap((e) => (e.type === 'memory-step' ? [(({ type: _t, ...step }) => step)(e)] : []));
}

export function finishedOf(events: AgentEvent[]) {
  return events.find((e): e is Extract<AgentEvent, { type: 'finished' }> => e.type === 'finished');
}

/**
 * Runs the plan in `runDir`, waits (`settling`) until its containers are up and the agent
 * waits out the settle time, runs `whileUp`, stops the agent as the desktop does
 * (`agent stop`, SIGTERM), and checks that it ended "aborted" with the interrupted step
 * not recorded. What the runtime still lists is the caller's to check.
 */
export async function stopMemoryRunMidStep(ws: AgentWorkspace, runDir: string, settling: () => Promise<void>, whileUp: () => void = () => {}): Promise<void> {
  const { child, done } = ws.start('run', '--run-dir', runDir);
  try {
    await settling();
    whileUp();
    const stop = spawnSync(process.execPath, [ws.agentFile, 'stop', '--run-dir', runDir], { encoding: 'utf8', timeout: 120_000 });
    expect(JSON.parse(stop.stdout)).toMatchObject({ stopped: true });
    expect((await done).code).toBe(0);
  } finally {
    // A failed assertion must not leave the agent (and its containers) behind.
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await done;
    }
  }
  const events = readEvents(runDir);
  expect(finishedOf(events)).toMatchObject({ status: 'aborted', message: 'stopped by SIGTERM' });
  expect(stepsOf(events)).toEqual([]);
}
