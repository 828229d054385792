import { type RenderedPage, selfContainedPage } from '../page-shell.js';

const LOGIN_CSS = `
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center; background: #0f1419;
  color: #e8edf2; font: 18px/1.4 system-ui, sans-serif; }
form { background: #1a2129; border: 1px solid #2e3a47; border-radius: 14px; padding: 28px; display: grid; gap: 14px; min-width: 320px; }
input, button { font: inherit; padding: 10px 12px; border-radius: 8px; border: 1px solid #2e3a47; background: #0f1419; color: inherit; }
button { background: #4ea1ff; color: #041425; font-weight: 700; border: 0; cursor: pointer; }
#msg { color: #e5383b; min-height: 1.4em; }
`;

const LOGIN_BODY = `<form id="login">
  <strong>lookout-edge</strong>
  <label for="token">Access token</label>
  <input id="token" type="password" autocomplete="current-password" required>
  <button type="submit">Open dashboard</button>
  <div id="msg" role="alert"></div>
</form>`;

const LOGIN_JS = `
document.getElementById('login').addEventListener('submit', function (e) {
  e.preventDefault();
  var token = document.getElementById('token').value;
  fetch('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token }) })
    .then(function (r) { if (r.ok) location.reload(); else document.getElementById('msg').textContent = 'Wrong token.'; })
    .catch(function () { document.getElementById('msg').textContent = 'Cannot reach the inspector.'; });
});
`;

/** Shown instead of the dashboard when the server needs a token and the browser has none yet. */
export function renderLogin(): RenderedPage {
  return selfContainedPage({ title: 'lookout-edge · sign in', css: LOGIN_CSS, body: LOGIN_BODY, script: LOGIN_JS });
}
