import { AgentEvent } from '../../shared/model/run-record.ts';

export interface TailedBatch {
  events: AgentEvent[];
  /** Byte offset just past the last complete line consumed: where the next read starts. */
  offset: number;
  /** Lines that were complete but not a valid event (kept for the run log, never fatal). */
  rejected: string[];
}

const NEWLINE = 0x0a;

// Turns the bytes appended to events.jsonl since `offset` into events. Only complete
// lines are consumed; a half-written tail stays for the next read. The offset counts
// bytes, not characters, so a multi-byte character split across reads is safe.
export function consumeLines(chunk: Buffer, offset: number): TailedBatch {
  const end = chunk.lastIndexOf(NEWLINE);
  if (end < 0) return { events: [], offset, rejected: [] };
  const events: AgentEvent[] = [];
  const rejected: string[] = [];
  for (const line of chunk.subarray(0, end).toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      rejected.push(line.slice(0, 200));
      continue;
    }
    const result = AgentEvent.safeParse(parsed);
    if (result.success) events.push(result.data);
    else rejected.push(line.slice(0, 200));
  }
  return { events, offset: offset + end + 1, rejected };
}
