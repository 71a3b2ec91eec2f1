import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RECIPES } from '../knowledge/recipes/index.ts';
import type { Command, ParsedRecipe } from '../knowledge/schema.ts';
import { SIGNATURES } from '../knowledge/signatures.ts';
import { DaemonAction } from '../knowledge/schema.ts';
import { daemonArgv } from '../services/setup/daemon-commands.ts';
import { backupFileArgv, readFileArgv, restoreArgv, writeFileArgv } from '../services/setup/file-ops.ts';
import { placeholders, renderScript, type Params } from '../services/setup/template.ts';
import { runCheck } from '../knowledge/checks.ts';
import { buildReport } from '../services/setup/doctor.ts';
import type { HostContext } from '../services/setup/host-context.ts';
import { planSetup, type SetupPlan } from '../services/setup/plan.ts';
import type { ToolId } from '../shared/model/host-facts.ts';
import { hostFacts } from './lab/host-facts-fixture.ts';

// Static checks of every recipe, including those that cannot run on this machine (Kata,
// Firecracker, Nabla, cri-o, crictl, youki): every script parses with bash -n and dash -n
// and passes Debian's shellcheck; every template names a declared parameter; every URL
// and version is well-formed; every Nabla patch is a valid unified diff that applies to
// the text it describes.

