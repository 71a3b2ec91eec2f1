import { useEffect, useRef, useState } from 'react';
import { Icon } from '../Icon.tsx';

// Copies text to the clipboard: the async Clipboard API, or the old selection + copy
// command where the API is refused. Says "Copied" for a moment.

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'copy-fallback';
    document.body.append(area);
    area.select();
    try {
      return document.execCommand('copy');
    } finally {
      area.remove();
    }
  }
}

export function CopyButton({ text, label = 'Copy', testId, compact = false, title }: { text: string; label?: string; testId?: string; compact?: boolean; title?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  return (
    <button
      type="button"
      className={`btn ${compact ? 'btn--xs' : 'btn--sm'} copy-btn${state === 'copied' ? ' copy-btn--done' : ''}`}
      data-testid={testId}
      data-state={state}
      title={title ?? 'Copy to the clipboard'}
      disabled={text === ''}
      onClick={() => {
        void copyText(text).then((ok) => {
          setState(ok ? 'copied' : 'failed');
          if (timer.current) clearTimeout(timer.current);
          timer.current = setTimeout(() => setState('idle'), 1600);
        });
      }}
    >
      <Icon name={state === 'copied' ? 'check' : 'copy'} size={13} />
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : label}
    </button>
  );
}
