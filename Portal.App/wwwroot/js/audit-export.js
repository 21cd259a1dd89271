// Downloads an audit export with a live row counter, then saves it under the server's file name.
// Rows are counted by line ends as they arrive (the header line and the manifest line are not rows).
export async function exportWithProgress(url, progress, expected) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) {
        let message = `The export failed (${response.status}).`;
        try { message = (await response.json()).detail || message; } catch { }
        progress.textContent = message;
        return { ok: false, rows: 0, message };
    }
    const isCsv = (response.headers.get("content-type") || "").startsWith("text/csv");
    const reader = response.body.getReader();
    const chunks = [];
    let lines = 0, shown = 0;
    for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        for (let i = 0; i < value.length; i++) if (value[i] === 10) lines++;
        const now = performance.now();
        if (now - shown > 150) {
            shown = now;
            progress.textContent = `${Math.max(0, lines - (isCsv ? 1 : 0)).toLocaleString()} of ${expected.toLocaleString()} rows…`;
        }
    }
    const rows = Math.max(0, lines - (isCsv ? 2 : 1));
    const disposition = response.headers.get("content-disposition") || "";
    const name = (/filename="([^"]+)"/.exec(disposition) || [, isCsv ? "audit.csv" : "audit.jsonl"])[1];
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob(chunks, { type: response.headers.get("content-type") || "application/octet-stream" }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    progress.textContent = `Exported ${rows.toLocaleString()} rows to ${name} (the last line is the manifest; an auditor checks it with: dotnet Portal.App.dll verify-export <file>).`;
    return { ok: true, rows, message: name };
}
