// Saving files from the renderer: a Blob (or data URL) behind an <a download> click, the
// same path in Electron (its download handler asks where to save) and in a browser.

function clickDownload(href: string, filename: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  a.rel = 'noopener';
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}

export function downloadText(filename: string, mimeType: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: mimeType }));
  clickDownload(url, filename);
  // Give the download a moment to start before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function downloadDataUrl(filename: string, dataUrl: string): void {
  clickDownload(dataUrl, filename);
}

/** A file-name-safe form of a label. */
export function fileSafe(text: string): string {
  return text.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'chart';
}
