// Channel names only, with no schema library behind them, so the sandboxed preload
// bundle stays tiny. The contract itself is in ipc-contract.ts.
export const IPC_INVOKE_CHANNEL = 'lab:invoke';
export const IPC_EVENT_CHANNEL = 'lab:event';
