// The SSH transport against a real OpenSSH server (tests/lab/sshd.ts), plus the
// known_hosts parsing it relies on. Expected fingerprints come from ssh-keygen, never
// from the code under test.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintSha256, hostEntryName, keyTypeOf, KnownHostsFile } from '../services/transport/known-hosts.ts';
import { connectSsh, parseProxyJump, type ConnectSshOptions } from '../services/transport/ssh-transport.ts';
import type { Transport } from '../services/transport/transport.ts';
import { LabError } from '../shared/lab-error.ts';
import type { SshEndpoint } from '../shared/model/host.ts';
import { freePort, startSshd, type TestSshd } from './lab/sshd.ts';

const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIA' + 'a'.repeat(42);
const KEY_B = 'AAAAC3NzaC1lZDI1NTE5AAAAIB' + 'b'.repeat(42);

let work: string;
let counter = 0;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rlab-ssh-test-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function freshPath(name: string): string {
  counter += 1;
  return join(work, `${counter}-${name}`);
}

async function labError(promise: Promise<unknown>): Promise<LabError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(LabError);
    return err as LabError;
  }
  throw new Error('expected a LabError, but the call succeeded');
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('known_hosts file', () => {
  function fileWith(text: string): KnownHostsFile {
    const path = freshPath('known_hosts');
    writeFileSync(path, text);
    return new KnownHostsFile(path);
  }

  it('finds plain entries: bare name for port 22, [host]:port otherwise, case-insensitively', () => {
    const file = fileWith(`# comment\n\nexample.com ssh-ed25519 ${KEY_A} me@laptop\n[example.com]:2222 ssh-ed25519 ${KEY_B}\n`);
    expect(file.lookup('EXAMPLE.com', 22)).toEqual([{ keyType: 'ssh-ed25519', keyBase64: KEY_A, revoked: false, line: 3 }]);
    expect(file.lookup('example.com', 2222).map((k) => k.keyBase64)).toEqual([KEY_B]);
    expect(file.lookup('example.com', 2200)).toEqual([]);
    expect(file.lookup('other.com', 22)).toEqual([]);
  });

  it('reads entries hashed by ssh-keygen -H', () => {
    const path = freshPath('known_hosts');
    writeFileSync(path, `lab1.example,10.0.0.7 ssh-ed25519 ${KEY_A}\n[lab1.example]:2222 ssh-ed25519 ${KEY_B}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', path], { stdio: 'ignore', timeout: 10_000 });
    expect(readFileSync(path, 'utf8')).not.toContain('lab1.example');
    const file = new KnownHostsFile(path);
    expect(file.lookup('lab1.example', 22).map((k) => k.keyBase64)).toEqual([KEY_A]);
    expect(file.lookup('10.0.0.7', 22).map((k) => k.keyBase64)).toEqual([KEY_A]);
    expect(file.lookup('lab1.example', 2222).map((k) => k.keyBase64)).toEqual([KEY_B]);
    expect(file.lookup('lab2.example', 22)).toEqual([]);
  });

  it('matches comma-separated patterns with *, ? and negation', () => {
    const file = fileWith(`*.lab.example,!bad.lab.example,10.1.1.? ssh-ed25519 ${KEY_A}\n[*.lab.example]:22?? ssh-ed25519 ${KEY_B}\n`);
    expect(file.lookup('n1.lab.example', 22)).toHaveLength(1);
    expect(file.lookup('10.1.1.9', 22)).toHaveLength(1);
    expect(file.lookup('10.1.1.10', 22)).toHaveLength(0);
    expect(file.lookup('bad.lab.example', 22)).toHaveLength(0);
    expect(file.lookup('lab.example', 22)).toHaveLength(0);
    expect(file.lookup('n1.lab.example', 2201).map((k) => k.keyBase64)).toEqual([KEY_B]);
  });

  it('hashes names the way OpenSSH does (HMAC-SHA1 of the entry name)', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[h.example]:2022').digest('base64');
    const file = fileWith(`|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${KEY_A}\n`);
    expect(file.lookup('h.example', 2022)).toHaveLength(1);
    expect(file.lookup('h.example', 22)).toHaveLength(0);
  });

  it('flags @revoked keys and ignores @cert-authority lines', () => {
    const file = fileWith(`@revoked h.example ssh-ed25519 ${KEY_A}\n@cert-authority h.example ssh-ed25519 ${KEY_B}\nh.example ssh-ed25519 ${KEY_B}\n`);
    expect(file.lookup('h.example', 22)).toEqual([
      { keyType: 'ssh-ed25519', keyBase64: KEY_A, revoked: true, line: 1 },
      { keyType: 'ssh-ed25519', keyBase64: KEY_B, revoked: false, line: 3 },
    ]);
  });

  it('add() creates the directory and a 0600 file, and appends after a line without newline', async () => {
    const path = join(freshPath('dir'), 'nested', 'known_hosts');
    const file = new KnownHostsFile(path);
    expect(file.lookup('h', 22)).toEqual([]);
    await file.add('h', 22, 'ssh-ed25519', KEY_A);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    appendFileSync(path, `# hand edit without newline`);
    await file.add('H', 2222, 'ssh-ed25519', KEY_B);
    expect(readFileSync(path, 'utf8')).toBe(`h ssh-ed25519 ${KEY_A}\n# hand edit without newline\n[h]:2222 ssh-ed25519 ${KEY_B}\n`);
    expect(file.lookup('h', 2222).map((k) => k.keyBase64)).toEqual([KEY_B]);
    expect(hostEntryName('::1', 2222)).toBe('[::1]:2222');
  });

  it('computes fingerprints exactly as ssh-keygen -lf, and reads the key type from the blob', () => {
    const keyPath = freshPath('id_ecdsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', keyPath], { stdio: 'ignore', timeout: 10_000 });
    const [type, base64] = readFileSync(`${keyPath}.pub`, 'utf8').split(' ');
    const expected = execFileSync('ssh-keygen', ['-lf', `${keyPath}.pub`], { encoding: 'utf8', timeout: 10_000 }).split(' ')[1];
    const blob = Buffer.from(base64 ?? '', 'base64');
    expect(fingerprintSha256(blob)).toBe(expected);
    expect(keyTypeOf(blob)).toBe(type);
    expect(() => keyTypeOf(Buffer.from([0, 0]))).toThrow();
  });
});