const work = mkdtempSync(join(tmpdir(), 'rlab-recipes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const BUILTINS: Params = { labDir: '/home/lab/.runtime-lab', arch: 'x86_64', goArch: 'amd64', kernel: '6.1.0-13-amd64' };
const ALL_PARAMS: Params = { ...BUILTINS, ...Object.fromEntries(RECIPES.flatMap((r) => r.params.map((p) => [p.name, p.default]))) };

interface Script { where: string; text: string }

function stepsOf(recipe: ParsedRecipe) {
  return [...recipe.steps, ...recipe.verify];
}

function commandsOf(step: ParsedRecipe['steps'][number]): Command[] {
  return [...(step.check ? [step.check] : []), ...step.apply, ...step.afterChange, ...step.onCancel];
}

function allScripts(): Script[] {
  const scripts: Script[] = [];
  for (const recipe of RECIPES) {
    for (const step of stepsOf(recipe)) {
      for (const command of commandsOf(step)) {
        if ('script' in command) scripts.push({ where: `${recipe.id}/${step.id}`, text: renderScript(command.script, ALL_PARAMS) });
      }
    }
    for (const daemon of recipe.daemons) {
      for (const action of DaemonAction.options) {
        for (const init of ['systemd', 'other'] as const) {
          const argv = daemonArgv(daemon, action, ALL_PARAMS, init);
          scripts.push({ where: `${recipe.id} daemon ${daemon.id} ${action} (${init})`, text: argv[2]! });
        }
      }
    }
  }
  for (const s of SIGNATURES) {
    for (const command of s.autoFix?.commands ?? []) {
      if ('script' in command) scripts.push({ where: `signature ${s.id}`, text: renderScript(command.script, { ...ALL_PARAMS, taskId: 'rv2' }) });
    }
  }
  const p = '/etc/docker/daemon.json';
  for (const argv of [readFileArgv(p), backupFileArgv(p, '/home/lab/.runtime-lab'), writeFileArgv(p, 0o644), restoreArgv('/home/lab/.runtime-lab')]) {
    scripts.push({ where: `file-ops ${argv[2]!.split('\n')[0]}`, text: argv[2]! });
  }
  return scripts;
}

const SCRIPTS = allScripts();

describe('recipe scripts', () => {
  it('there are scripts of every recipe to check', () => {
    for (const recipe of RECIPES) expect(SCRIPTS.some((s) => s.where.startsWith(`${recipe.id}`)), recipe.id).toBe(true);
  });

  it('parse with bash -n and dash -n', () => {
    const failures: string[] = [];
    for (const [i, script] of SCRIPTS.entries()) {
      const file = join(work, `syntax-${i}.sh`);
      writeFileSync(file, script.text);
      for (const shell of ['bash', 'dash']) {
        const r = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
        if (r.status !== 0) failures.push(`${script.where} (${shell}): ${r.stderr}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('pass shellcheck as POSIX sh', () => {
    const files = SCRIPTS.map((script, i) => {
      const file = join(work, `check-${i}.sh`);
      writeFileSync(file, `#!/bin/sh\n# ${script.where}\n${script.text}\n`);
      return file;
    });
    // SC2016: $ inside single quotes is meant literally (jq/awk programs, sed expressions).
    const r = spawnSync('shellcheck', ['-s', 'sh', '-e', 'SC2016', '-f', 'gcc', ...files], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe('');
  });
});

describe('recipe templates, URLs and versions', () => {
  function related(recipe: ParsedRecipe): Set<string> {
    const ids = new Set([recipe.id, ...recipe.requires, ...recipe.after]);
    for (const step of stepsOf(recipe)) for (const id of step.when?.planIncludes ?? []) ids.add(id);
    // Required recipes bring their own requirements' parameters.
    for (const id of [...ids]) for (const r of RECIPES.find((x) => x.id === id)?.requires ?? []) ids.add(r);
    return ids;
  }

  it('templates name only parameters of the recipe, of recipes it relates to, or built-ins', () => {
    const problems: string[] = [];
    for (const recipe of RECIPES) {
      const known = new Set([...Object.keys(BUILTINS), ...RECIPES.filter((r) => related(recipe).has(r.id)).flatMap((r) => r.params.map((p) => p.name))]);
      const texts = [
        ...stepsOf(recipe).flatMap((s) => [
          ...commandsOf(s).flatMap((c) => ('argv' in c ? c.argv : [])),
          ...s.edits.flatMap((e) => [e.path, e.kind === 'json-merge' ? JSON.stringify(e.value) : e.content]),
          s.expectOutput ?? '',
        ]),
        ...recipe.daemons.flatMap((d) => [...d.argv, ...d.ready, d.shimMarker ?? '']),
        ...recipe.params.map((p) => (typeof p.default === 'string' ? p.default : '')),
      ];
      for (const name of texts.flatMap(placeholders)) if (!known.has(name)) problems.push(`${recipe.id}: {{${name}}}`);
      for (const step of stepsOf(recipe)) {
        for (const c of commandsOf(step)) {
          if (!('script' in c)) continue;
          for (const m of c.script.matchAll(/\$\{?([a-z][A-Za-z0-9]*)/g)) {
            const name = m[1]!;
            if (ALL_PARAMS[name] !== undefined && !known.has(name)) problems.push(`${recipe.id}/${step.id}: $${name} belongs to an unrelated recipe`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every download URL and every URL in a script is well-formed', () => {
    const urls = RECIPES.flatMap((r) => r.downloads.map((d) => d.url));
    for (const script of SCRIPTS) {
      // Variables in a URL stand for their default values.
      const expanded = script.text.replace(/\$\([^)]*\)/g, 'x').replace(/\$\{?([A-Za-z][A-Za-z0-9]*)\}?/g, (_, name: string) => {
        const value = ALL_PARAMS[name];
        return typeof value === 'string' ? value : name === 'arch' ? 'x86_64' : 'x';
      });
      urls.push(...[...expanded.matchAll(/https?:\/\/[^\s"')]+/g)].map((m) => m[0]));
    }
    expect(urls.length).toBeGreaterThan(10);
    for (const url of urls) {
      const parsed = new URL(url);
      expect(['https:', 'http:'], url).toContain(parsed.protocol);
      expect(parsed.hostname, url).toMatch(/^[a-z0-9.-]+\.[a-z]{2,}$/);
      expect(url, url).not.toMatch(/\s|\$/);
    }
  });

  it('versions and revisions are well-formed, and pinned downloads carry the pinned version', () => {
    const params = RECIPES.flatMap((r) => r.params.map((p) => ({ recipe: r, ...p })));
    for (const p of params.filter((x) => /Version$/.test(x.name))) {
      expect(p.default, p.name).toMatch(/^v?\d+\.\d+(\.\d+)?([.~-][0-9A-Za-z.~-]+)?$/);
      const pinned = String(p.default).replace(/^v/, '');
      for (const d of p.recipe.downloads.filter((x) => /releases\/download/.test(x.url))) expect(d.url, p.name).toContain(pinned);
    }
    for (const p of params.filter((x) => /Rev$/.test(x.name) && x.default !== 'master')) expect(p.default, p.name).toMatch(/^[0-9a-f]{6,40}$/);
    expect(params.find((p) => p.name === 'runncRev')?.default).toBe('b78fe29');
    expect(params.find((p) => p.name === 'rumprunRev')?.default).toBe('8b01b3');
    expect(params.find((p) => p.name === 'kata1Channel')?.default).toBe('stable-1.5');
    for (const recipe of RECIPES) expect(recipe.version, recipe.id).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('lists which recipes ran for real and why the others did not', () => {
    const ran = RECIPES.filter((r) => r.status.ran).map((r) => r.id).sort();
    expect(ran).toEqual(['containerd', 'crun', 'docker', 'node', 'oci-bundle', 'runc', 'runsc']);
    const docs = readFileSync(new URL('../docs/knowledge-base.md', import.meta.url), 'utf8');
    for (const recipe of RECIPES.filter((r) => !r.status.ran)) expect(docs, recipe.id).toContain(`\`${recipe.id}\``);
  });

  it('step ids are unique within a recipe and every step of a daemon names a declared daemon', () => {
    const daemons = new Set(RECIPES.flatMap((r) => r.daemons.map((d) => d.id)));
    for (const recipe of RECIPES) {
      const ids = stepsOf(recipe).map((s) => s.id);
      expect(new Set(ids).size, recipe.id).toBe(ids.length);
      for (const step of stepsOf(recipe)) {
        for (const c of commandsOf(step)) if ('daemon' in c) expect(daemons, `${recipe.id}/${step.id}`).toContain(c.daemon);
      }
    }
  });
});

describe('Nabla patches', () => {
  const dir = new URL('../knowledge/patches/', import.meta.url);
  const patches = readdirSync(dir).filter((f) => f.endsWith('.patch'));

  it('are the three the seed describes', () => {
    expect(patches.sort()).toEqual(['rumprun-bake-usr-lib.patch', 'rumprun-libunwind-negative-shift.patch', 'rumprun-pr118-fallthrough-extraccflags.patch']);
  });

  for (const name of patches) {
    it(`${name} is a unified diff that applies to the text it describes`, () => {
      const text = readFileSync(new URL(name, dir), 'utf8');
      const tree = join(work, name);
      // Rebuild each file's pre-image from the hunks (blank filler lines before each), then let patch(1) apply it.
      const files = new Map<string, string[]>();
      let file = '';
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line.startsWith('--- a/')) {
          file = line.slice(6);
          expect(lines[i + 1]).toBe(`+++ b/${file}`);
          files.set(file, files.get(file) ?? []);
          continue;
        }
        const hunk = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@/.exec(line);
        if (!hunk) continue;
        const [oldStart, oldCount, , newCount] = hunk.slice(1).map(Number) as [number, number, number, number];
        const body: string[] = [];
        let j = i + 1;
        let olds = 0;
        let news = 0;
        while (j < lines.length && (olds < oldCount || news < newCount)) {
          const l = lines[j]!;
          const kind = l[0];
          expect([' ', '-', '+'], `${name}:${j + 1}`).toContain(kind);
          if (kind !== '+') { olds++; body.push(l.slice(1)); }
          if (kind !== '-') news++;
          j++;
        }
        expect([olds, news], `${name} hunk at line ${i + 1}`).toEqual([oldCount, newCount]);
        const pre = files.get(file)!;
        while (pre.length < oldStart - 1) pre.push('');
        pre.push(...body);
        i = j - 1;
      }
      expect(files.size).toBeGreaterThan(0);
      for (const [path, content] of files) {
        mkdirSync(dirname(join(tree, path)), { recursive: true });
        writeFileSync(join(tree, path), `${content.join('\n')}\n`);
      }
      execFileSync('patch', ['-p1', '--dry-run', '--fuzz=0', '-i', new URL(name, dir).pathname], { cwd: tree, encoding: 'utf8' });
    });
  }
});

describe('containerd: restrict_oom_score_adj from the host probe', () => {
  const context = (oomScoreAdjLowerable: boolean | null): HostContext => ({
    facts: hostFacts(),
    probes: { systemd: false, unifiedControllers: null, reachable: {}, sudoPassword: false, oomScoreAdjLowerable },
    home: '/root',
    init: 'other',
    privilege: { mode: 'root' },
  });
  const configOf = (plan: SetupPlan) => {
    const edit = plan.steps.find((s) => s.key === 'containerd/config')!.edits[0]!.edit;
    return edit.kind === 'managed-block' ? edit.content : '';
  };

  it('is chosen true only where root cannot lower oom_score_adj, and renders both ways', () => {
    const refused = planSetup(context(false), { recipes: ['containerd'] });
    expect(refused.params.criRestrictOomScoreAdj).toBe('true');
    expect(refused.paramNotes.criRestrictOomScoreAdj).toMatch(/cannot lower oom_score_adj/);
    expect(configOf(refused)).toContain('  restrict_oom_score_adj = true\n');
    for (const probed of [true, null]) {
      const plan = planSetup(context(probed), { recipes: ['containerd'] });
      expect(plan.params.criRestrictOomScoreAdj).toBe('false');
      expect(configOf(plan)).toContain('  restrict_oom_score_adj = false\n');
    }
    expect(configOf(planSetup(context(true), { recipes: ['containerd'], params: { criRestrictOomScoreAdj: 'true' } }))).toContain('restrict_oom_score_adj = true');
    expect(() => planSetup(context(true), { recipes: ['containerd'], params: { criRestrictOomScoreAdj: 'yes' } })).toThrow(/takes false or true/);
  });

  it('both renderings are configs containerd itself loads, with the option as written', () => {
    for (const value of ['true', 'false']) {
      const file = join(work, `containerd-${value}.toml`);
      writeFileSync(file, configOf(planSetup(context(true), { recipes: ['containerd'], params: { criRestrictOomScoreAdj: value } })));
      const dump = execFileSync('containerd', ['--config', file, 'config', 'dump'], { encoding: 'utf8', timeout: 60_000 });
      expect(dump).toContain(`restrict_oom_score_adj = ${value}`);
    }
  });

  it('the check explains the trap; the doctor lists it among the host checks', () => {
    expect(runCheck('oom-score-adj', { facts: hostFacts(), probes: context(true).probes })).toMatchObject({ verdict: 'ok' });
    const refused = runCheck('oom-score-adj', { facts: hostFacts(), probes: context(false).probes });
    expect(refused).toMatchObject({ verdict: 'warn' });
    expect(refused.reason).toContain("can't get final child's PID from pipe: EOF");
    expect(refused.fix).toContain('restrict_oom_score_adj = true');
    expect(buildReport('lab', context(false)).checks.map((c) => c.id)).toContain('oom-score-adj');
  });
});

describe('method cri', () => {
  it('needs containerd and ctr (Runtime Lab\'s own CRI client), never crictl', () => {
    const cri = RECIPES.flatMap((r) => r.methods.filter((m) => m.method === 'cri' && !m.unsupported).map((m) => ({ id: r.id, ...m })));
    expect(cri.map((m) => m.id).sort()).toEqual(['crun', 'kata-fc', 'kata-qemu', 'runc', 'runsc', 'youki']);
    for (const m of cri) {
      expect(m.tools, m.id).toEqual(['containerd', 'ctr']);
      expect(m.recipes, m.id).toContain('containerd');
      expect(m.recipes, m.id).not.toContain('crictl');
    }
  });

  it('the doctor names containerd\'s setup when ctr is missing', () => {
    const tool = (id: ToolId, found: boolean) => ({ id, found, path: found ? `/usr/bin/${id}` : null, version: found ? '1' : null, error: null });
    const facts = hostFacts({ tools: [tool('runc', true), tool('containerd', true), tool('ctr', false)] });
    const probes = { systemd: false, unifiedControllers: null, reachable: {}, sudoPassword: false, oomScoreAdjLowerable: true };
    const runc = buildReport('lab', { facts, probes, home: '/root', init: 'other', privilege: { mode: 'root' } }).matrix.find((r) => r.runtime === 'runc')!;
    expect(runc.cells.cri).toEqual({ status: 'fails', reason: 'ctr is not installed: runtime-lab setup TARGET --runtime containerd' });
  });
});
