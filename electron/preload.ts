import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../shared/contract/ipc-channels.ts';
import type { LabBridge, LabEvent } from '../shared/contract/ipc-contract.ts';

// The renderer's only door to the system: two functions, no Node, no ipcRenderer.
// Inputs are validated in main against the contract, never trusted here.
const bridge: LabBridge = {
  invoke: (channel, input) => ipcRenderer.invoke(IPC_INVOKE_CHANNEL, channel, input),
  onEvent(listener) {
    const handler = (_event: IpcRendererEvent, payload: LabEvent) => listener(payload);
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    return () => ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler);
  },
};

contextBridge.exposeInMainWorld('lab', bridge);
