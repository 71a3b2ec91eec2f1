import { useState } from 'react';
import type { ChannelInput } from '../../../shared/contract/ipc-contract.ts';
import { asLabError, call } from '../../lab-client.ts';
import { downloadText } from './download.ts';

// A run's export buttons: the file made by main (runs:export) and saved, the buttons
// disabled while one is made, and main's reason shown when it fails.

type ExportKind = ChannelInput<'runs:export'>['kind'];

export interface RunExport {
  /** The file being made, or null. */
  exporting: ExportKind | null;
  exportError: string | null;
  exportFile: (kind: ExportKind) => Promise<void>;
}

export function useRunExport(runId: string): RunExport {
  const [exporting, setExporting] = useState<ExportKind | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);

  async function exportFile(kind: ExportKind) {
    setExporting(kind);
    setExportError(null);
    try {
      const file = await call('runs:export', { runId, kind });
      downloadText(file.filename, file.mimeType, file.content);
    } catch (err) {
      setExportError(asLabError(err).message);
    } finally {
      setExporting(null);
    }
  }

  return { exporting, exportError, exportFile };
}
