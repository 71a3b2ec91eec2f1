// POSIX shell quoting for commands that must cross SSH, where the remote side always
// hands the command line to the login shell. Every argument is single-quoted, so no
// character (space, quote, $, ;, backtick, newline) can change the command's meaning.

const SAFE = /^[A-Za-z0-9_\-+=.,/:@%]+$/;

export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command');
  return argv.map(quoteArg).join(' ');
}
