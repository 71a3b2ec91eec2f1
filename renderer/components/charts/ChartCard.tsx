import { useRef, useState, type ReactNode, type RefObject } from 'react';
import type { Chart } from 'chart.js';
import { downloadDataUrl, fileSafe } from '../bench/download.ts';
import { Icon, type IconName } from '../Icon.tsx';

// A card around one chart: title, a toolbar of its own controls, and "Save PNG".

/** The chart as a PNG data URL at twice the screen resolution (sharp in documents). */
export function chartPng(chart: Chart): string {
  const previous = chart.options.devicePixelRatio;
  chart.options.devicePixelRatio = 2;
  chart.resize();
  try {
    return chart.toBase64Image('image/png', 1);
  } finally {
    chart.options.devicePixelRatio = previous;
    chart.resize();
  }
}

export function ChartCard(props: {
  title: string;
  icon: IconName;
  testId: string;
  chart: RefObject<Chart | null>;
  /** Base name of the saved PNG. */
  pngName: string;
  tools?: ReactNode;
  footer?: ReactNode;
  children: ReactNode;
  subtitle?: ReactNode;
}) {
  const { title, icon, testId, chart, pngName, tools, footer, children, subtitle } = props;
  const [saved, setSaved] = useState(false);
  const timer = useRef<number | undefined>(undefined);

  function save() {
    const c = chart.current;
    if (!c) return;
    downloadDataUrl(`${fileSafe(pngName)}.png`, chartPng(c));
    setSaved(true);
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setSaved(false), 1600);
  }

  return (
    <section className="card chart-card" data-testid={testId}>
      <header className="card__header chart-card__header">
        <Icon name={icon} size={16} />
        <div className="chart-card__titles">
          <h3>{title}</h3>
          {subtitle ? <span className="chart-card__subtitle muted small">{subtitle}</span> : null}
        </div>
        <div className="chart-card__tools">
          {tools}
          <button type="button" className="btn btn--small" title="Save this chart as a PNG image" data-testid="chart-save-png" onClick={save}>
            <Icon name={saved ? 'check' : 'image'} size={14} /> {saved ? 'Saved' : 'PNG'}
          </button>
        </div>
      </header>
      <div className="chart-card__body">{children}</div>
      {footer ? <footer className="chart-card__footer">{footer}</footer> : null}
    </section>
  );
}

/** A small on/off switch for chart toolbars. */
export function ToolToggle(props: { label: string; on: boolean; onChange: (on: boolean) => void; testId?: string; title?: string }) {
  const { label, on, onChange, testId, title } = props;
  return (
    <label className={on ? 'tool-toggle tool-toggle--on' : 'tool-toggle'} title={title}>
      <input type="checkbox" checked={on} onChange={(e) => onChange(e.target.checked)} data-testid={testId} />
      {label}
    </label>
  );
}
