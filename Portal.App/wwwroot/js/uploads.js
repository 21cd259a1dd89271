// Per-file uploads for the folder page. Each file goes to the streaming endpoint in its own XMLHttpRequest (not
// through the Blazor circuit), so each has its own progress bar and its own message. The server checks the right,
// the antiforgery token, the name and the size again; what it says is shown as is. Files dropped onto the zone go
// the same way, to the endpoint this zone was attached with (the folder shown when they were dropped), even if the
// page moves on to another folder while they upload.
const concurrent = 3;

export function attach(input, list, zone, options, dotnet) {
    const queue = [];
    let running = 0, pending = 0, stored = 0;

    function add(files) {
        if (!options.multiple) files = files.slice(0, 1);
        for (const file of files) {
            const item = { file, row: newRow(list, file.name), xhr: null, done: false };
            pending++;
            if (file.size > options.maxBytes) {
                // Said at once rather than after sending gigabytes; the server would refuse it the same way.
                fail(item.row, `"${file.name}" is larger than the limit of ${options.maxText}.`);
                finish(item, false);
                continue;
            }
            item.row.cancel.addEventListener('click', () => cancel(item));
            queue.push(item);
        }
        pump();
    }

    input.addEventListener('change', () => {
        const files = Array.from(input.files);
        input.value = '';
        add(files);
    });
    zone.addEventListener('dragover', e => {
        if (!Array.from(e.dataTransfer?.types ?? []).includes('Files')) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        zone.classList.add('dragging');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
    zone.addEventListener('drop', e => {
        e.preventDefault();
        zone.classList.remove('dragging');
        add(Array.from(e.dataTransfer?.files ?? []));
    });
    input.disabled = false;

    function cancel(item) {
        if (item.done) return;
        const waiting = queue.indexOf(item);
        if (waiting >= 0) queue.splice(waiting, 1);
        if (item.xhr) item.xhr.abort(); // onabort finishes it
        else { fail(item.row, 'Cancelled; nothing of this file was kept.'); finish(item, false); }
    }

    function finish(item, ok) {
        if (item.done) return;
        item.done = true;
        item.row.cancel.hidden = true;
        finished(ok);
    }

    function pump() {
        while (running < concurrent && queue.length > 0) {
            const item = queue.shift();
            running++;
            send(item, ok => { running--; finish(item, ok); pump(); });
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

    function send(item, done) {
        const { file, row } = item;
        const xhr = new XMLHttpRequest();
        item.xhr = xhr;
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
        xhr.onabort = () => { fail(row, 'Cancelled; nothing of this file was kept.'); done(false); };
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
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'upload-cancel';
    cancel.textContent = 'Cancel';
    cancel.setAttribute('aria-label', `Cancel the upload of ${name}`);
    cancel.setAttribute('data-testid', 'upload-cancel');
    row.append(label, bar, cancel, message);
    row.bar = bar;
    row.message = message;
    row.cancel = cancel;
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
