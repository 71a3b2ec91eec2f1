import { useEffect, useRef } from 'react';
import type { RunLogLine } from '../../store/runs-store.ts';

// What the agent and the runner said during the run, newest at the bottom; it follows the
// end unless the reader has scrolled up.
export function RunLog({ lines }: { lines: readonly RunLogLine[] }) {
  const box = useRef<HTMLOListElement>(null);
  const pinned = useRef(true);

  useEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  if (lines.length === 0) {
    return (
      <p className="run-log run-log--empty muted small" data-testid="run-log">
        Nothing logged yet.
      </p>
    );
  }
  return (
    <ol
      className="run-log"
      ref={box}
      data-testid="run-log"
      data-lines={lines.length}
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {lines.map((l) => (
        <li key={l.id} className={`run-log__line run-log__line--${l.level}`}>
          <span className="run-log__time">{l.at.slice(11, 19)}</span>
          <span className="run-log__level">{l.level}</span>
          <span className="run-log__msg">{l.message}</span>
        </li>
      ))}
    </ol>
  );
}