describe('parseProxyJump', () => {
  it('reads [user@]host[:port], defaulting to port 22 and the target user', () => {
    expect(parseProxyJump('bastion', 'alice')).toEqual({ host: 'bastion', port: 22, user: 'alice' });
    expect(parseProxyJump('bob@bastion:2200', 'alice')).toEqual({ host: 'bastion', port: 2200, user: 'bob' });
    expect(parseProxyJump('bob@[::1]:2200', 'alice')).toEqual({ host: '::1', port: 2200, user: 'bob' });
  });

  it('rejects malformed and chained specs', () => {
    expect(() => parseProxyJump('a b', 'u')).toThrow(LabError);
    expect(() => parseProxyJump('host:99999', 'u')).toThrow(LabError);
    expect(() => parseProxyJump('j1,j2', 'u')).toThrow(/one/);
  });
});

describe('SSH transport against a real sshd', () => {
  let sshd: TestSshd;
  const open: Transport[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  function endpoint(overrides: Partial<SshEndpoint> = {}, server: TestSshd = sshd): SshEndpoint {
    return { host: server.host, port: server.port, user: 'root', auth: { method: 'key', keyPath: server.keys.plain, rememberSecret: false }, ...overrides };
  }

  async function trustedKnownHosts(server: TestSshd = sshd): Promise<KnownHostsFile> {
    const file = new KnownHostsFile(freshPath('known_hosts'));
    const key = server.hostKeys[0];
    if (!key) throw new Error('no host key');
    await file.add(server.host, server.port, key.keyType, key.keyBase64);
    return file;
  }

  async function connect(options: Partial<ConnectSshOptions> = {}): Promise<Transport> {
    const transport = await connectSsh({ endpoint: endpoint(), knownHosts: await trustedKnownHosts(), ...options });
    open.push(transport);
    return transport;
  }

  describe('host keys', () => {
    it('refuses an unknown host key, naming the fingerprint ssh-keygen -lf prints', async () => {
      const knownHosts = new KnownHostsFile(freshPath('known_hosts'));
      const err = await labError(connect({ knownHosts }));
      expect(err.code).toBe('host-key-unknown');
      expect(err.details).toMatchObject({ host: sshd.host, port: sshd.port, keyType: 'ssh-ed25519', fingerprint: sshd.hostKeyFingerprint, keyBase64: sshd.hostKeys[0]?.keyBase64 });
      expect(err.message).toContain(sshd.hostKeyFingerprint);
      expect(existsSync(knownHosts.path)).toBe(false);
    });

    it('accepts a new key when asked, records it, and trusts it next time', async () => {
      const knownHosts = new KnownHostsFile(freshPath('known_hosts'));
      const first = await connect({ knownHosts, acceptNewHostKey: true });
      expect((await first.exec(['echo', 'hi'])).stdout).toBe('hi\n');
      expect(readFileSync(knownHosts.path, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ssh-ed25519 ${sshd.hostKeys[0]?.keyBase64}\n`);
      expect(statSync(knownHosts.path).mode & 0o777).toBe(0o600);

      const second = await connect({ knownHosts });
      expect((await second.exec(['echo', 'again'])).stdout).toBe('again\n');
      expect(readFileSync(knownHosts.path, 'utf8').split('\n')).toHaveLength(2);
    });

    it('refuses a changed host key with both fingerprints, runs nothing, and never overwrites the entry', async () => {
      const server = await startSshd();
      try {
        const knownHosts = await trustedKnownHosts(server);
        const oldFingerprint = server.hostKeyFingerprint;
        const before = readFileSync(knownHosts.path, 'utf8');
        const transport = await connectSsh({ endpoint: endpoint({}, server), knownHosts });
        await transport.close();

        await server.restartWithNewHostKey();
        const newFingerprint = server.hostKeyFingerprint;
        expect(newFingerprint).not.toBe(oldFingerprint);
        const logins = (server.log().match(/Accepted publickey/g) ?? []).length;

        const err = await labError(connectSsh({ endpoint: endpoint({}, server), knownHosts, acceptNewHostKey: true }));
        expect(err.code).toBe('host-key-changed');
        expect(err.message).toContain(oldFingerprint);
        expect(err.message).toContain(newFingerprint);
        expect(err.message).toContain(knownHosts.path);
        expect(err.message).toMatch(/administrator/);
        expect(err.details).toMatchObject({ presented: newFingerprint, keyType: 'ssh-ed25519', knownHostsPath: knownHosts.path });
        expect(String(err.details?.expected)).toContain(oldFingerprint);
        // The login never happened, so no command could have run.
        expect((server.log().match(/Accepted publickey/g) ?? []).length).toBe(logins);
        expect(readFileSync(knownHosts.path, 'utf8')).toBe(before);
      } finally {
        await server.stop();
      }
    });

    it('asks a server with several host keys for the type it already knows', async () => {
      const server = await startSshd({ hostKeyTypes: ['ed25519', 'ecdsa'] });
      try {
        const ecdsa = server.hostKeys[1];
        if (!ecdsa) throw new Error('no ECDSA host key');
        const knownHosts = new KnownHostsFile(freshPath('known_hosts'));
        await knownHosts.add(server.host, server.port, ecdsa.keyType, ecdsa.keyBase64);
        const transport = await connectSsh({ endpoint: endpoint({}, server), knownHosts });
        expect((await transport.exec(['true'])).exitCode).toBe(0);
        await transport.close();
      } finally {
        await server.stop();
      }
    });
  });

  describe('authentication', () => {
    it('logs in with a plain key', async () => {
      const transport = await connect();
      expect((await transport.exec(['whoami'])).stdout).toBe('root\n');
      expect(transport.kind).toBe('ssh');
      expect(transport.label).toBe(`root@127.0.0.1:${sshd.port}`);
    });

    it('logs in with a passphrase key given the right passphrase', async () => {
      const transport = await connect({
        endpoint: endpoint({ auth: { method: 'key', keyPath: sshd.keys.withPassphrase, rememberSecret: false } }),
        secret: sshd.keys.passphrase,
      });
      expect((await transport.exec(['whoami'])).stdout).toBe('root\n');
    });

    it('asks for a missing passphrase and reports a wrong one', async () => {
      const passphraseKey = endpoint({ auth: { method: 'key', keyPath: sshd.keys.withPassphrase, rememberSecret: false } });
      const missing = await labError(connect({ endpoint: passphraseKey }));
      expect(missing.code).toBe('secret-required');
      expect(missing.message).toContain(sshd.keys.withPassphrase);
      const wrong = await labError(connect({ endpoint: passphraseKey, secret: 'not-the-passphrase' }));
      expect(wrong.code).toBe('key-passphrase-wrong');
      expect(wrong.message).not.toContain('not-the-passphrase');
    });

    it('names the path of a key file it cannot read', async () => {
      const keyPath = join(work, 'no-such-key');
      const err = await labError(connect({ endpoint: endpoint({ auth: { method: 'key', keyPath, rememberSecret: false } }) }));
      expect(err.code).toBe('key-file-unreadable');
      expect(err.message).toContain(keyPath);
    });

    it('logs in with the right password and reports a wrong one without echoing it', async () => {
      const user = sshd.passwordUser;
      const withPassword = endpoint({ user: user.name, auth: { method: 'password', rememberSecret: false } });
      const transport = await connect({ endpoint: withPassword, secret: user.password });
      expect((await transport.exec(['whoami'])).stdout).toBe(`${user.name}\n`);

      const wrong = await labError(connect({ endpoint: withPassword, secret: 'wrong-password-123' }));
      expect(wrong.code).toBe('auth-password-rejected');
      expect(wrong.message).not.toContain('wrong-password-123');
      expect((await labError(connect({ endpoint: withPassword }))).code).toBe('secret-required');
    });

    it('explains a rejected key: user, key path and fingerprint, and that SSH cannot tell why', async () => {
      const err = await labError(connect({ endpoint: endpoint({ user: 'rlab-no-such-user' }) }));
      expect(err.code).toBe('auth-key-rejected');
      const keyFingerprint = execFileSync('ssh-keygen', ['-lf', sshd.keys.plain], { encoding: 'utf8', timeout: 10_000 }).split(' ')[1] ?? '';
      expect(err.message).toContain('rlab-no-such-user');
      expect(err.message).toContain(sshd.keys.plain);
      expect(err.message).toContain(keyFingerprint);
      expect(err.message).toMatch(/authorized_keys/);
      expect(err.message).toMatch(/does not say/);

      const strangerKey = freshPath('id_stranger');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strangerKey], { stdio: 'ignore', timeout: 10_000 });
      const stranger = await labError(connect({ endpoint: endpoint({ auth: { method: 'key', keyPath: strangerKey, rememberSecret: false } }) }));
      expect(stranger.code).toBe('auth-key-rejected');
    });

    describe('with an SSH agent', () => {
      let agent: ChildProcess;
      let agentSocket: string;

      beforeAll(async () => {
        agentSocket = freshPath('agent.sock');
        agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
        expect(await waitFor(() => existsSync(agentSocket), 5_000)).toBe(true);
        execFileSync('ssh-add', [sshd.keys.plain], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: 'ignore', timeout: 10_000 });
      });
      afterAll(() => {
        agent?.kill('SIGKILL');
      });

      it('logs in with a key held by the agent', async () => {
        const transport = await connect({ endpoint: endpoint({ auth: { method: 'agent' } }), agentSocket });
        expect((await transport.exec(['whoami'])).stdout).toBe('root\n');
      });

      it('reports an agent that is not there', async () => {
        const saved = process.env.SSH_AUTH_SOCK;
        delete process.env.SSH_AUTH_SOCK;
        try {
          expect((await labError(connect({ endpoint: endpoint({ auth: { method: 'agent' } }) }))).code).toBe('auth-agent-unavailable');
        } finally {
          if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
        }
        const gone = await labError(connect({ endpoint: endpoint({ auth: { method: 'agent' } }), agentSocket: join(work, 'no-agent.sock') }));
        expect(gone.code).toBe('auth-agent-unavailable');
      });

      it('says the agent was used when the server rejects its keys', async () => {
        const err = await labError(connect({ endpoint: endpoint({ user: 'rlab-no-such-user', auth: { method: 'agent' } }), agentSocket }));
        expect(err.code).toBe('auth-key-rejected');
        expect(err.message).toMatch(/agent/);
      });
    });
  });

  describe('unreachable hosts', () => {
    it('reports a closed port as host-unreachable, saying why', async () => {
      const port = await freePort();
      const err = await labError(connect({ endpoint: endpoint({ port }) }));
      expect(err.code).toBe('host-unreachable');
      expect(err.details).toMatchObject({ host: '127.0.0.1', port, reason: 'ECONNREFUSED' });
      expect(err.message).toMatch(/refused.*sshd/);
    });

    it('gives up on a server that never speaks SSH after readyTimeoutMs', async () => {
      const sockets: Socket[] = [];
      const silent: Server = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const address = silent.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        const started = Date.now();
        const err = await labError(connect({ endpoint: endpoint({ port }), readyTimeoutMs: 500 }));
        expect(err.code).toBe('host-unreachable');
        expect(err.message).toMatch(/handshake/);
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        for (const socket of sockets) socket.destroy();
        silent.close();
      }
    });
  });

  describe('exec', () => {
    it('streams output as it comes and reports exit codes and signals', async () => {
      const transport = await connect();
      const stdoutChunks: string[] = [];
      let firstChunkAt = 0;
      const result = await transport.exec(['sh', '-c', 'echo one; sleep 0.6; echo two >&2; exit 3'], {
        onStdout: (chunk) => {
          firstChunkAt ||= Date.now();
          stdoutChunks.push(chunk);
        },
      });
      expect(Date.now() - firstChunkAt).toBeGreaterThanOrEqual(400);
      expect(stdoutChunks.join('')).toBe('one\n');
      expect(result).toEqual({ exitCode: 3, signal: null, stdout: 'one\n', stderr: 'two\n', timedOut: false });
      expect((await transport.exec(['true'])).exitCode).toBe(0);
      expect(await transport.exec(['sh', '-c', 'kill -TERM $$'])).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    });

    it('returns all of a large output on both streams', async () => {
      const transport = await connect();
      const result = await transport.exec(['sh', '-c', 'seq 1 200000; seq 1 20000 >&2']);
      expect(result.stdout).toBe(Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join(''));
      expect(result.stderr.split('\n')).toHaveLength(20001);
    });

    it('passes arguments byte-identical, whatever shell syntax they contain', async () => {
      const transport = await connect();
      const marker = freshPath('injected');
      const nasty = `a b  'single' "double" $(touch ${marker}) ; touch ${marker} \`touch ${marker}\` $HOME \\ |& <>\n second line\ttab * ~ é`;
      const result = await transport.exec(['printf', '%s', nasty]);
      expect(result.stdout).toBe(nasty);
      expect((await transport.exec(['printf', '[%s]', ''])).stdout).toBe('[]');
      expect(existsSync(marker)).toBe(false);
    });

    it('runs a "runtime path" with spaces and quotes as one program, with no injection', async () => {
      const transport = await connect();
      const base = freshPath('runtimes');
      const marker = join(base, 'injected');
      mkdirSync(join(base, 'a b'), { recursive: true });
      // If the path were split at the space, this decoy would run and leave the marker.
      writeFileSync(join(base, 'a'), `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
      const runtime = join(base, 'a b', "run'c");
      await transport.writeFile(runtime, `#!/bin/sh\nprintf 'ran:%s\\n' "$@"\n`, 0o755);
      const result = await transport.exec([runtime, `x; touch ${marker}`, '$(touch marker)']);
      expect(result).toMatchObject({ exitCode: 0, stdout: `ran:x; touch ${marker}\nran:$(touch marker)\n` });
      expect(existsSync(marker)).toBe(false);
    });

    it('feeds stdin, small or large, then closes it', async () => {
      const transport = await connect();
      expect((await transport.exec(['cat'], { stdin: 'line 1\nline 2' })).stdout).toBe('line 1\nline 2');
      expect((await transport.exec(['wc', '-c'], { stdin: Buffer.alloc(1 << 20, 7) })).stdout.trim()).toBe(String(1 << 20));
      // No stdin given: the command sees EOF at once instead of waiting.
      expect((await transport.exec(['cat'], { timeoutMs: 5_000 })).timedOut).toBe(false);
    });

    it('kills a command at its timeout', async () => {
      const transport = await connect();
      const pidFile = freshPath('sleep.pid');
      const started = Date.now();
      const result = await transport.exec(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], { timeoutMs: 500 });
      expect(result).toMatchObject({ timedOut: true, exitCode: null });
      expect(Date.now() - started).toBeLessThan(10_000);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitFor(() => !isAlive(pid), 5_000)).toBe(true);
    });

    it('kills a command when aborted, rejecting with the abort reason', async () => {
      const transport = await connect();
      const pidFile = freshPath('sleep.pid');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 500);
      const run = transport.exec(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], { signal: controller.signal });
      await expect(run).rejects.toMatchObject({ name: 'AbortError' });
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitFor(() => !isAlive(pid), 5_000)).toBe(true);
      await expect(transport.exec(['true'], { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    });

    it('kills a command aborted while its channel was still opening', async () => {
      const transport = await connect();
      const pidFile = freshPath('sleep.pid');
      const controller = new AbortController();
      const started = Date.now();
      const run = transport.exec(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], { signal: controller.signal });
      controller.abort();
      await expect(run).rejects.toMatchObject({ name: 'AbortError' });
      // Well under the 2 s grace period: the command really ended, the wait was not cut short.
      expect(Date.now() - started).toBeLessThan(1_500);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // It may have been killed before it wrote its PID; if it did write one, that process is gone.
      if (existsSync(pidFile)) expect(isAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
    });
  });

  describe('files over SFTP', () => {
    it('writes with a mode, reads back, and reads from an offset to the current end', async () => {
      const transport = await connect();
      const dir = freshPath('sftp');
      mkdirSync(dir);
      const file = join(dir, 'results.jsonl');

      await transport.writeFile(file, 'hello world', 0o600);
      expect(readFileSync(file, 'utf8')).toBe('hello world');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      await transport.writeFile(file, Buffer.from('0123456789'), 0o640);
      expect(statSync(file).mode & 0o777).toBe(0o640);
      expect((await transport.readFile(file)).toString()).toBe('0123456789');

      expect((await transport.readFileFrom(file, 4)).toString()).toBe('456789');
      expect((await transport.readFileFrom(file, 10)).length).toBe(0);
      expect((await transport.readFileFrom(file, 50)).length).toBe(0);
      appendFileSync(file, 'abc');
      expect((await transport.readFileFrom(file, 10)).toString()).toBe('abc');
      await expect(transport.readFileFrom(file, -1)).rejects.toMatchObject({ code: 'invalid-input' });

      const big = randomBytes(300_000);
      await transport.writeFile(join(dir, 'big.bin'), big);
      expect(statSync(join(dir, 'big.bin')).mode & 0o777).toBe(0o644);
      expect((await transport.readFileFrom(join(dir, 'big.bin'), 1234)).equals(big.subarray(1234))).toBe(true);
      expect((await transport.readFile(join(dir, 'big.bin'))).equals(big)).toBe(true);
    });

    it('reports a missing file as not-found', async () => {
      const transport = await connect();
      const missing = join(work, 'does-not-exist');
      expect((await labError(transport.readFile(missing))).code).toBe('not-found');
      expect((await labError(transport.readFileFrom(missing, 0))).code).toBe('not-found');
    });
  });

  describe('ProxyJump', () => {
    it('tunnels through the jump host, verifying both host keys', async () => {
      const disconnects = () => (sshd.log().match(/Disconnected from user root/g) ?? []).length;
      const before = disconnects();
      const transport = await connect({ endpoint: endpoint({ proxyJump: `root@${sshd.host}:${sshd.port}` }) });
      expect((await transport.exec(['echo', 'via jump'])).stdout).toBe('via jump\n');
      await transport.close();
      await transport.closed;
      // Both logins, the jump host's and the target's (the same sshd here), have ended.
      expect(await waitFor(() => disconnects() === before + 2, 5_000)).toBe(true);
    });

    it('reports a target the jump host cannot reach', async () => {
      const port = await freePort();
      const err = await labError(connect({ endpoint: endpoint({ port, proxyJump: `${sshd.host}:${sshd.port}` }) }));
      expect(err.code).toBe('host-unreachable');
      expect(err.message).toMatch(/jump host/);
    });
  });

  describe('connection lifetime', () => {
    it('closes cleanly and idempotently; later commands fail with connection-lost', async () => {
      const transport = await connect();
      await Promise.all([transport.close(), transport.close()]);
      await transport.close();
      await transport.closed;
      expect((await labError(transport.exec(['true']))).code).toBe('connection-lost');
      expect((await labError(transport.readFile('/etc/hostname'))).code).toBe('connection-lost');
    });

    it('notices a dropped connection: closed resolves and a running command rejects with connection-lost', async () => {
      const server = await startSshd();
      try {
        const transport = await connectSsh({ endpoint: endpoint({}, server), knownHosts: await trustedKnownHosts(server) });
        let closedYet = false;
        void transport.closed.then(() => (closedYet = true));
        // Observed from the start, so its rejection during stop() is never "unhandled".
        const running = labError(transport.exec(['sleep', '30']));
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(closedYet).toBe(false);
        await server.stop();
        const err = await running;
        expect(err.code).toBe('connection-lost');
        await transport.closed;
        expect(closedYet).toBe(true);
      } finally {
        await server.stop();
      }
    });
  });
});
