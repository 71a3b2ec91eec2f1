import { LabError } from '../../shared/lab-error.ts';

// How a step that needs root runs for the login user. The sudo password, when there is
// one, lives only in this object for the session: it is written to sudo's standard input
// and never appears in an argv, a journal, an event or a message.

export type Privilege =
  | { mode: 'root' }
  | { mode: 'sudo' }
  | { mode: 'sudo-password'; password: string }
  | { mode: 'none' };

export interface PrivilegedCommand {
  argv: string[];
  /** Written before the command's own input (the sudo password line), never shown. */
  stdinPrefix?: string;
}

export function choosePrivilege(uid: number, passwordlessSudo: boolean | null, password?: string): Privilege {
  if (uid === 0) return { mode: 'root' };
  if (passwordlessSudo) return { mode: 'sudo' };
  if (password !== undefined) return { mode: 'sudo-password', password };
  return { mode: 'none' };
}

/** The argv shown in the dry run and run as is; for sudo-password also what goes to stdin. */
export function withPrivilege(argv: readonly string[], needsRoot: boolean, privilege: Privilege): PrivilegedCommand {
  if (!needsRoot || privilege.mode === 'root') return { argv: [...argv] };
  switch (privilege.mode) {
    case 'sudo':
      return { argv: ['sudo', '-n', '--', ...argv] };
    case 'sudo-password':
      // -k: always ask, so the password line is never left over as the command's input;
      // -p '': no prompt text mixed into the output.
      return { argv: ['sudo', '-S', '-k', '-p', '', '--', ...argv], stdinPrefix: `${privilege.password}\n` };
    case 'none':
      throw new LabError('unsupported', 'This step needs root: log in as root, allow passwordless sudo, or give the sudo password.');
  }
}
