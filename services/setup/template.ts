import { LabError } from '../../shared/lab-error.ts';
import { quoteArg } from '../../shared/shell-quote.ts';

// Turns recipe templates into the exact argv that runs (see knowledge/schema.ts for the
// rules). Values never become shell syntax: argv elements are passed as they are, and a
// script receives its values as quoted variable assignments placed before its own text.

export type ParamValue = string | string[];
export type Params = Readonly<Record<string, ParamValue>>;

const PLACEHOLDER = /\{\{([A-Za-z][A-Za-z0-9]*)\}\}/g;
const SPREAD = /^\{\{@([A-Za-z][A-Za-z0-9]*)\}\}$/;
/** Values also land in TOML, JSON and unit files: no quotes, escapes, `$` or line breaks. */
const SAFE_VALUE = /^[^\n\r"'\\`$]*$/;

export function validateParamValue(name: string, value: ParamValue): void {
  for (const item of typeof value === 'string' ? [value] : value) {
    if (!SAFE_VALUE.test(item)) {
      throw new LabError('invalid-input', `Parameter ${name}: "${item}" contains a quote, backslash, backtick, $ or line break, which recipes do not accept.`);
    }
  }
}

function lookup(params: Params, name: string): ParamValue {
  const value = params[name];
  if (value === undefined) throw new LabError('internal', `template names unknown parameter ${name}`);
  return value;
}

/** `{{name}}` inside a string; list parameters are not allowed here. */
export function renderText(text: string, params: Params): string {
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = lookup(params, name);
    if (typeof value !== 'string') throw new LabError('internal', `list parameter ${name} used inside text`);
    return value;
  });
}

export function renderArgv(argv: readonly string[], params: Params): string[] {
  return argv.flatMap((element) => {
    const spread = SPREAD.exec(element);
    if (!spread) return [renderText(element, params)];
    const value = lookup(params, spread[1]!);
    return typeof value === 'string' ? [value] : [...value];
  });
}

/** JSON values: strings are templates, everything else is kept. */
export function renderJson(value: unknown, params: Params): unknown {
  if (typeof value === 'string') return renderText(value, params);
  if (Array.isArray(value)) return value.map((item) => renderJson(item, params));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderJson(v, params)]));
  }
  return value;
}

/** Parameters a script mentions as $name or ${name}. */
export function scriptParams(script: string, params: Params): string[] {
  const names = new Set<string>();
  for (const match of script.matchAll(/\$\{?([a-z][A-Za-z0-9]*)/g)) {
    if (params[match[1]!] !== undefined) names.add(match[1]!);
  }
  return [...names].sort();
}

/** The script as it runs: assignments of the parameters it uses, then its own text. */
export function renderScript(script: string, params: Params): string {
  const assignments = scriptParams(script, params).map((name) => {
    const value = lookup(params, name);
    if (typeof value !== 'string') throw new LabError('internal', `list parameter ${name} used in a script`);
    return `${name}=${quoteArg(value)}`;
  });
  return [...assignments, script.replace(/^\n+/, '')].join('\n');
}

/** Every `{{name}}`/`{{@name}}` in a string: for the static check that recipes name only declared parameters. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{@?([A-Za-z][A-Za-z0-9]*)\}\}/g)].map((m) => m[1]!);
}
