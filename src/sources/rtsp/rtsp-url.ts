/** The URL without user info, for logs, health and frame origins. */
export function redactRtspUrl(url: string): string {
  try {
    const u = new URL(url);
    const hadCredentials = u.username !== '' || u.password !== '';
    u.username = '';
    u.password = '';
    const s = u.toString();
    return hadCredentials ? s.replace('://', '://***@') : s;
  } catch {
    return '<invalid url>';
  }
}

/** Removes `user:pass@` from any URL inside a text (ffmpeg echoes the input URL in its errors). */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@');
}
