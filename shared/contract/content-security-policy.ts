// The renderer's Content-Security-Policy: sent as a header by main and repeated in
// renderer/index.html's meta tag (for file:// loads, where there are no headers).
// No inline script, no eval, no remote anything; chart.js draws on canvas.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
