// The Transport to a lab host over SSH (ssh2): verifies the host key against Runtime
// Lab's known_hosts before anything is sent, logs in with a key file, the SSH agent or a
// password, optionally through a ProxyJump host, then runs quoted commands and moves files
// over one SFTP session. Every failure becomes a LabError that says what to do next.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import ssh2 from 'ssh2';
import type {
  AnyAuthMethod,
  Client as SshClient,
  ClientChannel,
  HostVerifier,
  ParsedKey,
  ServerHostKeyAlgorithm,
  SFTPWrapper,
  Stats,
} from 'ssh2';
import { LabError } from '../../shared/lab-error.ts';
import { describeTarget, type SshEndpoint } from '../../shared/model/host.ts';
import { commandLine } from '../../shared/shell-quote.ts';
import { fingerprintSha256, hostEntryName, keyTypeOf, type KnownHostsFile, type KnownKey } from './known-hosts.ts';
import type { ExecOptions, ExecResult, Transport } from './transport.ts';

const { Client, utils } = ssh2;

export interface ConnectSshOptions {
  endpoint: SshEndpoint;
  /** The password, or the passphrase of the key file. Held in memory only, never put in a message. */
  secret?: string;
  knownHosts: KnownHostsFile;
  /** Trust and record the key of a host:port that has no entry yet (after the user saw its fingerprint). */
  acceptNewHostKey?: boolean;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  /** Path of the ssh-agent socket; defaults to SSH_AUTH_SOCK. */
  agentSocket?: string;
}

export async function connectSsh(options: ConnectSshOptions): Promise<Transport> {
  const { endpoint } = options;
  const credentials = await loadCredentials(endpoint, options.secret, options.agentSocket ?? process.env.SSH_AUTH_SOCK);
  const target: Hop = { host: endpoint.host, port: endpoint.port, user: endpoint.user };
  const label = describeTarget({ kind: 'ssh', ssh: endpoint });
  if (!endpoint.proxyJump) return new SshTransport(await openHop(target, credentials, options), null, label);

  const jumpHop = parseProxyJump(endpoint.proxyJump, endpoint.user);
  const jump = await openHop(jumpHop, credentials, options);
  try {
    const tunnel = await openTunnel(jump, jumpHop, target);
    return new SshTransport(await openHop(target, credentials, options, tunnel), jump, label);
  } catch (err) {
    jump.end();
    throw err;
  }
}

// ---- Hops: one SSH login, direct or through a tunnel ----------------------------------

export interface Hop {
  host: string;
  port: number;
  user: string;
}

const DEFAULT_READY_TIMEOUT_MS = 15_000;
const DEFAULT_KEEPALIVE_INTERVAL_MS = 10_000;

/** Connects, verifies the host key and logs in; resolves once commands may run. */
function openHop(hop: Hop, credentials: Credentials, options: ConnectSshOptions, sock?: Duplex): Promise<SshClient> {
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const client = new Client();
    // Set by the host key check: ssh2 then only reports "Host denied", which says nothing useful.
    let refusal: LabError | null = null;
    let settled = false;
    const fail = (err: LabError) => {
      if (settled) return;
      settled = true;
      client.destroy();
      reject(err);
    };
    // Stays attached after login: an 'error' event without a listener would crash the process.
    // Later failures surface through 'close' (Transport.closed and connection-lost).
    client.on('error', (err) => fail(refusal ?? connectError(err, hop, credentials, readyTimeoutMs)));
    client.once('close', () => fail(refusal ?? unreachable(hop, 'the connection closed before login', 'check that an SSH server listens there')));
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    try {
      const known = options.knownHosts.lookup(hop.host, hop.port);
      const serverHostKey = preferredHostKeyAlgorithms(known);
      client.connect({
        host: hop.host,
        port: hop.port,
        username: hop.user,
        ...(sock ? { sock } : {}),
        readyTimeout: readyTimeoutMs,
        keepaliveInterval: options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
        authHandler: [authMethod(credentials, hop.user)],
        hostVerifier: hostKeyVerifier(hop, options, (err) => (refusal = err)),
        ...(serverHostKey ? { algorithms: { serverHostKey } } : {}),
      });
      // SSH here is many small request/response exchanges (login, channel opens, SFTP);
      // with Nagle's algorithm each waits for a delayed ACK, 10x the time of a short command.
      client.setNoDelay(true);
    } catch (err) {
      fail(err instanceof LabError ? err : new LabError('internal', `Could not start the SSH connection to ${hop.host}:${hop.port}: ${errorText(err)}`));
    }
  });
}

