import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';

// Small JSON documents (hosts, secrets) written atomically, and never thrown away:
// a file that does not parse or validate is moved aside and reported, not overwritten.

export interface LoadedJson<T> {
  value: T;
  /** Set when the file on disk was unreadable and has been moved to this path. */
  movedAside?: string;
}

export function readJsonFile<S extends z.ZodType>(file: string, schema: S, empty: z.output<S>): LoadedJson<z.output<S>> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { value: empty };
    throw err;
  }
  try {
    return { value: schema.parse(JSON.parse(text)) };
  } catch {
    const movedAside = `${file}.corrupt-${new Date().toISOString().replaceAll(':', '-')}`;
    fs.renameSync(file, movedAside);
    return { value: empty, movedAside };
  }
}

export function writeJsonFile(file: string, value: unknown, mode = 0o600): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode });
  fs.renameSync(tmp, file);
}
