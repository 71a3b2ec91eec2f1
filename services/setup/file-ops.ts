import { createHash } from 'node:crypto';

// The engine's own commands for config files: read, back up, write atomically, restore.
// Paths travel as positional arguments ("$1"), never inside the script text, so any path
// is safe. Backups live in {labDir}/setup/backups/<key>/ on the host: `original` (when the
// file existed), `state` (existed|absent) and `path`. Only the first backup of a file is
// kept, so a restore goes back to the host as it was before Runtime Lab touched it.

/** Exit code of READ_SCRIPT for "no such file" (cat itself exits 1 on errors). */
export const ABSENT_EXIT = 3;

const READ_SCRIPT = `if [ -e "$1" ]; then exec cat -- "$1"; else exit ${ABSENT_EXIT}; fi`;

const BACKUP_SCRIPT = `set -e
[ -e "$2/state" ] && exit 0
mkdir -p -- "$2"
if [ -e "$1" ]; then cp -p -- "$1" "$2/original"; echo existed > "$2/state"; else echo absent > "$2/state"; fi
printf '%s\\n' "$1" > "$2/path"`;

// Copy first (cp -p keeps the owner and mode of an existing file), then overwrite the copy
// from stdin and rename it over the original: a dropped connection never leaves half a file.
const WRITE_SCRIPT = `set -e
mkdir -p -- "$(dirname -- "$1")"
t="$1.runtime-lab.tmp"
if [ -e "$1" ]; then cp -p -- "$1" "$t"; fi
cat > "$t"
if [ -n "$2" ]; then chmod "$2" "$t"; fi
mv -f -- "$t" "$1"`;

// Restores every backup (or only those of the paths given after the backups folder) and
// removes it. Prints "restored PATH" or "removed PATH" per file.
const RESTORE_SCRIPT = `set -e
root=$1; shift
[ -d "$root" ] || exit 0
for d in "$root"/*/; do
  [ -f "$d/state" ] || continue
  p=$(cat "$d/path")
  if [ "$#" -gt 0 ]; then
    wanted=no
    for w in "$@"; do [ "$w" = "$p" ] && wanted=yes; done
    [ "$wanted" = yes ] || continue
  fi
  if [ "$(cat "$d/state")" = existed ]; then cp -p -- "$d/original" "$p"; echo "restored $p"; else rm -f -- "$p"; echo "removed $p"; fi
  rm -rf -- "$d"
done`;

export function backupsDir(labDir: string): string {
  return `${labDir}/setup/backups`;
}

export function backupKey(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 16);
}

export function readFileArgv(path: string): string[] {
  return ['sh', '-c', READ_SCRIPT, 'sh', path];
}

export function backupFileArgv(path: string, labDir: string): string[] {
  return ['sh', '-c', BACKUP_SCRIPT, 'sh', path, `${backupsDir(labDir)}/${backupKey(path)}`];
}

/** The new content goes to stdin; mode is octal text, or '' to keep the file's own. */
export function writeFileArgv(path: string, mode: number | null): string[] {
  return ['sh', '-c', WRITE_SCRIPT, 'sh', path, mode === null ? '' : mode.toString(8)];
}

export function restoreArgv(labDir: string, paths: readonly string[] = []): string[] {
  return ['sh', '-c', RESTORE_SCRIPT, 'sh', backupsDir(labDir), ...paths];
}
