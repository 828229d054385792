/** Puts configured credentials into an rtsp URL (ffmpeg reads them from there). */
export function withCredentials(url: string, auth?: { username: string; password: string }): string {
  if (!auth) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(auth.username);
  u.password = encodeURIComponent(auth.password);
  return u.toString();
}

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
