import { z } from 'zod';
import type { Channel, ChannelInput, ChannelOutput, LabBridge, LabEvent } from '../shared/contract/ipc-contract.ts';
import { LabError } from '../shared/lab-error.ts';

// The renderer's one way to talk to main: typed calls over `window.lab`, the API the
// preload exposes (and the e2e harness imitates). Errors travel as data in the reply and
// become LabError again here, so components branch on `err.code`.

declare global {
  interface Window {
    lab: LabBridge;
  }
}

// The renderer runs under a CSP without 'unsafe-eval'. Zod compiles object parsers with
// `new Function` unless told not to, and even its guarded probe for eval shows up as a CSP
// violation report. This module is imported first by main.tsx, so the setting is in
// place before any shared model module builds a schema.
z.config({ jitless: true });

function bridge(): LabBridge {
  const lab = (window as Partial<Window>).lab;
  if (!lab) throw new LabError('internal', 'The app bridge (window.lab) is missing: the preload script did not run.');
  return lab;
}

export function hasBridge(): boolean {
  return typeof (window as Partial<Window>).lab?.invoke === 'function';
}

/** Calls a channel; resolves with its output or throws the LabError main replied with. */
export async function call<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<ChannelOutput<C>> {
  const reply = await bridge().invoke(channel, input);
  if (reply.ok) return reply.value;
  const { code, message, details } = reply.error;
  throw new LabError(code, message, details);
}

/** Subscribes to main's events; returns the unsubscribe function. */
export function onLabEvent(listener: (event: LabEvent) => void): () => void {
  return bridge().onEvent(listener);
}

/** Any thrown value as a LabError (so UI code only handles one shape). */
export function asLabError(err: unknown): LabError {
  return LabError.from(err);
}
