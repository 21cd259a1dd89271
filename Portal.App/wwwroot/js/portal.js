// Small browser facts the circuit asks for once: the viewer's time zone and their light/dark choice.
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
