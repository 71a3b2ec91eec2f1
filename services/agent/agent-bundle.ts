import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentBanner } from '../../agent/banner.ts';

// The host agent as one self-contained CommonJS file: it runs under whatever Node the lab
// host has (18 or newer), with zod and every other import bundled in, so uploading that
// one file is the whole install. Built once per process and kept in memory.

export interface AgentBundle {
  /** The file to upload: banner line, then the bundled code. */
  code: string;
  /** sha256 of the code after the banner line; `runtime-lab-agent version` prints the same. */
  sha256: string;
}

// Not `new URL(..., import.meta.url)`: Vite would take that for an asset to bundle.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = path.join(ROOT, 'agent/main.ts');
const PACKAGE_JSON = path.join(ROOT, 'package.json');

let cached: Promise<AgentBundle> | undefined;

export function buildAgentBundle(): Promise<AgentBundle> {
  cached ??= compile().catch((err: unknown) => {
    // A failed build (a syntax error being fixed) must not stick for the life of the process.
    cached = undefined;
    throw err;
  });
  return cached;
}

async function compile(): Promise<AgentBundle> {
  // Loaded on demand: esbuild is a development tool, and importing this module must not
  // require it where the agent is shipped prebuilt.
  const { build } = await import('esbuild');
  const { version } = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    write: false,
    logLevel: 'silent',
    define: { __AGENT_VERSION__: JSON.stringify(version) },
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no agent bundle');
  const sha256 = createHash('sha256').update(output.contents).digest('hex');
  return { code: agentBanner(version, sha256) + output.text, sha256 };
}
