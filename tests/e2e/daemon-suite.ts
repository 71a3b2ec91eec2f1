import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { TestDaemons } from '../lab/daemons.ts';
import { startSshd, type TestSshd } from '../lab/sshd.ts';
import { openLabPage, type LabPage } from './browser-harness.ts';

// The lab of an e2e suite that measures against real daemons: a temp folder, the daemons the
// suite asks for, a real sshd on loopback and the app in Chromium — started before the
// suite, stopped and removed after it, in that order.

export interface DaemonSuite {
  work: string;
  daemons: TestDaemons;
  sshd: TestSshd;
  lab: LabPage;
}

export function useDaemonSuite(prefix: string, startDaemons: (root: string) => TestDaemons, viewport = { width: 1440, height: 1000 }): DaemonSuite {
  const suite = {} as DaemonSuite;
  beforeAll(async () => {
    suite.work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    suite.daemons = startDaemons(path.join(suite.work, 'daemons'));
    suite.sshd = await startSshd();
    suite.lab = await openLabPage({ dataDir: path.join(suite.work, 'data'), viewport });
  }, 180_000);
  afterAll(async () => {
    await suite.lab?.close();
    await suite.sshd?.stop();
    suite.daemons?.stop();
    if (suite.work) fs.rmSync(suite.work, { recursive: true, force: true });
  }, 180_000);
  return suite;
}
