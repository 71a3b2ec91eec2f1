import { LabError } from '../../shared/lab-error.ts';
import type { Edit } from '../../knowledge/schema.ts';
import { renderJson, renderText, type Params } from './template.ts';

// Config edits as pure functions: current content (null = no file) → new content. The
// engine compares the two, so an edit that is already in place is reported as done and
// writes nothing — that is what makes re-running a setup a no-op.

export function renderEdit(edit: Edit, params: Params): Edit {
  switch (edit.kind) {
    case 'json-merge':
      return { ...edit, path: renderText(edit.path, params), value: renderJson(edit.value, params) as Record<string, unknown> };
    case 'managed-block':
      return { ...edit, path: renderText(edit.path, params), content: renderText(edit.content, params) };
    case 'file':
      return { ...edit, path: renderText(edit.path, params), content: renderText(edit.content, params) };
  }
}

export function applyEdit(edit: Edit, current: string | null): string {
  switch (edit.kind) {
    case 'json-merge':
      return mergeJsonText(edit.path, current, edit.value);
    case 'managed-block':
      return replaceBlock(current ?? '', edit.marker, edit.content, edit.exclusive);
    case 'file':
      return edit.content;
  }
}

function mergeJsonText(path: string, current: string | null, value: Record<string, unknown>): string {
  let base: unknown = {};
  if (current !== null && current.trim() !== '') {
    try {
      base = JSON.parse(current);
    } catch (err) {
      throw new LabError('command-failed', `${path} is not valid JSON (${(err as Error).message}); fix or remove it, then run the setup again.`);
    }
  }
  if (!isObject(base)) throw new LabError('command-failed', `${path} does not hold a JSON object.`);
  const merged = deepMerge(base, value);
  // Unchanged content keeps its original formatting (and so counts as "already done").
  if (current !== null && isDeepEqual(base, merged)) return current;
  return `${JSON.stringify(merged, null, 2)}\n`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const existing = out[key];
    out[key] = isObject(existing) && isObject(value) ? deepMerge(existing, value) : value;
  }
  return out;
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isObject(value)) return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
  return value;
}

const begin = (marker: string) => `# BEGIN runtime-lab ${marker}`;
const end = (marker: string) => `# END runtime-lab ${marker}`;

interface Block {
  marker: string;
  text: string;
}

/** Splits a file, in order, into runtime-lab blocks (with their marker lines) and other lines. */
function splitBlocks(content: string): Array<string | Block> {
  const lines = content === '' ? [] : content.replace(/\n$/, '').split('\n');
  const order: Array<string | Block> = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const open = /^# BEGIN runtime-lab (\S+)$/.exec(line);
    const close = open ? lines.indexOf(end(open[1]!), i + 1) : -1;
    if (open && close > i) {
      order.push({ marker: open[1]!, text: lines.slice(i, close + 1).join('\n') });
      i = close;
    } else {
      order.push(line);
    }
  }
  return order;
}

function replaceBlock(current: string, marker: string, content: string, exclusive: boolean): string {
  const text = [begin(marker), ...content.replace(/\n$/, '').split('\n'), end(marker)].join('\n');
  const order = splitBlocks(current);
  const kept = exclusive ? order.filter((part) => typeof part !== 'string') : order;
  let replaced = false;
  const parts = kept.map((part) => {
    if (typeof part === 'string' || part.marker !== marker) return typeof part === 'string' ? part : part.text;
    replaced = true;
    return text;
  });
  if (!replaced) parts.push(text);
  return `${parts.join('\n')}\n`;
}