function openTunnel(jump: SshClient, jumpHop: Hop, target: Hop): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, target.host, target.port, (err, channel) => {
      if (!err) return resolve(channel);
      reject(
        new LabError(
          'host-unreachable',
          `The jump host ${jumpHop.host}:${jumpHop.port} could not connect to ${target.host}:${target.port} (${err.message}). ` +
            `Check that address and port as seen from the jump host, that sshd runs there, and that the jump host allows TCP forwarding (AllowTcpForwarding).`,
          { host: target.host, port: target.port, jumpHost: jumpHop.host },
        ),
      );
    });
  });
}

/** "user@host:port", "host", "[v6addr]:port" as in ssh's ProxyJump; the user defaults to the target's. */
export function parseProxyJump(spec: string, defaultUser: string): Hop {
  if (spec.includes(',')) {
    throw new LabError('unsupported', `ProxyJump "${spec}" chains several jump hosts; Runtime Lab supports one.`);
  }
  const match = /^(?:([^@\s]+)@)?(\[[^\]\s]+\]|[^\s:@[\]]+)(?::(\d{1,5}))?$/.exec(spec.trim());
  const port = Number(match?.[3] ?? 22);
  const host = match?.[2]?.replace(/^\[(.*)\]$/, '$1');
  if (!host || port < 1 || port > 65535) {
    throw new LabError('ssh-config-invalid', `ProxyJump "${spec}" is not of the form [user@]host[:port].`);
  }
  return { host, port, user: match?.[1] ?? defaultUser };
}

// ---- Host keys ------------------------------------------------------------------------

