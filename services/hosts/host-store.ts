import crypto from 'node:crypto';
import { z } from 'zod';
import { HostRecord, type HostDraft } from '../../shared/model/host.ts';
import { LabError } from '../../shared/lab-error.ts';
import { readJsonFile, writeJsonFile } from '../storage/json-file.ts';

const HostsFile = z.object({ version: z.literal(1), hosts: z.array(HostRecord) });

// The saved lab hosts (hosts.json in the data folder). Secrets are never part of it.
export class HostStore {
  private readonly file: string;
  private hosts: HostRecord[];
  readonly movedAside: string | undefined;

  constructor(file: string) {
    this.file = file;
    const loaded = readJsonFile(file, HostsFile, { version: 1, hosts: [] });
    this.hosts = loaded.value.hosts;
    this.movedAside = loaded.movedAside;
  }

  list(): HostRecord[] {
    return [...this.hosts];
  }

  get(id: string): HostRecord {
    const host = this.hosts.find((h) => h.id === id);
    if (!host) throw new LabError('not-found', `No saved host with id ${id}.`);
    return host;
  }

  add(draft: HostDraft): HostRecord {
    const now = new Date().toISOString();
    const record: HostRecord = { id: crypto.randomUUID(), name: draft.name, target: draft.target, createdAt: now, updatedAt: now };
    this.save([...this.hosts, record]);
    return record;
  }

  update(id: string, draft: HostDraft): HostRecord {
    const existing = this.get(id);
    const record: HostRecord = { ...existing, name: draft.name, target: draft.target, updatedAt: new Date().toISOString() };
    this.save(this.hosts.map((h) => (h.id === id ? record : h)));
    return record;
  }

  remove(id: string): boolean {
    const next = this.hosts.filter((h) => h.id !== id);
    if (next.length === this.hosts.length) return false;
    this.save(next);
    return true;
  }

  private save(hosts: HostRecord[]): void {
    writeJsonFile(this.file, { version: 1, hosts });
    this.hosts = hosts;
  }
}
