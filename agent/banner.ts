// The first line of the bundled agent names its version and the sha256 of the code below
// it. The desktop caches uploads by that hash; `version` recomputes it from the file on
// disk, so a truncated or edited upload shows up as a mismatch instead of a strange run.

const PREFIX = '// runtime-lab-agent ';

export function agentBanner(version: string, sha256: string): string {
  return `${PREFIX}${version} sha256:${sha256}\n`;
}

/** The code the banner's hash covers: everything after the banner line. */
export function withoutBanner(code: Buffer): Buffer {
  if (!code.subarray(0, PREFIX.length).equals(Buffer.from(PREFIX))) return code;
  return code.subarray(code.indexOf(0x0a) + 1);
}
