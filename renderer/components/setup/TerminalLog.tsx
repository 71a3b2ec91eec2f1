import { useEffect, useRef } from 'react';
import type { LogChunk } from '../../store/setup-store.ts';

// A step's live output, terminal style: the command lines as they start, stdout, stderr in
// red, the engine's notes dimmed. Follows the end unless the reader scrolled up.

export function logText(chunks: readonly LogChunk[]): string {
  return chunks.map((c) => c.text).join('');
}

export function TerminalLog({ chunks, empty, testId = 'step-log' }: { chunks: readonly LogChunk[]; empty: string; testId?: string }) {
  const box = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);

  useEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [chunks]);

  return (
    <pre
      className="su-term"
      ref={box}
      data-testid={testId}
      data-chunks={chunks.length}
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {chunks.length === 0 ? <span className="su-term__note">{empty}</span> : null}
      {chunks.map((c) => (
        <span key={c.id} className={`su-term__${c.stream}`}>
          {c.text}
        </span>
      ))}
    </pre>
  );
}
