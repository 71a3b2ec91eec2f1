import { create } from 'zustand';
import type { AppInfo } from '../../shared/contract/ipc-contract.ts';
import { asLabError, call } from '../lab-client.ts';

export type PageId = 'hosts' | 'setup' | 'benchmarks' | 'results';

interface AppState {
  page: PageId;
  info: AppInfo | null;
  infoError: string | null;
  setPage(page: PageId): void;
  loadInfo(): Promise<void>;
}

export const useApp = create<AppState>()((set) => ({
  page: 'hosts',
  info: null,
  infoError: null,
  setPage: (page) => set({ page }),
  async loadInfo() {
    try {
      const info = await call('app:info', {});
      set({ info, infoError: null });
    } catch (err) {
      set({ infoError: asLabError(err).message });
    }
  },
}));
