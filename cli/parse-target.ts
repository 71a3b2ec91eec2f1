import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostTarget, type HostAuth } from '../shared/model/host.ts';
import { LabError } from '../shared/lab-error.ts';

export interface TargetOptions {
  identity?: string;
  /** A secret arrived on stdin: a key passphrase with --identity, else a password. */
  secretFromStdin: boolean;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

// `local` or `ssh://user@host[:port]`, turned into the same HostTarget the app saves.
export function parseTarget(text: string, options: TargetOptions): HostTarget {
  if (text === 'local') return { kind: 'local' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LabError('invalid-input', `Target "${text}" is neither "local" nor ssh://user@host[:port].`);
  }
  if (url.protocol !== 'ssh:' || !url.hostname || (url.pathname && url.pathname !== '/')) {
    throw new LabError('invalid-input', `Target "${text}" is neither "local" nor ssh://user@host[:port].`);
  }
  if (url.password) throw new LabError('invalid-input', 'Do not put a password in the target; use --password-stdin.');
  const env = options.env ?? process.env;
  const user = decodeURIComponent(url.username) || os.userInfo().username;
  const parsed = HostTarget.safeParse({
    kind: 'ssh',
    ssh: { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 22, user, auth: chooseAuth(options, env) },
  });
  if (!parsed.success) throw new LabError('invalid-input', `Target "${text}": ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

// Like ssh(1): an explicit identity, else a password when one was given, else the
// agent, else the first default key that exists.
function chooseAuth(options: TargetOptions, env: NodeJS.ProcessEnv): HostAuth {
  if (options.identity) return { method: 'key', keyPath: path.resolve(options.identity), rememberSecret: false };
  if (options.secretFromStdin) return { method: 'password', rememberSecret: false };
  if (env.SSH_AUTH_SOCK) return { method: 'agent' };
  const home = env.HOME ?? os.homedir();
  for (const name of DEFAULT_KEYS) {
    const keyPath = path.join(home, '.ssh', name);
    if (fs.existsSync(keyPath)) return { method: 'key', keyPath, rememberSecret: false };
  }
  throw new LabError('invalid-input', 'No way to log in: pass --identity FILE, --password-stdin, or start an ssh-agent.');
}
