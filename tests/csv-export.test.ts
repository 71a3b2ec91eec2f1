import { describe, expect, it } from 'vitest';
import { SAMPLE_CSV_COLUMNS, SUMMARY_CSV_COLUMNS, runSidecarJson, samplesToCsv, summaryToCsv } from '../shared/csv-export.ts';
import type { Sample } from '../shared/model/run-record.ts';
import { RunMeta } from '../shared/model/run.ts';
import { summarizeSamples } from '../shared/stats.ts';
import { hostFacts } from './lab/host-facts-fixture.ts';

const run: RunMeta = RunMeta.parse({
  id: 'run-2025-01-01-a1b2',
  hostName: 'lab, "east"',
  method: 'oci-direct',
  plan: {
    method: 'oci-direct',
    runtimes: [{ name: 'runc', binary: 'runc' }, { name: 'runsc', binary: '/usr/local/bin/runsc' }],
    iterations: 3,
  },
  facts: hostFacts({
    os: { prettyName: 'Debian GNU/Linux 13', distroId: 'debian', distroVersion: '13', kernel: '6.12.0-amd64', arch: 'x86_64' },
    cpu: { model: 'Intel(R) Xeon(R) CPU @ 2.20GHz, rev "B"', cores: 2, virtFlag: 'vmx' },
    cgroup: { mode: 'v2', detail: 'cgroup2fs' },
  }),
  versions: [{ runtime: 'runc', binary: 'runc', version: '1.2.4' }],
  bundle: { workload: 'hello', builtWith: 'gcc -static hello.c', digest: 'sha256:abc', path: '/var/lib/runtime-lab/bundles/hello' },
  startedAt: '2025-01-01T00:00:00.000Z',
  finishedAt: '2025-01-01T00:01:00.000Z',
  status: 'completed',
  statusMessage: null,
});

const nastyError = 'runsc: "create" failed, sandbox: exit 1\nsecond line, with comma\r\nthird "quoted" line';

const samples: Sample[] = [
  { seq: 0, runtime: 'runc', iteration: 0, warmup: true, startedAt: '2025-01-01T00:00:01.000Z', durationMs: 31.25, ok: true, exitCode: 0, timedOut: false, error: null },
  { seq: 1, runtime: 'runsc', iteration: 0, warmup: false, startedAt: '2025-01-01T00:00:02.000Z', durationMs: 30000, ok: false, exitCode: null, timedOut: true, error: nastyError, step: 'StartContainer', storageDriver: 'vfs' },
  { seq: 2, runtime: 'runc', iteration: 0, warmup: false, startedAt: '2025-01-01T00:00:03.000Z', durationMs: 21.7, ok: true, exitCode: 0, timedOut: false, error: null },
];

describe('samplesToCsv', () => {
  it('has the documented columns, in order', () => {
    const [header] = parseCsv(samplesToCsv(run, samples));
    expect(header).toEqual([...SAMPLE_CSV_COLUMNS]);
    expect(header?.join(',')).toMatch(/^run_id,host,method,runtime,step,storage_driver,iteration,warmup,duration_ms,ok,error,seq,started_at,exit_code,timed_out,/);
  });

  it('round-trips every field, including errors with commas, quotes and line breaks', () => {
    const [header, ...rows] = parseCsv(samplesToCsv(run, samples));
    const records = rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i]])));
    expect(records).toHaveLength(3);
    expect(records[1]).toEqual({
      run_id: run.id,
      host: 'lab, "east"',
      method: 'oci-direct',
      runtime: 'runsc',
      step: 'StartContainer',
      storage_driver: 'vfs',
      iteration: '0',
      warmup: 'false',
      duration_ms: '30000',
      ok: 'false',
      error: nastyError,
      seq: '1',
      started_at: '2025-01-01T00:00:02.000Z',
      exit_code: '',
      timed_out: 'true',
      kernel: '6.12.0-amd64',
      cgroup_mode: 'v2',
      cpu_model: 'Intel(R) Xeon(R) CPU @ 2.20GHz, rev "B"',
      runtime_version: '',
    });
    expect(records[0]).toMatchObject({ runtime: 'runc', warmup: 'true', duration_ms: '31.25', ok: 'true', error: '', exit_code: '0', runtime_version: '1.2.4' });
  });

  it('repeats the environment on every row', () => {
    const [, ...rows] = parseCsv(samplesToCsv(run, samples));
    for (const row of rows) expect(row.slice(15, 18)).toEqual(['6.12.0-amd64', 'v2', run.facts.cpu.model]);
  });

  it('separates records with CRLF, as RFC 4180 says', () => {
    const csv = samplesToCsv(run, samples.slice(0, 1));
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n')).toHaveLength(3); // header, one record, and the empty rest
  });

  it('writes a header even without samples', () => {
    expect(parseCsv(samplesToCsv(run, []))).toEqual([[...SAMPLE_CSV_COLUMNS]]);
  });
});

describe('summaryToCsv', () => {
  it('writes one row per runtime, with empty cells where a statistic does not exist', () => {
    const [header, runc, runsc, ...rest] = parseCsv(summaryToCsv(run, summarizeSamples(samples)));
    expect(rest).toEqual([]);
    expect(header).toEqual([...SUMMARY_CSV_COLUMNS]);
    const field = (row: string[] | undefined, name: (typeof SUMMARY_CSV_COLUMNS)[number]) => row?.[SUMMARY_CSV_COLUMNS.indexOf(name)];
    expect(field(runc, 'runtime')).toBe('runc');
    expect(field(runc, 'n')).toBe('1');
    expect(field(runc, 'warmups')).toBe('1');
    expect(field(runc, 'median_ms')).toBe('21.7');
    expect(field(runc, 'sd_ms')).toBe('');
    expect(field(runc, 'runtime_version')).toBe('1.2.4');
    expect(field(runsc, 'n')).toBe('0');
    expect(field(runsc, 'failures')).toBe('1');
    expect(field(runsc, 'mean_ms')).toBe('');
    expect(field(runsc, 'host')).toBe('lab, "east"');
  });
});

describe('runSidecarJson', () => {
  it('is the whole run record, pretty-printed, and reads back as one', () => {
    const json = runSidecarJson(run);
    expect(json).toContain('\n  "plan": {');
    expect(RunMeta.parse(JSON.parse(json))).toEqual(run);
  });
});

/**
 * A strict RFC 4180 reader, written here so the test does not trust the writer's own
 * library: fields separated by commas, records by CRLF, quoted fields may hold commas,
 * line breaks and doubled quotes.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"' && field === '') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',' && !text.startsWith('\r\n', i)) throw new Error(`text after a closing quote at ${i}`);
    } else if (text[i] === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (text.startsWith('\r\n', i)) {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else if (text[i] === '"' || text[i] === '\r' || text[i] === '\n') {
      throw new Error(`unquoted ${JSON.stringify(text[i])} at ${i}`);
    } else {
      field += text[i++];
    }
  }
  if (field !== '' || record.length > 0) throw new Error('last record not terminated by CRLF');
  return records;
}
