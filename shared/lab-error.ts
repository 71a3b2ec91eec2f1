// One error type that crosses every boundary (IPC, CLI, agent): a stable code the UI and
// tests can branch on, and a message written for the person who has to act on it.

export const LAB_ERROR_CODES = [
  'invalid-input',
  'not-found',
  'host-unreachable',
  'host-key-unknown',
  'host-key-changed',
  'auth-key-rejected',
  'auth-password-rejected',
  'auth-agent-unavailable',
  'key-file-unreadable',
  'key-passphrase-wrong',
  'secret-required',
  'secret-storage-unavailable',
  'connection-lost',
  'command-failed',
  'timeout',
  'ssh-config-invalid',
  'unsupported',
  'internal',
] as const;
export type LabErrorCode = (typeof LAB_ERROR_CODES)[number];

export interface LabErrorShape {
  code: LabErrorCode;
  message: string;
  /** Structured facts for the UI (fingerprints, paths); never secrets. */
  details?: Record<string, string | number | boolean | null>;
}

export class LabError extends Error implements LabErrorShape {
  readonly code: LabErrorCode;
  readonly details?: Record<string, string | number | boolean | null>;

  constructor(code: LabErrorCode, message: string, details?: LabErrorShape['details']) {
    super(message);
    this.name = 'LabError';
    this.code = code;
    if (details) this.details = details;
  }

  toShape(): LabErrorShape {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }

  static from(err: unknown): LabError {
    if (err instanceof LabError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new LabError('internal', message);
  }
}
