// Per-file uploads for the folder page. Each file goes to the streaming endpoint in its own XMLHttpRequest (not
// through the Blazor circuit), so each has its own progress bar and its own message. The server checks the right,
// the antiforgery token, the name and the size again; what it says is shown as is.
const concurrent = 3;

export function attach(input, list, options, dotnet) {
    const queue = [];
    let running = 0, pending = 0, stored = 0;

    input.addEventListener('change', () => {
        const files = Array.from(input.files);
        input.value = '';
        for (const file of files) {
            const row = newRow(list, file.name);
            pending++;
            if (file.size > options.maxBytes) {
                // Said at once rather than after sending gigabytes; the server would refuse it the same way.
                fail(row, `"${file.name}" is larger than the limit of ${options.maxText}.`);
                finished(false);
                continue;
            }
            queue.push({ file, row });
        }
        pump();
    });
    input.disabled = false;

    function pump() {
        while (running < concurrent && queue.length > 0) {
            const { file, row } = queue.shift();
            running++;
            send(file, row, ok => { running--; finished(ok); pump(); });
        }
    }

    function finished(ok) {
        if (ok) stored++;
        if (--pending === 0) {
            const count = stored;
            stored = 0;
            dotnet.invokeMethodAsync('UploadsFinished', count);
        }
    }

    function send(file, row, done) {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', options.url);
        xhr.setRequestHeader('RequestVerificationToken', options.token);
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.upload.onprogress = e => {
            if (e.lengthComputable) setProgress(row, Math.min(99, Math.round(e.loaded * 100 / e.total)));
        };
        xhr.onload = () => {
            if (xhr.status >= 200 && xhr.status < 300) {
                setProgress(row, 100);
                row.classList.add('upload-done');
                row.message.textContent = uploadedText(xhr);
                done(true);
            } else {
                fail(row, problemDetail(xhr) ?? `The upload failed (HTTP ${xhr.status}).`);
                done(false);
            }
        };
        xhr.onerror = () => { fail(row, 'The connection broke off; nothing of this file was kept. Try again.'); done(false); };
        const form = new FormData();
        form.append('files', file, file.name);
        xhr.send(form);
    }
}

function newRow(list, name) {
    const row = document.createElement('div');
    row.className = 'upload-file';
    row.setAttribute('data-testid', 'upload-file');
    const label = document.createElement('span');
    label.className = 'upload-file-name';
    label.textContent = name; // text, never HTML: names are kept as given
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('data-testid', 'upload-progress');
    bar.setAttribute('aria-label', `Upload of ${name}`);
    const message = document.createElement('span');
    message.className = 'upload-file-message';
    message.setAttribute('data-testid', 'upload-file-message');
    message.setAttribute('role', 'status');
    row.append(label, bar, message);
    row.bar = bar;
    row.message = message;
    list.append(row);
    return row;
}

function setProgress(row, percent) {
    row.bar.value = percent;
    row.bar.setAttribute('data-percent', String(percent));
}

function fail(row, text) {
    row.classList.add('upload-failed');
    row.message.textContent = text;
}

// A name already in the folder became that document's next version: say so, or the person looks for a second copy.
function uploadedText(xhr) {
    let version = 1;
    try { version = JSON.parse(xhr.responseText)[0]?.version ?? 1; } catch { }
    return version > 1 ? `Uploaded as version ${version} of the document already here.` : 'Uploaded.';
}

function problemDetail(xhr) {
    try { return JSON.parse(xhr.responseText).detail ?? null; } catch { return null; }
}
