// A real OpenSSH server for tests: its own config, host keys, client keys and
// authorized_keys in a fresh temp dir, listening on a free loopback port. Tests that talk
// to it exercise the same sshd behaviour (auth, host keys, signals, SFTP) a lab host has.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface SshdOptions {
  /** Serve the host keys in this directory (generated there if missing), e.g. to keep them across fixtures. */
  hostKeyDir?: string;
  /** Host key types, most preferred first. Default: ['ed25519']. */
  hostKeyTypes?: HostKeyType[];
}

export interface HostKeyInfo {
  keyType: string;
  keyBase64: string;
  /** As `ssh-keygen -lf` prints it, computed by ssh-keygen itself (not by the code under test). */
  fingerprint: string;
}

export interface TestSshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly dir: string;
  /** Fingerprint of the first host key; changes after restartWithNewHostKey(). */
  readonly hostKeyFingerprint: string;
  readonly hostKeys: HostKeyInfo[];
  /** Private key paths, authorized for root and for the password user. */
  readonly keys: { plain: string; withPassphrase: string; passphrase: string };
  readonly passwordUser: { name: string; password: string };
  /** What sshd has logged so far (its -e output), across restarts. */
  log(): string;
  /** Stops sshd (and every session) and starts it again on the same port with new host keys. */
  restartWithNewHostKey(): Promise<void>;
  /** Kills sshd and every process it started, then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const PASSWORD_USER = 'rlab-test';
// Test files in other processes use the same system user; sharing one password through
// this root-only file keeps a fixture starting elsewhere from changing it under us. It lives
// in /run (root-only, emptied at boot) so that no sweep of temp dirs removes it mid-run.
const PASSWORD_FILE = '/run/rlab-test-user.password';
const COMMAND_TIMEOUT_MS = 20_000;
const START_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const fixture = new SshdFixture(options.hostKeyTypes ?? ['ed25519'], await freePort());
  try {
    await fixture.start(options.hostKeyDir ?? join(fixture.dir, 'hostkeys-0'));
  } catch (err) {
    await fixture.stop();
    throw err;
  }
  return fixture;
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

class SshdFixture implements TestSshd {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly dir: string;
  readonly keys: TestSshd['keys'];
  readonly passwordUser: TestSshd['passwordUser'];
  hostKeys: HostKeyInfo[] = [];
  #hostKeyTypes: HostKeyType[];
  #child: ChildProcess | null = null;
  #log = '';
  #restarts = 0;
  #stopped = false;
  // If the worker exits without running afterAll (a crash), sshd must not outlive it.
  #killOnExit = () => killTree(this.#child?.pid);

  constructor(hostKeyTypes: HostKeyType[], port: number) {
    this.#hostKeyTypes = hostKeyTypes;
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), 'rlab-sshd-'));
    // sshd reads authorized_keys as the logging-in user, so rlab-test must be able to reach it.
    chmodSync(this.dir, 0o755);
    const passphrase = randomBytes(9).toString('base64url');
    this.keys = {
      plain: generateKey(join(this.dir, 'id_plain'), 'ed25519', ''),
      withPassphrase: generateKey(join(this.dir, 'id_passphrase'), 'ed25519', passphrase),
      passphrase,
    };
    const authorized = [this.keys.plain, this.keys.withPassphrase].map((key) => readFileSync(`${key}.pub`, 'utf8')).join('');
    writeFileSync(join(this.dir, 'authorized_keys'), authorized, { mode: 0o644 });
    this.passwordUser = { name: PASSWORD_USER, password: ensurePasswordUser() };
    process.once('exit', this.#killOnExit);
  }

  get hostKeyFingerprint(): string {
    const first = this.hostKeys[0];
    if (!first) throw new Error('sshd has not started');
    return first.fingerprint;
  }

  log(): string {
    return this.#log;
  }

  async start(hostKeyDir: string): Promise<void> {
    mkdirSync('/run/sshd', { recursive: true });
    mkdirSync(hostKeyDir, { recursive: true });
    const hostKeyPaths = this.#hostKeyTypes.map((type) => {
      const path = join(hostKeyDir, `ssh_host_${type}_key`);
      if (!existsSync(path)) generateKey(path, type, '');
      return path;
    });
    this.hostKeys = hostKeyPaths.map(describeHostKey);
    const config = join(this.dir, 'sshd_config');
    writeFileSync(config, this.#config(hostKeyPaths));
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#log += chunk;
    });
    await this.#waitUntilListening(child);
  }

  async restartWithNewHostKey(): Promise<void> {
    await this.#kill();
    this.#restarts += 1;
    await this.start(join(this.dir, `hostkeys-${this.#restarts}`));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#kill();
    process.removeListener('exit', this.#killOnExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  #config(hostKeyPaths: string[]): string {
    return [
      `ListenAddress ${this.host}`,
      `Port ${this.port}`,
      ...hostKeyPaths.map((path) => `HostKey ${path}`),
      `PidFile ${join(this.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
      // Under /tmp, sshd would otherwise refuse the files for their owner and modes.
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'Subsystem sftp internal-sftp',
      'PrintMotd no',
      'PrintLastLog no',
      // Debian's bash sources ~/.bashrc for every SSH command when it is the first shell
      // (SHLVL < 2). A development machine's .bashrc can be slow or block (pyenv init waits
      // up to 60 s on a rehash lock that a killed command left behind); that tests nothing here.
      'SetEnv SHLVL=1',
      '',
    ].join('\n');
  }

  async #waitUntilListening(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`sshd exited during start (${child.exitCode ?? child.signalCode}):\n${this.#log}`);
      }
      if (await acceptsConnections(this.host, this.port)) return;
      await sleep(50);
    }
    throw new Error(`sshd did not listen on ${this.host}:${this.port} within ${START_TIMEOUT_MS} ms:\n${this.#log}`);
  }

  async #kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killTree(child.pid);
    await Promise.race([exited, sleep(EXIT_TIMEOUT_MS)]);
  }
}

function generateKey(path: string, type: HostKeyType, passphrase: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', 'rlab-test-key', '-f', path], {
    timeout: COMMAND_TIMEOUT_MS,
    stdio: 'ignore',
  });
  return path;
}

function describeHostKey(privatePath: string): HostKeyInfo {
  const [keyType, keyBase64] = readFileSync(`${privatePath}.pub`, 'utf8').trim().split(/\s+/);
  const listing = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${privatePath}.pub`], {
    timeout: COMMAND_TIMEOUT_MS,
    encoding: 'utf8',
  });
  const fingerprint = listing.split(/\s+/)[1];
  if (!keyType || !keyBase64 || !fingerprint) throw new Error(`unexpected host key files at ${privatePath}`);
  return { keyType, keyBase64, fingerprint };
}

/** Creates the password user if needed and (re)sets its shared password; returns the password. */
function ensurePasswordUser(): string {
  try {
    execFileSync('id', ['-u', PASSWORD_USER], { timeout: COMMAND_TIMEOUT_MS, stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-m', '-s', '/bin/sh', PASSWORD_USER], { timeout: COMMAND_TIMEOUT_MS, stdio: 'ignore' });
  }
  try {
    // 'wx': of two processes starting at once, exactly one writes the password.
    writeFileSync(PASSWORD_FILE, randomBytes(12).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const password = readFileSync(PASSWORD_FILE, 'utf8');
  execFileSync('chpasswd', [], { input: `${PASSWORD_USER}:${password}\n`, timeout: COMMAND_TIMEOUT_MS, stdio: ['pipe', 'ignore', 'ignore'] });
  return password;
}

/**
 * SIGKILLs a process and all its descendants. sshd's per-connection children start their
 * own sessions (setsid), so killing the listener or its process group would leave them,
 * and their open connections, alive.
 */
function killTree(rootPid: number | undefined): void {
  if (rootPid === undefined) return;
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentPid(Number(entry));
    if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] ?? -1) ?? []));
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function parentPid(pid: number): number | null {
  try {
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so parse after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    return ppid === undefined ? null : Number(ppid);
  } catch {
    return null;
  }
}

function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
