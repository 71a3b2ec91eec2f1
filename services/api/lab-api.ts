import {
  ipcContract,
  isChannel,
  type Channel,
  type ChannelOutput,
  type IpcReply,
  type LabEvent,
} from '../../shared/contract/ipc-contract.ts';
import { LabError } from '../../shared/lab-error.ts';
import { z } from 'zod';

// The table of handlers behind every IPC channel, and the one dispatcher that validates
// input and output against the contract. Electron's main process and the browser e2e
// bridge both call `dispatch`, so the tests exercise exactly what the app runs.

export type Handler<C extends Channel> = (input: z.output<(typeof ipcContract)[C]['input']>) => Promise<ChannelOutput<C>>;
export type Handlers = { [C in Channel]: Handler<C> };

export type EventSink = (event: LabEvent) => void;

export interface Dispatcher {
  dispatch(channel: unknown, input: unknown): Promise<IpcReply<unknown>>;
}

export function createDispatcher(handlers: Handlers, log: (line: string) => void = () => {}): Dispatcher {
  return {
    async dispatch(channel, input) {
      if (!isChannel(channel)) {
        return { ok: false, error: { code: 'invalid-input', message: `unknown channel ${JSON.stringify(String(channel)).slice(0, 80)}` } };
      }
      const spec = ipcContract[channel];
      const parsed = spec.input.safeParse(input ?? {});
      if (!parsed.success) {
        return { ok: false, error: { code: 'invalid-input', message: `${channel}: ${z.prettifyError(parsed.error)}` } };
      }
      try {
        const handler = handlers[channel] as (input: unknown) => Promise<unknown>;
        const value = await handler(parsed.data);
        // Validating output too keeps secrets or stray fields from reaching the renderer:
        // zod objects strip keys the contract does not name.
        return { ok: true, value: spec.output.parse(value) };
      } catch (err) {
        const labError = LabError.from(err);
        // Log code and channel only: messages may quote hosts, never secrets, but keep logs lean.
        log(`${channel} failed: ${labError.code}`);
        return { ok: false, error: labError.toShape() };
      }
    },
  };
}
