// One way to reach a lab host, whatever it is: an SSH server or this computer.
// Commands are argument vectors, never strings: the SSH side quotes them with
// shared/shell-quote.ts, the local side spawns them without a shell.

export interface ExecOptions {
  /** Written to the command's standard input, then closed. */
  stdin?: string | Buffer;
  /** Kill the command (and report timedOut) after this long. */
  timeoutMs?: number;
  /** Live output, as it arrives (UTF-8 chunks). */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Aborting kills the command. */
  signal?: AbortSignal;
}

export interface ExecResult {
  /** Null when the command was ended by a signal or the timeout. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface Transport {
  readonly kind: 'ssh' | 'local';
  /** "user@host:port" or "this computer": for messages, never containing secrets. */
  readonly label: string;
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Write a file on the host (parent directory must exist); mode defaults to 0644. */
  writeFile(remotePath: string, data: Buffer | string, mode?: number): Promise<void>;
  readFile(remotePath: string): Promise<Buffer>;
  /** Read a file from a byte offset to its current end (for tailing results files). */
  readFileFrom(remotePath: string, offset: number): Promise<Buffer>;
  /** Resolves when the connection ends for any reason; used to notice a dropped SSH link. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Runs a shell script on the host with `sh -c`, the script passed as one quoted argument. */
export function execScript(transport: Transport, script: string, options?: ExecOptions): Promise<ExecResult> {
  return transport.exec(['sh', '-c', script], options);
}
