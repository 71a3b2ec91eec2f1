// Host keys Runtime Lab trusts, in OpenSSH's known_hosts format, so that the file can be
// read and edited with the usual tools and a user's ~/.ssh/known_hosts can be used as is.
// Runtime Lab writes plain entries (`host type base64`, `[host]:port type base64`); it
// reads what OpenSSH writes as well: hashed names (`|1|salt|hash`, HashKnownHosts yes),
// comma-separated patterns with `*`, `?` and `!`, and the `@revoked` marker.

import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, open } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KnownKey {
  keyType: string;
  keyBase64: string;
  /** `@revoked` lines: this key must never be accepted for the host. */
  revoked: boolean;
  /** 1-based line in the file, so a message can say which line to remove. */
  line: number;
}

export class KnownHostsFile {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** Every key recorded for host:port; read afresh each time, since people edit the file by hand. */
  lookup(host: string, port: number): KnownKey[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const name = hostEntryName(host, port);
    const keys: KnownKey[] = [];
    text.split('\n').forEach((raw, index) => {
      const entry = parseLine(raw);
      if (entry && entry.marker !== '@cert-authority' && hostFieldMatches(entry.hosts, name)) {
        keys.push({ keyType: entry.keyType, keyBase64: entry.keyBase64, revoked: entry.marker === '@revoked', line: index + 1 });
      }
    });
    return keys;
  }

  /** Appends a plain entry, creating the directory (0700) and file (0600) if needed. */
  async add(host: string, port: number, keyType: string, keyBase64: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const line = `${hostEntryName(host, port)} ${keyType} ${keyBase64}\n`;
    // A hand-edited file may lack its final newline; appending straight after it would
    // glue our entry onto the last line and corrupt both.
    const separator = (await endsWithoutNewline(this.path)) ? '\n' : '';
    await appendFile(this.path, separator + line, { mode: 0o600 });
  }
}

/** The name OpenSSH records: `host` for port 22, `[host]:port` otherwise. */
export function hostEntryName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

/** `SHA256:` and the unpadded base64 digest of the key blob, exactly as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH wire-format public key blob (its first SSH string). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) throw new Error('not an SSH public key blob: too short');
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > keyBlob.length) throw new Error('not an SSH public key blob: bad key type length');
  return keyBlob.toString('latin1', 4, 4 + length);
}

interface Entry {
  marker: string | null;
  hosts: string;
  keyType: string;
  keyBase64: string;
}

function parseLine(raw: string): Entry | null {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return null;
  const fields = line.split(/\s+/);
  const marker = fields[0]?.startsWith('@') ? (fields.shift() ?? null) : null;
  const [hosts, keyType, keyBase64] = fields;
  if (!hosts || !keyType || !keyBase64) return null;
  return { marker, hosts, keyType, keyBase64 };
}

function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) return hashedNameMatches(hosts, name);
  // OpenSSH's rule: a matching negated pattern rules the line out whatever else matches.
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

function hashedNameMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return digest === hash;
}

function globMatches(pattern: string, name: string): boolean {
  const source = [...pattern.toLowerCase()]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(name);
}

async function endsWithoutNewline(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await handle.close();
  }
}
