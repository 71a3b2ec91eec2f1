// The benchmark pages' stylesheet, linked from <head> once, when this module is first
// imported (at app start, through App's imports). A <link> to a file served from 'self'
// is what the CSP allows; Vite emits the file as an asset and rewrites this URL.
// (It could move into renderer/index.html or styles.css; kept apart so the pages stay self-contained.)

const href = new URL('./bench.css', import.meta.url).href;

export function ensureBenchStyles(): void {
  if (typeof document === 'undefined' || document.querySelector('link[data-rlab-styles="bench"]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  link.dataset.rlabStyles = 'bench';
  document.head.append(link);
}
