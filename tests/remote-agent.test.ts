import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deployAgent } from '../services/bench/remote-agent.ts';
import { buildAgentBundle } from '../services/agent/agent-bundle.ts';
import { createLocalTransport } from '../services/transport/local-transport.ts';
import type { Transport } from '../services/transport/transport.ts';

// What a host whose Node is missing or too old is told. The host here is this computer,
// with a directory put first on PATH (as a login profile would) holding an old "node".

const fakeBin = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-lab-test-oldnode-'));
fs.writeFileSync(path.join(fakeBin, 'node'), '#!/bin/sh\necho v16.20.2\n', { mode: 0o755 });

/** This computer, with PATH starting at `dir` for every command. */
function withPathFirst(transport: Transport, dir: string): Transport {
  return {
    kind: transport.kind,
    label: transport.label,
    closed: transport.closed,
    exec: (argv, options) => transport.exec(['env', `PATH=${dir}:${process.env.PATH ?? ''}`, ...argv], options),
    writeFile: (...args) => transport.writeFile(...args),
    readFile: (...args) => transport.readFile(...args),
    readFileFrom: (...args) => transport.readFileFrom(...args),
    close: () => transport.close(),
  };
}

afterAll(() => fs.rmSync(fakeBin, { recursive: true, force: true }));

describe('deploying the agent', () => {
  it('says which Node the host has and what to install when it is too old', async () => {
    const transport = withPathFirst(createLocalTransport(), fakeBin);
    await expect(deployAgent(transport, buildAgentBundle)).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(/has Node v16\.20\.2; the measuring agent needs Node ≥ 18 on the host\. Install it \(Debian\/Ubuntu: sudo apt-get install nodejs/),
    });
  });

  it('uses the host Node that is new enough', async () => {
    const agent = await deployAgent(createLocalTransport(), buildAgentBundle);
    expect(fs.existsSync(agent.agentPath)).toBe(true);
    expect(agent.sudo).toBe(process.getuid?.() !== 0);
  });
});
