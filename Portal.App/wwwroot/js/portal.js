// Small browser facts the circuit asks for once: the viewer's time zone and their light/dark choice; and the way to
// the sign-in page when the circuit sees the session end. Loaded with the page too (App.razor), so the sign-out
// listener is there before the first click.
const themeKey = 'portal.theme';

export function timeZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone ?? null; } catch { return null; }
}

// "dark", "light", or null when the person never chose (then the system's preference applies).
export function storedTheme() {
    try { return localStorage.getItem(themeKey); } catch { return null; }
}

export function storeTheme(value) {
    try { localStorage.setItem(themeKey, value); } catch { }
}

// Starts a download (or opens a view) as a real navigation, after the circuit checked it may happen: an <a download>
// that the server refused saved the refusal as a file named after an id.
export function open(url, newTab) {
    const a = document.createElement('a');
    a.href = url;
    if (newTab) { a.target = '_blank'; a.rel = 'noopener'; }
    document.body.append(a);
    a.click();
    a.remove();
}

// A page whose own Sign out was submitted is already on its way to the provider's logout. Its circuit then sees the
// session end and would send it to the sign-in page: that navigation would cancel the one to the provider, and the
// provider's session would live on.
let signingOut = false;
document.addEventListener('submit', e => {
    if (e.target instanceof HTMLFormElement && e.target.hasAttribute('data-sign-out')) signingOut = true;
}, true);

export function toSignIn(url) {
    if (!signingOut) location.assign(url);
}
