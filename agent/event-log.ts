import { closeSync, openSync, writeSync } from 'node:fs';
import { AgentEvent } from '../shared/model/run-record.ts';

// events.jsonl: the run's only record, tailed by the desktop from a byte offset. Each
// event is validated against the contract, then written as one complete line with one
// append-mode write, so a reader that splits on '\n' never takes half an event for a
// whole one and a crash can lose at most the event being written — never an earlier one.

export interface EventLog {
  write(event: AgentEvent): void;
  close(): void;
}

export function openEventLog(file: string): EventLog {
  const fd = openSync(file, 'a');
  return {
    write(event) {
      const line = Buffer.from(`${JSON.stringify(AgentEvent.parse(event))}\n`);
      let written = 0;
      // A regular file takes the whole line at once; the loop only matters on a full disk
      // or an interrupted write, where a short write must not leave a line without its end.
      while (written < line.length) written += writeSync(fd, line, written, line.length - written);
    },
    close() {
      closeSync(fd);
    },
  };
}
