import { LabError } from '../../shared/lab-error.ts';
import { HostFacts } from '../../shared/model/host-facts.ts';
import { execScript, type Transport } from '../transport/transport.ts';
import { buildInspectionScript, END_MARKER } from './inspection-script.ts';
import { parseInspection } from './parse-inspection.ts';

// Inspect a lab host in one round trip: run the inspection script, refuse a cut-off
// answer (a half-read host would list installed tools as missing), parse, validate.

export interface InspectOptions {
  /** The whole inspection; each version command is separately limited to 10 s on the host. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 120_000;

export async function inspectHost(transport: Transport, options: InspectOptions = {}): Promise<HostFacts> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const result = await execScript(transport, buildInspectionScript(), { timeoutMs, signal: options.signal });
  if (result.timedOut) {
    throw new LabError('timeout', `Inspecting ${transport.label} took longer than ${Math.round(timeoutMs / 1000)} s.`);
  }
  if (options.signal?.aborted) {
    throw new LabError('command-failed', `Inspecting ${transport.label} was cancelled.`);
  }
  if (result.exitCode !== 0 || !result.stdout.trimEnd().endsWith(END_MARKER)) {
    const said = result.stderr.trim() || `exit code ${result.exitCode ?? result.signal ?? 'unknown'}`;
    throw new LabError('command-failed', `Inspecting ${transport.label} did not finish: ${said}`, { exitCode: result.exitCode });
  }
  return HostFacts.parse(parseInspection(result.stdout));
}
