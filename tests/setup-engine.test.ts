import { describe, expect, it } from 'vitest';
import type { Daemon } from '../knowledge/schema.ts';
import { daemonArgv } from '../services/setup/daemon-commands.ts';
import { applyEdit } from '../services/setup/edits.ts';
import { withPrivilege } from '../services/setup/privilege.ts';
import { renderArgv, renderScript, validateParamValue } from '../services/setup/template.ts';

// The engine's pure parts: templates, edits as content functions, privilege wrapping,
// daemon commands. The real runs are in setup-real.test.ts.

describe('templates', () => {
  it('argv elements take values as they are; {{@list}} spreads', () => {
    expect(renderArgv(['dockerd', '-H', 'unix://{{sock}}', '{{@extra}}'], { sock: '/tmp/a b/docker.sock', extra: ['--iptables=false', '--bridge=none'] }))
      .toEqual(['dockerd', '-H', 'unix:///tmp/a b/docker.sock', '--iptables=false', '--bridge=none']);
  });

  it('scripts get quoted assignments of the parameters they use, never spliced text', () => {
    const script = renderScript('mkdir -p "$bundleDir/rootfs"', { bundleDir: "/tmp/it's; rm -rf /", other: 'x' });
    expect(script).toBe(`bundleDir='/tmp/it'\\''s; rm -rf /'\nmkdir -p "$bundleDir/rootfs"`);
  });

  it('refuses values that could break TOML, JSON or unit files', () => {
    for (const bad of ['a"b', "a'b", 'a$b', 'a`b', 'a\\b', 'a\nb']) expect(() => validateParamValue('p', bad)).toThrow(/parameter p/i);
    expect(() => validateParamValue('p', '/var/lib/my lab')).not.toThrow();
  });
});

describe('edits', () => {
  it('json-merge keeps an unchanged file byte for byte and deep-merges otherwise', () => {
    const edit = { kind: 'json-merge' as const, path: '/d.json', value: { runtimes: { runsc: { path: '/usr/bin/runsc' } } } };
    const original = '{"runtimes": {"runsc": {"path": "/usr/bin/runsc"}}, "debug": true}';
    expect(applyEdit(edit, original)).toBe(original);
    expect(JSON.parse(applyEdit(edit, '{"runtimes": {"crun": {"path": "/usr/bin/crun"}}}'))).toEqual({
      runtimes: { crun: { path: '/usr/bin/crun' }, runsc: { path: '/usr/bin/runsc' } },
    });
    expect(applyEdit(edit, null)).toBe('{\n  "runtimes": {\n    "runsc": {\n      "path": "/usr/bin/runsc"\n    }\n  }\n}\n');
    expect(() => applyEdit(edit, '{ not json')).toThrow(/not valid JSON/);
  });

  it('managed blocks are appended once, replaced in place, and exclusive drops foreign lines', () => {
    const block = (content: string, exclusive = false) => ({ kind: 'managed-block' as const, path: '/c.toml', marker: 'crun', content, exclusive });
    const once = applyEdit(block('a = 1'), 'version = 2\n');
    expect(once).toBe('version = 2\n# BEGIN runtime-lab crun\na = 1\n# END runtime-lab crun\n');
    expect(applyEdit(block('a = 1'), once)).toBe(once);
    expect(applyEdit(block('a = 2'), once)).toBe('version = 2\n# BEGIN runtime-lab crun\na = 2\n# END runtime-lab crun\n');
    expect(applyEdit(block('a = 1', true), `foreign = true\n${once.slice('version = 2\n'.length)}`)).toBe('# BEGIN runtime-lab crun\na = 1\n# END runtime-lab crun\n');
  });
});

describe('privilege', () => {
  it('root runs as is; passwordless sudo uses -n; a sudo password goes to stdin only', () => {
    expect(withPrivilege(['id'], true, { mode: 'root' })).toEqual({ argv: ['id'] });
    expect(withPrivilege(['id'], true, { mode: 'sudo' })).toEqual({ argv: ['sudo', '-n', '--', 'id'] });
    const wrapped = withPrivilege(['id'], true, { mode: 'sudo-password', password: 's3cret pass' });
    expect(wrapped.argv.join(' ')).not.toContain('s3cret');
    expect(wrapped.argv).toEqual(['sudo', '-S', '-k', '-p', '', '--', 'id']);
    expect(wrapped.stdinPrefix).toBe('s3cret pass\n');
    expect(withPrivilege(['id'], false, { mode: 'none' })).toEqual({ argv: ['id'] });
    expect(() => withPrivilege(['id'], true, { mode: 'none' })).toThrow(/needs root/);
  });
});

describe('daemon commands', () => {
  const daemon: Daemon = {
    id: 'containerd', systemdUnit: 'containerd', argv: ['containerd', '--address', '{{addr}}'], ready: ['ctr', '--address', '{{addr}}', 'version'],
    readyTimeoutMs: 2_000, reloadsOnHup: false, shimMarker: '-address {{addr}}',
  };
  const params = { labDir: '/home/u/.runtime-lab', addr: '/run/c d.sock' };

  it('without systemd: setsid, a pidfile under the lab folder, a bounded readiness wait', () => {
    const [, , script] = daemonArgv(daemon, 'start', params, 'other');
    expect(script).toContain("setsid containerd --address '/run/c d.sock' </dev/null >>/home/u/.runtime-lab/daemons/containerd.log 2>&1 &");
    expect(script).toContain('echo "$!" > /home/u/.runtime-lab/daemons/containerd.pid');
    expect(script).toContain('"$i" -lt 8');
  });

  it('with systemd: systemctl, then the same readiness wait', () => {
    expect(daemonArgv(daemon, 'restart', params, 'systemd')[2]).toMatch(/^systemctl restart containerd\n/);
    expect(daemonArgv(daemon, 'running', params, 'systemd')).toEqual(['sh', '-c', "ctr --address '/run/c d.sock' version >/dev/null 2>&1"]);
  });
});