const ALGORITHMS_BY_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
// ssh2's own default order (its README), kept after the preferred ones.
const DEFAULT_HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * A server with several host keys presents the one of the first type we list. Asking first
 * for the types we already trust avoids a false "host key changed" when, say, we know its
 * ECDSA key and it would otherwise present Ed25519 (OpenSSH's client does the same).
 */
function preferredHostKeyAlgorithms(known: KnownKey[]): ServerHostKeyAlgorithm[] | null {
  const preferred = known.filter((key) => !key.revoked).flatMap((key) => ALGORITHMS_BY_KEY_TYPE[key.keyType] ?? []);
  return preferred.length > 0 ? [...new Set([...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS])] : null;
}

function hostKeyVerifier(hop: Hop, options: ConnectSshOptions, refuse: (err: LabError) => void): HostVerifier {
  return (keyBlob, verify) => {
    let verdict: LabError | 'known' | 'unknown';
    try {
      verdict = checkHostKey(hop, keyBlob, options.knownHosts);
    } catch (err) {
      verdict = new LabError('internal', `Could not check the host key of ${hop.host}:${hop.port} against ${options.knownHosts.path}: ${errorText(err)}`);
    }
    if (verdict === 'known') return verify(true);
    if (verdict === 'unknown' && options.acceptNewHostKey) {
      options.knownHosts.add(hop.host, hop.port, keyTypeOf(keyBlob), keyBlob.toString('base64')).then(
        () => verify(true),
        (err: unknown) => {
          refuse(new LabError('internal', `Could not record the host key of ${hop.host}:${hop.port} in ${options.knownHosts.path}: ${errorText(err)}`));
          verify(false);
        },
      );
      return;
    }
    refuse(verdict === 'unknown' ? unknownHostKey(hop, keyBlob) : verdict);
    verify(false);
  };
}

function checkHostKey(hop: Hop, keyBlob: Buffer, knownHosts: KnownHostsFile): LabError | 'known' | 'unknown' {
  const keyBase64 = keyBlob.toString('base64');
  const known = knownHosts.lookup(hop.host, hop.port);
  const trusted = known.filter((key) => !key.revoked);
  const revoked = known.find((key) => key.revoked && key.keyBase64 === keyBase64);
  if (!revoked && trusted.some((key) => key.keyBase64 === keyBase64)) return 'known';
  if (!revoked && trusted.length === 0) return 'unknown';

  const keyType = keyTypeOf(keyBlob);
  const presented = fingerprintSha256(keyBlob);
  const expected = trusted.map((key) => `${fingerprintSha256(Buffer.from(key.keyBase64, 'base64'))} (${key.keyType}, line ${key.line})`).join(', ');
  const entry = hostEntryName(hop.host, hop.port);
  const details = { expected, presented, keyType, knownHostsPath: knownHosts.path };
  if (revoked) {
    return new LabError(
      'host-key-changed',
      `${hop.host}:${hop.port} presented the ${keyType} host key ${presented}, which line ${revoked.line} of ${knownHosts.path} marks as revoked. ` +
        `Runtime Lab will not connect with it: ask the host's administrator for the host's current key.`,
      details,
    );
  }
  return new LabError(
    'host-key-changed',
    `The host key of ${hop.host}:${hop.port} has CHANGED. Runtime Lab expected ${expected} but the host presented ${keyType} ${presented}. ` +
      `Someone may be intercepting the connection, or the host was reinstalled. Runtime Lab did not log in, so nothing ran there. ` +
      `Verify the new fingerprint with the host's administrator, then remove the old line for ${entry} from ${knownHosts.path} ` +
      `(${commandLine(['ssh-keygen', '-R', entry, '-f', knownHosts.path])}) and connect again.`,
    details,
  );
}

function unknownHostKey(hop: Hop, keyBlob: Buffer): LabError {
  const keyType = keyTypeOf(keyBlob);
  const fingerprint = fingerprintSha256(keyBlob);
  return new LabError(
    'host-key-unknown',
    `${hop.host}:${hop.port} is not a known host yet. It presented a ${keyType} host key with fingerprint ${fingerprint}. ` +
      `Check that this is the fingerprint the host's administrator gives you (on the host: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then accept the key.`,
    { host: hop.host, port: hop.port, keyType, fingerprint, keyBase64: keyBlob.toString('base64') },
  );
}

// ---- Credentials ----------------------------------------------------------------------

type Credentials =
  | { method: 'key'; keyPath: string; key: ParsedKey; fingerprint: string }
  | { method: 'agent'; socket: string }
  | { method: 'password'; password: string };

async function loadCredentials(endpoint: SshEndpoint, secret: string | undefined, agentSocket: string | undefined): Promise<Credentials> {
  const { auth } = endpoint;
  switch (auth.method) {
    case 'password':
      if (!secret) throw new LabError('secret-required', `${describeTarget({ kind: 'ssh', ssh: endpoint })} logs in with a password: enter it.`);
      return { method: 'password', password: secret };
    case 'agent':
      if (!agentSocket) {
        throw new LabError(
          'auth-agent-unavailable',
          'No SSH agent is available (SSH_AUTH_SOCK is not set). Start ssh-agent and add your key with ssh-add, or log in with a key file instead.',
        );
      }
      return { method: 'agent', socket: agentSocket };
    case 'key':
      return { method: 'key', keyPath: auth.keyPath, ...(await loadPrivateKey(auth.keyPath, secret)) };
  }
}

async function loadPrivateKey(keyPath: string, passphrase: string | undefined): Promise<{ key: ParsedKey; fingerprint: string }> {
  let data: Buffer;
  try {
    data = await readFile(keyPath.replace(/^~(?=\/|$)/, homedir()));
  } catch (err) {
    throw new LabError('key-file-unreadable', `Cannot read the SSH key file ${keyPath}: ${errorText(err)}.`, { keyPath });
  }
  // Parsed here rather than by ssh2 during login, to tell "needs a passphrase" and "wrong
  // passphrase" apart from "the server refused the key".
  const parsed: ParsedKey | ParsedKey[] | Error = utils.parseKey(data, passphrase || undefined);
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message)) {
      throw new LabError('secret-required', `The SSH key ${keyPath} is protected by a passphrase: enter it.`, { keyPath });
    }
    if (/bad passphrase|bad decrypt/i.test(parsed.message)) {
      throw new LabError('key-passphrase-wrong', `The passphrase for the SSH key ${keyPath} is wrong.`, { keyPath });
    }
    throw new LabError('key-file-unreadable', `${keyPath} is not a private key Runtime Lab can read (${parsed.message}).`, { keyPath });
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key?.isPrivateKey()) {
    throw new LabError('key-file-unreadable', `${keyPath} holds a public key: choose the private key file (the one without .pub).`, { keyPath });
  }
  return { key, fingerprint: fingerprintSha256(key.getPublicSSH()) };
}

