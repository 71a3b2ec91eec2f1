import { useEffect, useRef, type RefObject } from 'react';
import type { Chart, TooltipItem } from 'chart.js';
import type { MemoryStep } from '../../../shared/model/run-record.ts';
import { formatBytes } from '../format.ts';
import { categoryColor } from './palette.ts';
import { useChart } from './use-chart.ts';

// Where a container's memory goes, per runtime: the PSS of the processes counted at the
// runtime's largest measured step, per container, split by role (the workload, shims,
// runsc's sandbox and gofer, VMMs…). runc is nearly all "container"; gVisor is sandbox.

export const MEMORY_ROLES = ['container', 'sandbox', 'gofer', 'shim', 'runtime', 'other'] as const;

const MIB = 1024 * 1024;

/** Each runtime's largest step that measured something. */
export function largestSteps(steps: readonly MemoryStep[], runtimes: readonly string[]): (MemoryStep | null)[] {
  return runtimes.map(
    (r) => steps.filter((s) => s.runtime === r && s.ok && s.totalPssBytes !== null).sort((a, b) => b.containers - a.containers)[0] ?? null,
  );
}

/** The roles present among the processes of those steps, in MEMORY_ROLES order. */
export function countedRoles(chosen: readonly (MemoryStep | null)[]): (typeof MEMORY_ROLES)[number][] {
  return MEMORY_ROLES.filter((role) => chosen.some((s) => s?.processes.some((p) => p.role === role)));
}

/** `chosen` and `roles`: largestSteps and countedRoles of the run, which the view computes for its own legend too. */
export function MemoryRolesChart(props: { chosen: readonly (MemoryStep | null)[]; roles: readonly (typeof MEMORY_ROLES)[number][]; runtimes: readonly string[]; chartRef: RefObject<Chart | null> }) {
  const { chosen, roles, runtimes, chartRef } = props;
  const height = Math.max(150, 60 + runtimes.length * 48);
  const box = useRef<HTMLDivElement>(null);
  const picked = useRef<readonly (MemoryStep | null)[]>([]);

  const { canvasRef, ownRef } = useChart<'bar', (number | null)[], string>(chartRef, () => ({
    type: 'bar',
    data: { labels: [], datasets: [] },
    options: {
      indexAxis: 'y',
      layout: { padding: { top: 4, right: 12, left: 4 } },
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: { type: 'linear', stacked: true, beginAtZero: true, title: { display: true, text: 'PSS per container by process role (MiB)' } },
        y: { type: 'category', stacked: true, grid: { display: false }, ticks: { font: { weight: 600, size: 12 }, color: '#3d434b' } },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => {
              const step = items[0] ? picked.current[items[0].dataIndex] : null;
              return items[0] && step ? `${items[0].label} · ${items[0].dataset.label ?? ''} · at ${step.containers} containers` : '';
            },
            label: (item: TooltipItem<'bar'>) => ` ${Number(item.raw).toFixed(2)} MiB per container`,
            afterLabel: (item: TooltipItem<'bar'>) => {
              const step = picked.current[item.dataIndex];
              const procs = step?.processes.filter((p) => p.role === item.dataset.label) ?? [];
              const names = [...new Set(procs.map((p) => p.comm))].join(', ');
              return `   ${procs.length} process${procs.length === 1 ? '' : 'es'}: ${names} · ${formatBytes(procs.reduce((n, p) => n + p.pssBytes, 0))} in all`;
            },
          },
        },
      },
    },
  }));

  useEffect(() => {
    const chart = ownRef.current;
    if (!chart) return;
    picked.current = chosen;
    chart.data.labels = [...runtimes];
    chart.data.datasets = roles.map((role) => ({
      label: role,
      data: chosen.map((s) => (s ? s.processes.filter((p) => p.role === role).reduce((n, p) => n + p.pssBytes, 0) / s.containers / MIB : null)),
      backgroundColor: categoryColor(MEMORY_ROLES.indexOf(role)),
      borderColor: '#ffffff',
      borderWidth: { right: 1.5 },
      borderSkipped: false,
      barThickness: 24,
      stack: 'roles',
    }));
    chart.update('none');
    if (box.current) {
      box.current.dataset.roles = roles.join(',');
      box.current.dataset.runtimes = runtimes.filter((_, i) => chosen[i]).join(',');
    }
  }, [chosen, roles, runtimes, ownRef]);

  return (
    <div className="chart-box" ref={box} style={{ height }} data-testid="memory-roles-chart" data-roles="" data-runtimes="">
      <canvas ref={canvasRef} role="img" aria-label="PSS per container by process role, per runtime, at its largest step" />
    </div>
  );
}
