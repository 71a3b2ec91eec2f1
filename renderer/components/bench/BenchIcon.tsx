import { Icon, type IconName } from '../Icon.tsx';

// Line icons the benchmark pages need beyond the app's set, drawn the same way
// (24×24, stroke = currentColor, inline so the CSP needs nothing).
const EXTRA = {
  image: 'M4 5h16v14H4zM4 16l5-5 4 4 2-2 5 5M15 9h.01',
  play: 'M7 5l12 7-12 7z',
  stop: 'M7 7h10v10H7z',
  file: 'M6 3h8l4 4v14H6zM14 3v4h4M9 12h6M9 16h6',
  activity: 'M3 12h4l3-8 4 16 3-8h4',
  clock: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 7v5l3 2',
  list: 'M9 6h11M9 12h11M9 18h11M4 6h.01M4 12h.01M4 18h.01',
  scroll: 'M5 4h11v16H5zM8 8h5M8 12h5M8 16h3',
  shuffle: 'M4 7h3c5 0 5 10 10 10h3M4 17h3c2 0 3-1.5 4-3.5M13 9.5C14 8 15 7 17 7h3M18 4l3 3-3 3M18 14l3 3-3 3',
  repeat: 'M4 11V9a3 3 0 0 1 3-3h13M17 3l3 3-3 3M20 13v2a3 3 0 0 1-3 3H4M7 21l-3-3 3-3',
  arrowRight: 'M5 12h14M13 6l6 6-6 6',
  distribution: 'M3 20h18M5 20c2-1 3-14 7-14s5 13 7 14',
} as const;

export type BenchIconName = IconName | keyof typeof EXTRA;

export function BIcon({ name, size = 16, className }: { name: BenchIconName; size?: number; className?: string }) {
  if (!(name in EXTRA)) return <Icon name={name as IconName} size={size} {...(className ? { className } : {})} />;
  return (
    <svg
      className={className ? `icon ${className}` : 'icon'}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
    >
      <path d={EXTRA[name as keyof typeof EXTRA]} />
    </svg>
  );
}
