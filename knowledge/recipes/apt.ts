import type { Command } from '../schema.ts';

// Installing Debian/Ubuntu packages, the same way in every recipe: non-interactive, no
// recommends, and one `apt-get update` only when the package lists are too old to know
// the package (a fresh cloud image has none).

export function aptInstall(...packages: string[]): Command {
  const list = packages.join(' ');
  return {
    script: `export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends ${list} || { apt-get update -q && apt-get install -y -q --no-install-recommends ${list}; }`,
  };
}

/** Exits 0 when every named command is on PATH. */
export function haveCommands(...names: string[]): Command {
  return { script: names.map((n) => `command -v ${n} >/dev/null 2>&1`).join(' && ') };
}
