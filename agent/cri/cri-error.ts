import { status, type ServiceError } from '@grpc/grpc-js';

// A failed CRI call, in words a person can act on. The endpoint's own text is always kept
// (it is what a sample's error stores); the known situations get the reason and the fix in
// front of it: no socket, a containerd without its CRI plugin, a deadline.

export class CriError extends Error {
  /** The CRI method, e.g. RunPodSandbox. */
  readonly method: string;
  /** The gRPC status code; null when the call never reached the transport. */
  readonly code: number | null;
  /** The endpoint's (or grpc-js's) own message. */
  readonly details: string;
  readonly timedOut: boolean;

  constructor(method: string, code: number | null, details: string, message: string) {
    super(message);
    this.name = 'CriError';
    this.method = method;
    this.code = code;
    this.details = details;
    this.timedOut = code === status.DEADLINE_EXCEEDED;
  }
}

/** `unix:///run/x.sock`, `unix:/run/x.sock` and `/run/x.sock` all name the socket /run/x.sock. */
export function socketPathOf(address: string): string {
  return address.replace(/^unix:\/\//, '').replace(/^unix:/, '');
}

/** The CriError for a grpc-js failure of `method` at `address`. */
export function criError(method: string, address: string, timeoutMs: number, err: ServiceError): CriError {
  const details = err.details || err.message;
  return new CriError(method, err.code, details, explain(method, address, timeoutMs, err.code, details));
}

function explain(method: string, address: string, timeoutMs: number, code: number, details: string): string {
  const socket = socketPathOf(address);
  if (code === status.DEADLINE_EXCEEDED) return `${method} timed out after ${timeoutMs} ms (${details})`;
  if (code === status.UNAVAILABLE && /ENOENT|ECONNREFUSED|EACCES|No connection established|connect/i.test(details)) {
    return `no CRI endpoint answers at ${socket}: ${details}. Is containerd (or cri-o) running, and is this its socket (plan cri.address, CLI --cri-address)?`;
  }
  if (code === status.UNIMPLEMENTED && /unknown service runtime\.v1\./.test(details)) {
    return `${socket} answers gRPC but does not serve the CRI v1 API (${details}): containerd's CRI plugin (io.containerd.grpc.v1.cri) is disabled or failed to load. ` +
      'Remove "io.containerd.grpc.v1.cri" (or "cri") from disabled_plugins in containerd\'s config.toml, restart containerd, and check that `ctr plugins ls` lists cri as ok ' +
      '(containerd older than 1.6 serves only v1alpha2: upgrade it).';
  }
  return `${method}: ${details}`;
}
