// The one HTML page: a shell that loads the bundle. The token travels in the asset URLs (every
// request needs it) and the page reads it from its own address.
export function pageHtml(token: string): string {
  const t = encodeURIComponent(token);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>warren ui</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css?token=${t}">
</head>
<body>
<div id="app"><p>Loading…</p></div>
<script type="module" src="/app.js?token=${t}"></script>
</body>
</html>
`;
}

/** Only what this server serves runs or loads on the page; it may not be framed by another site. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};