function authMethod(credentials: Credentials, username: string): AnyAuthMethod {
  switch (credentials.method) {
    case 'key':
      return { type: 'publickey', username, key: credentials.key };
    case 'agent':
      return { type: 'agent', username, agent: credentials.socket };
    case 'password':
      return { type: 'password', username, password: credentials.password };
  }
}

// ---- Connection errors ------------------------------------------------------------------

const UNREACHABLE_REASONS: Record<string, [string, string]> = {
  ECONNREFUSED: ['connection refused', 'check the port, and that sshd is running on the host'],
  ETIMEDOUT: ['connection timed out', 'check the address, and that no firewall blocks the port'],
  EHOSTUNREACH: ['no route to host', 'check the address, and that the host is up and on your network (VPN?)'],
  ENETUNREACH: ['network unreachable', 'check your network connection (VPN?)'],
  ENOTFOUND: ['host name not found', 'check the spelling of the host name, and your DNS'],
  EAI_AGAIN: ['host name lookup failed', 'check your DNS and network connection'],
  ECONNRESET: ['connection reset', 'check the port, and that sshd is running on the host'],
};

function connectError(err: Error & { level?: string; code?: string }, hop: Hop, credentials: Credentials, readyTimeoutMs: number): LabError {
  if (err.level === 'client-authentication') return authRejected(hop, credentials);
  if (err.level === 'agent' && credentials.method === 'agent') {
    return new LabError('auth-agent-unavailable', `Could not use the SSH agent at ${credentials.socket} (${err.message}). Check that ssh-agent is running and SSH_AUTH_SOCK points at it.`);
  }
  if (err.level === 'client-timeout') {
    return unreachable(hop, `no SSH handshake within ${readyTimeoutMs / 1000} s`, 'check the host and port, and that sshd (not another service) answers there');
  }
  const reason = err.code ? UNREACHABLE_REASONS[err.code] : undefined;
  if (reason) return unreachable(hop, reason[0], reason[1], err.code);
  return unreachable(hop, err.message, 'check the host and port, and that sshd is running there');
}

function unreachable(hop: Hop, what: string, advice: string, reason?: string): LabError {
  return new LabError('host-unreachable', `Cannot reach ${hop.host}:${hop.port}: ${what}. Please ${advice}.`, {
    host: hop.host,
    port: hop.port,
    reason: reason ?? what,
  });
}

