import { useState } from 'react';
import type { ChannelInput } from '../../../shared/contract/ipc-contract.ts';
import { asLabError, call } from '../../lab-client.ts';
import { downloadText } from './download.ts';

// One export button of a run's card: the file made by main (runs:export) and saved, the
// button disabled while it is made, and main's reason shown when it fails.

export interface RunExport {
  exporting: boolean;
  exportError: string | null;
  exportFile: () => Promise<void>;
}

export function useRunExport(runId: string, kind: ChannelInput<'runs:export'>['kind']): RunExport {
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);

  async function exportFile() {
    setExporting(true);
    setExportError(null);
    try {
      const file = await call('runs:export', { runId, kind });
      downloadText(file.filename, file.mimeType, file.content);
    } catch (err) {
      setExportError(asLabError(err).message);
    } finally {
      setExporting(false);
    }
  }

  return { exporting, exportError, exportFile };
}
