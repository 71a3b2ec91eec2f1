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

// Resolved only when building: inside Electron's bundled main process import.meta is
// empty, and that code path uses the prebuilt file instead.
// Not `new URL(..., import.meta.url)`: Vite would take that for an asset to bundle.
function sourceRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
}

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
  const root = sourceRoot();
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const result = await build({
    entryPoints: [path.join(root, 'agent/main.ts')],
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

/**
 * The packaged app ships the agent prebuilt (Forge's generateAssets hook builds it and
 * extraResource copies it): there is no esbuild and no agent source inside an asar.
 */
export async function readPrebuiltAgentBundle(file: string): Promise<AgentBundle> {
  const text = readFileSync(file, 'utf8');
  const newline = text.indexOf('\n');
  const sha256 = createHash('sha256').update(text.slice(newline + 1)).digest('hex');
  return { code: text, sha256 };
}

/** Where the agent comes from: the packaged app's prebuilt file when there is one, else built from source. */
export function agentBundleLoader(prebuiltPath?: string): () => Promise<AgentBundle> {
  return prebuiltPath ? () => readPrebuiltAgentBundle(prebuiltPath) : buildAgentBundle;
}