function authRejected(hop: Hop, credentials: Credentials): LabError {
  const who = `${hop.user}@${hop.host}:${hop.port}`;
  const cannotTell = 'SSH does not say which of the two it is.';
  switch (credentials.method) {
    case 'key':
      return new LabError(
        'auth-key-rejected',
        `${who} rejected the key ${credentials.keyPath} (${credentials.fingerprint}). Either the key is not in ~/.ssh/authorized_keys of user "${hop.user}" on the host, ` +
          `or there is no user "${hop.user}" there; ${cannotTell} Add ${credentials.keyPath}.pub to that user's authorized_keys, or correct the user name.`,
        { user: hop.user, host: hop.host, port: hop.port, keyPath: credentials.keyPath, fingerprint: credentials.fingerprint },
      );
    case 'agent':
      return new LabError(
        'auth-key-rejected',
        `${who} rejected every key the SSH agent offered. Either none of them is in ~/.ssh/authorized_keys of user "${hop.user}" on the host, ` +
          `or there is no user "${hop.user}" there; ${cannotTell} Check the agent's keys with ssh-add -l, and the user name.`,
        { user: hop.user, host: hop.host, port: hop.port, agent: true },
      );
    case 'password':
      return new LabError(
        'auth-password-rejected',
        `${who} rejected the password. Either it is wrong, or there is no user "${hop.user}" there, or the host does not allow password logins; ${cannotTell}`,
        { user: hop.user, host: hop.host, port: hop.port },
      );
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- The transport ----------------------------------------------------------------------

const CLOSE_GRACE_MS = 3_000;
const KILL_GRACE_MS = 2_000;
const SFTP_READ_CHUNK = 32 * 1024;
// SFTP status code SSH_FX_NO_SUCH_FILE (draft-ietf-secsh-filexfer-02).
const SFTP_NO_SUCH_FILE = 2;

class SshTransport implements Transport {
  readonly kind = 'ssh';
  readonly label: string;
  readonly closed: Promise<void>;
  #client: SshClient;
  #jump: SshClient | null;
  #ended = false;
  #closeRequested = false;
  /** Rejecters of commands still running, failed all at once when the connection drops. */
  #running = new Set<(err: LabError) => void>();
  #sftpSession: Promise<SFTPWrapper> | null = null;

  constructor(client: SshClient, jump: SshClient | null, label: string) {
    this.#client = client;
    this.#jump = jump;
    this.label = label;
    // ssh2 emits 'close' once, however the connection ends: close(), server exit, network
    // drop noticed by keepalive, or the jump host's tunnel closing.
    this.closed = new Promise((resolve) => {
      client.once('close', () => {
        this.#ended = true;
        jump?.end();
        for (const reject of this.#running) reject(this.#lost());
        this.#running.clear();
        resolve();
      });
    });
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    let command: string;
    try {
      command = commandLine(argv);
    } catch (err) {
      return Promise.reject(new LabError('invalid-input', `Cannot run that command: ${errorText(err)}.`));
    }
    if (this.#ended) return Promise.reject(this.#lost());
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);

    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let stopTimer: NodeJS.Timeout | undefined;
      let killGraceTimer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        this.#running.delete(onLost);
        clearTimeout(stopTimer);
        clearTimeout(killGraceTimer);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        finish();
      };
      const onLost = (err: LabError) => settle(() => reject(err));
      this.#running.add(onLost);

      const started = (err: Error | undefined, channel: ClientChannel) => {
        if (err) {
          return onLost(this.#ended ? this.#lost() : new LabError('command-failed', `${this.label} refused to start ${argv[0]}: ${err.message}`));
        }
        if (settled) return channel.close();
        let exitCode: number | null = null;
        let exitSignal: string | null = null;
        let timedOut = false;
        let aborted = false;
        let processGroup: number | null = null;
        let killWanted = false;
        const stdout = textCollector(options.onStdout);
        const stderr = textCollector(options.onStderr);
        const stderrWithoutPid = withoutPidLine(stderr.push, (pid) => {
          processGroup = pid;
          if (killWanted) this.#killProcessGroup(pid);
        });
        channel.on('data', stdout.push);
        channel.stderr.on('data', stderrWithoutPid.push);
        channel.on('exit', (code: number | null, signalName?: string) => {
          exitCode = code;
          exitSignal = signalName ?? null;
        });
        const finish = () =>
          settle(() => {
            stderrWithoutPid.end();
            // The contract reports no exit code for a command the timeout ended.
            const result = { exitCode: timedOut ? null : exitCode, signal: exitSignal, stdout: stdout.text(), stderr: stderr.text(), timedOut };
            if (aborted) reject(signal?.reason);
            else resolve(result);
          });
        channel.on('close', finish);
        const kill = () => {
          if (killWanted) return;
          killWanted = true;
          if (processGroup !== null) this.#killProcessGroup(processGroup);
          // If the kill cannot run (no second session allowed, a non-POSIX login shell), stop
          // waiting anyway; the command may then go on running on the host.
          killGraceTimer = setTimeout(() => {
            channel.close();
            finish();
          }, KILL_GRACE_MS);
        };
        if (options.timeoutMs !== undefined) {
          stopTimer = setTimeout(() => {
            timedOut = true;
            kill();
          }, options.timeoutMs);
        }
        if (signal) {
          onAbort = () => {
            aborted = true;
            kill();
          };
          // The abort may have come while the channel was opening.
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }
        // Always send EOF, so a command that reads stdin does not wait forever.
        channel.end(options.stdin);
      };
      try {
        this.#client.exec(reportingPid(command), started);
      } catch {
        onLost(this.#lost());
      }
    });
  }

  /**
   * Kills a command and everything it started, from a second session. SSH's own "signal"
   * request cannot do it: OpenSSH refuses it for root logins (no privilege-separated child),
   * the usual login on a lab host, and ssh2 will not send it once stdin is closed.
   */
  #killProcessGroup(processGroup: number): void {
    try {
      this.#client.exec(commandLine(['kill', '-9', `-${processGroup}`]), (err, channel) => {
        if (err) return; // the caller's grace timer still ends the wait
        channel.resume();
        channel.stderr.resume();
        channel.end();
      });
    } catch {
      // The connection is gone, and the 'close' handler reports that.
    }
  }

  async writeFile(remotePath: string, data: Buffer | string, mode = 0o644): Promise<void> {
    await this.#sftp<void>('write', remotePath, (sftp, done) => sftp.writeFile(remotePath, data, { mode }, (err) => done(err, undefined)));
    // The mode given at open applies only to a new file, and through the server's umask.
    await this.#sftp<void>('chmod', remotePath, (sftp, done) => sftp.chmod(remotePath, mode, (err) => done(err, undefined)));
  }

  readFile(remotePath: string): Promise<Buffer> {
    return this.#sftp<Buffer>('read', remotePath, (sftp, done) => sftp.readFile(remotePath, done));
  }

  async readFileFrom(remotePath: string, offset: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new LabError('invalid-input', `Cannot read ${remotePath} from offset ${offset}: an offset is a whole number of bytes, 0 or more.`);
    }
    const handle = await this.#sftp<Buffer>('open', remotePath, (sftp, done) => sftp.open(remotePath, 'r', done));
    try {
      // The size at this moment is "current EOF": a file still being appended to is read up to here.
      const stats = await this.#sftp<Stats>('stat', remotePath, (sftp, done) => sftp.fstat(handle, done));
      const buffer = Buffer.alloc(Math.max(0, stats.size - offset));
      let filled = 0;
      while (filled < buffer.length) {
        const length = Math.min(buffer.length - filled, SFTP_READ_CHUNK);
        const position = offset + filled;
        const bytesRead = await this.#sftp<number>('read', remotePath, (sftp, done) =>
          sftp.read(handle, buffer, filled, length, position, (err, count) => done(err, count)),
        );
        if (bytesRead === 0) break; // truncated since the stat
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    } finally {
      // A failed close must not hide the data (or the error) we already have.
      await this.#sftp<void>('close', remotePath, (sftp, done) => sftp.close(handle, (err) => done(err, undefined))).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (!this.#ended) {
      this.#closeRequested = true;
      this.#client.end();
      // end() waits for the server to close its side; a host that went silent never does.
      const force = setTimeout(() => {
        this.#client.destroy();
        this.#jump?.destroy();
      }, CLOSE_GRACE_MS);
      await this.closed;
      clearTimeout(force);
    }
    await this.closed;
  }

  #lost(): LabError {
    const what = this.#closeRequested ? 'was closed' : 'was lost';
    return new LabError(
      'connection-lost',
      `The SSH connection to ${this.label} ${what}. A command that was running may or may not have finished on the host; reconnect to continue.`,
      { host: this.label },
    );
  }

  /** Runs one SFTP call on the shared session and turns its error into a LabError. */
  async #sftp<T>(what: string, remotePath: string, call: (sftp: SFTPWrapper, done: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
    const sftp = await this.#openSftp();
    return new Promise<T>((resolve, reject) => {
      call(sftp, (err, value) => (err ? reject(this.#sftpError(err, what, remotePath)) : resolve(value)));
    });
  }

  #openSftp(): Promise<SFTPWrapper> {
    if (this.#ended) return Promise.reject(this.#lost());
    if (this.#sftpSession) return this.#sftpSession;
    const session = new Promise<SFTPWrapper>((resolve, reject) => {
      const opened = (err: Error | undefined, sftp: SFTPWrapper) => {
        if (err) {
          this.#sftpSession = null;
          return reject(
            this.#ended
              ? this.#lost()
              : new LabError('unsupported', `${this.label} did not start an SFTP session (${err.message}). Runtime Lab copies files over SFTP: check the host's sshd_config "Subsystem sftp" line.`),
          );
        }
        // The next call opens a fresh session if the server ends this one.
        sftp.once('close', () => {
          if (this.#sftpSession === session) this.#sftpSession = null;
        });
        resolve(sftp);
      };
      try {
        this.#client.sftp(opened);
      } catch {
        this.#sftpSession = null;
        reject(this.#lost());
      }
    });
    this.#sftpSession = session;
    return session;
  }

  #sftpError(err: Error & { code?: unknown }, what: string, remotePath: string): LabError {
    if (this.#ended) return this.#lost();
    if (err.code === SFTP_NO_SUCH_FILE) return new LabError('not-found', `${remotePath} does not exist on ${this.label}.`, { path: remotePath });
    return new LabError('command-failed', `Could not ${what} ${remotePath} on ${this.label}: ${err.message}.`, { path: remotePath });
  }
}

// The login shell prints its PID on stderr before it runs the command. sshd starts every
// session with setsid(), so that PID is also the process group of the command and of all
// it starts: what a timeout or an abort has to kill.
const PID_LINE = /^rlab-pid (\d+)\n/;
const PID_LINE_MAX = 40;

function reportingPid(command: string): string {
  return `printf 'rlab-pid %s\\n' "$$" >&2; ${command}`;
}

/** Passes stderr on to `pass`, minus the PID line that reportingPid() puts first. */
function withoutPidLine(pass: (chunk: Buffer) => void, onPid: (pid: number) => void): { push: (chunk: Buffer) => void; end: () => void } {
  let head: Buffer | null = Buffer.alloc(0);
  return {
    push(chunk) {
      if (head === null) return pass(chunk);
      head = Buffer.concat([head, chunk]);
      const newline = head.indexOf(0x0a);
      if (newline === -1 && head.length < PID_LINE_MAX) return;
      const match = PID_LINE.exec(head.toString('latin1', 0, newline + 1));
      const rest = match ? head.subarray(newline + 1) : head;
      head = null;
      if (match) onPid(Number(match[1]));
      if (rest.length > 0) pass(rest);
    },
    end() {
      if (head && head.length > 0) pass(head);
      head = null;
    },
  };
}

/** Decodes UTF-8 as it arrives (a character split across chunks stays whole) and keeps all of it. */
function textCollector(onChunk: ((chunk: string) => void) | undefined): { push: (chunk: Buffer) => void; text: () => string } {
  const decoder = new StringDecoder('utf8');
  let text = '';
  const take = (chunk: string) => {
    if (chunk === '') return;
    text += chunk;
    onChunk?.(chunk);
  };
  return {
    push: (chunk) => take(decoder.write(chunk)),
    text: () => {
      take(decoder.end());
      return text;
    },
  };
}
