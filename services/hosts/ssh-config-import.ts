import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { HostDraft } from '../../shared/model/host.ts';
import type { SshConfigCandidate } from '../../shared/contract/ipc-contract.ts';
import { LabError } from '../../shared/lab-error.ts';

// Turns ~/.ssh/config entries into host drafts. The `ssh-config` library parses and
// computes each alias the way OpenSSH does (first value wins, wildcard sections apply),
// which hand parsing gets wrong. We only read: the user's file is never written.

const WILDCARD = /[*?!]/;

export function defaultSshConfigPath(): string {
  return path.join(os.homedir(), '.ssh', 'config');
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

function aliasesOf(config: SSHConfig): string[] {
  const aliases: string[] = [];
  for (const line of config) {
    if (line.type !== SSHConfig.DIRECTIVE || line.param.toLowerCase() !== 'host') continue;
    const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
    for (const alias of values) if (alias && !WILDCARD.test(alias) && !aliases.includes(alias)) aliases.push(alias);
  }
  return aliases;
}

export function candidatesFromSshConfig(text: string, defaultUser = os.userInfo().username): SshConfigCandidate[] {
  let config: SSHConfig;
  try {
    config = SSHConfig.parse(text);
  } catch (err) {
    throw new LabError('ssh-config-invalid', `The SSH config could not be parsed: ${(err as Error).message}`);
  }
  const candidates: SshConfigCandidate[] = [];
  for (const alias of aliasesOf(config)) {
    const computed = config.compute(alias);
    const warnings: string[] = [];
    const host = first(computed.HostName) ?? alias;
    const user = first(computed.User) ?? defaultUser;
    const port = Number(first(computed.Port) ?? 22);
    const identity = first(computed.IdentityFile);
    const proxyJump = first(computed.ProxyJump);
    if (first(computed.ProxyCommand)) warnings.push('ProxyCommand is not supported; connect through ProxyJump instead.');
    if (proxyJump?.includes(',')) warnings.push('Only the first hop of a multi-hop ProxyJump is used.');
    if (first(computed.StrictHostKeyChecking)?.toLowerCase() === 'no') {
      warnings.push('StrictHostKeyChecking no is ignored: Runtime Lab always verifies the host key (you confirm it on first connect).');
    }
    const auth = identity
      ? { method: 'key' as const, keyPath: expandHome(identity), rememberSecret: false }
      : process.env.SSH_AUTH_SOCK
        ? { method: 'agent' as const }
        : { method: 'password' as const, rememberSecret: false };
    const draft = HostDraft.safeParse({
      name: alias,
      target: { kind: 'ssh', ssh: { host, port, user, auth, ...(proxyJump ? { proxyJump: proxyJump.split(',')[0] } : {}) } },
    });
    // An alias that cannot be a lab host (e.g. a HostName with spaces) is left out.
    if (!draft.success) continue;
    candidates.push({ alias, draft: draft.data, warnings });
  }
  return candidates;
}

export function readSshConfigCandidates(file = defaultSshConfigPath()): SshConfigCandidate[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LabError('not-found', code === 'ENOENT' ? `There is no SSH config at ${file}.` : `Cannot read ${file}: ${code}`);
  }
  return candidatesFromSshConfig(text);
}
