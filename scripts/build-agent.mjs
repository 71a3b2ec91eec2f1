// Writes the host agent bundle to dist/agent/runtime-lab-agent.cjs, the file the packaged
// desktop uploads to lab hosts. The build itself lives in services/agent/agent-bundle.ts so
// that the desktop in development and the tests produce exactly the same file.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildAgentBundle } from '../services/agent/agent-bundle.ts';

const root = path.resolve(import.meta.dirname, '..');
const target = path.join(root, 'dist/agent/runtime-lab-agent.cjs');
const { code, sha256 } = await buildAgentBundle();
await mkdir(path.dirname(target), { recursive: true });
await writeFile(target, code);
console.log(`${path.relative(root, target)}  sha256 ${sha256}  ${(code.length / 1024).toFixed(0)} KiB`);
