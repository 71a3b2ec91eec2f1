import { describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { candidatesFromSshConfig } from '../services/hosts/ssh-config-import.ts';

const CONFIG = `
Host *
  ServerAliveInterval 30
  User fallback

Host lab-vm vagrant-default
  HostName 127.0.0.1
  Port 2222
  User vagrant
  IdentityFile ~/.vagrant.d/insecure_private_key
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null

Host metal
  HostName ec2-1-2-3-4.compute.amazonaws.com
  User admin
  ProxyJump bastion@jump.example:2200,second
  IdentityFile /keys/metal.pem

Host legacy
  HostName 10.9.9.9
  ProxyCommand nc %h %p

Host *.internal !skip.internal
  User internal
`;

describe('import from ~/.ssh/config', () => {
  const byAlias = () => Object.fromEntries(candidatesFromSshConfig(CONFIG, 'me').map((c) => [c.alias, c]));

  it('turns every concrete alias into a host draft, skipping wildcard patterns', () => {
    expect(Object.keys(byAlias())).toEqual(['lab-vm', 'vagrant-default', 'metal', 'legacy']);
  });

  it('computes values like OpenSSH: the first value wins, so a User under Host * at the top applies to every alias', () => {
    const vm = byAlias()['lab-vm']!;
    expect(vm.draft.target).toEqual({
      kind: 'ssh',
      ssh: {
        host: '127.0.0.1',
        port: 2222,
        user: 'fallback',
        auth: { method: 'key', keyPath: path.join(os.homedir(), '.vagrant.d/insecure_private_key'), rememberSecret: false },
      },
    });
  });

  it('never inherits StrictHostKeyChecking no, and says so', () => {
    expect(byAlias()['lab-vm']!.warnings.join(' ')).toMatch(/always verifies the host key/);
  });

  it('keeps the first hop of ProxyJump and warns about the rest', () => {
    const metal = byAlias().metal!;
    expect(metal.draft.target.kind === 'ssh' && metal.draft.target.ssh.proxyJump).toBe('bastion@jump.example:2200');
    expect(metal.warnings.join(' ')).toMatch(/first hop/);
  });

  it('explains that ProxyCommand is not supported', () => {
    expect(byAlias().legacy!.warnings.join(' ')).toMatch(/ProxyCommand is not supported/);
  });

  it('reports a config it cannot parse with a clear error', () => {
    expect(() => candidatesFromSshConfig('Host "unterminated\n', 'me')).toThrow(/could not be parsed|SSH config/);
  });
});
