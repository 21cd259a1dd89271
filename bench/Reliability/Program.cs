// The reliability suite's client (run by bench/reliability.sh against the real stack on loopback).
//   load PHASE SECONDS CLIENTS [ALLOW]  mixed downloads, uploads, audit queries and browsing; every request has its own
//                                       User-Agent "rel-<tag>-<phase>-<n>" (the audit row records it), so each answer
//                                       that delivered bytes can be matched to its audit event. ALLOW: statuses that are
//                                       intended in this phase (e.g. 502,503 while the app or database is down).
//   fuzz COUNT SEED                     random and hostile input against every endpoint: no 5xx, no stack trace, no
//                                       injected header.
//   security                            the attacker's checks: no session, other people's ids, forged antiforgery
//                                       token, cross-site request, the internal location from outside.
// Settings come from REL_* environment variables (see bench/reliability.sh). Prints "key=value" figures on stdout.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

var env = (string name) => Environment.GetEnvironmentVariable(name) ?? throw new InvalidOperationException($"{name} is not set");
var cfg = new Config(
    Base: env("REL_BASE").TrimEnd('/'), Tag: env("REL_TAG"), Out: env("REL_OUT"),
    AdminCookie: env("REL_COOKIE_ADMIN"), AdminToken: env("REL_TOKEN_ADMIN"),
    StaffCookie: env("REL_COOKIE_STAFF"), StaffToken: env("REL_TOKEN_STAFF"),
    ComplianceCookie: env("REL_COOKIE_COMPLIANCE"),
    Docs: env("REL_DOCS").Split(',', StringSplitOptions.RemoveEmptyEntries),
    Folder: env("REL_FOLDER"), DeniedDoc: env("REL_DENIED_DOC"), DeniedFolder: env("REL_DENIED_FOLDER"),
    StorageKey: env("REL_STORAGE_KEY"));

var handler = new SocketsHttpHandler
{
    UseCookies = false, AllowAutoRedirect = false, MaxConnectionsPerServer = 512,
    PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(10),
};
using var http = new HttpClient(handler) { BaseAddress = new Uri(cfg.Base), Timeout = TimeSpan.FromSeconds(60) };

return args.FirstOrDefault() switch
{
    "load" => await Load.RunAsync(http, cfg, args[1], int.Parse(args[2]), int.Parse(args[3]),
        args.Length > 4 ? args[4].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToHashSet() : []),
    "fuzz" => await Fuzz.RunAsync(http, cfg, int.Parse(args[1]), int.Parse(args[2])),
    "security" => await Security.RunAsync(http, cfg),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Reliability load PHASE SECONDS CLIENTS [ALLOWED,STATUSES] | fuzz COUNT SEED | security");
    return 2;
}

record Config(string Base, string Tag, string Out, string AdminCookie, string AdminToken, string StaffCookie, string StaffToken,
    string ComplianceCookie, string[] Docs, string Folder, string DeniedDoc, string DeniedFolder, string StorageKey);

/// <summary>Builds the requests the suite sends, as a signed-in browser would.</summary>
static class Requests
{
    public static HttpRequestMessage Get(string path, string? cookie, string userAgent)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookie is not null) request.Headers.TryAddWithoutValidation("Cookie", cookie);
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        return request;
    }

    /// <summary>
    /// Sends as a browser does: a GET whose connection closes before any answer (a keep-alive connection the server
    /// closed at that moment, as nginx's old workers do on reload) is sent once more on a new connection
    /// (RFC 9112 9.3.1). Nothing else is retried: an upload, or a GET that got any answer, counts as it came.
    /// </summary>
    public static async Task<HttpResponseMessage> SendLikeABrowserAsync(HttpClient http, HttpRequestMessage request, Action retried)
    {
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        }
        // .NET reports a reset keep-alive connection as Unknown, ConnectionError or ResponseEnded, by timing.
        catch (HttpRequestException e) when (request.Method == HttpMethod.Get
                                             && e.HttpRequestError is not (HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError))
        {
            retried();
            var again = new HttpRequestMessage(HttpMethod.Get, request.RequestUri);
            foreach (var header in request.Headers) again.Headers.TryAddWithoutValidation(header.Key, header.Value);
            return await http.SendAsync(again, HttpCompletionOption.ResponseHeadersRead);
        }
    }

    public static HttpRequestMessage Upload(string folder, string? cookie, string? token, string userAgent, string fileName, byte[] bytes)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/folders/{folder}/documents");
        if (cookie is not null) request.Headers.TryAddWithoutValidation("Cookie", cookie);
        if (token is not null) request.Headers.TryAddWithoutValidation("RequestVerificationToken", token);
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        // By hand, as a browser sends it, so hostile names go out as given (filename* carries any UTF-8 name).
        file.Headers.TryAddWithoutValidation("Content-Disposition",
            $"form-data; name=\"files\"; filename=\"upload\"; filename*=UTF-8''{Uri.EscapeDataString(fileName)}");
        form.Add(file);
        request.Content = form;
        return request;
    }
}

/// <summary>Mixed load: 80 % downloads (a quarter of them ranges), 8 % audit queries, 7 % browsing, 5 % uploads.</summary>
static class Load
{
    public static async Task<int> RunAsync(HttpClient http, Config cfg, string phase, int seconds, int clients, HashSet<int> allowed)
    {
        var delivered = new ConcurrentBag<string>();      // User-Agents of answers that carried file bytes
        var errors = new ConcurrentQueue<string>();
        var counts = new ConcurrentDictionary<string, int>();
        long sequence = 0;
        var clock = Stopwatch.StartNew();
        double firstError = -1, lastError = -1;
        var errorLock = new object();
        var deadline = TimeSpan.FromSeconds(seconds);
        var perSecond = new ConcurrentDictionary<int, int>(); // second → failed answers, for the outage timeline
        // The script waits for this file before it injects its fault: the driver's own start-up can take seconds.
        await File.WriteAllTextAsync(Path.Combine(cfg.Out, $"{phase}.started"), "");

        void Count(string key) => counts.AddOrUpdate(key, 1, (_, n) => n + 1);
        void Failed(string what, bool intended, string kind)
        {
            var at = clock.Elapsed.TotalSeconds;
            perSecond.AddOrUpdate((int)at, 1, (_, n) => n + 1);
            lock (errorLock)
            {
                if (firstError < 0) firstError = at;
                lastError = at;
            }
            if (!intended)
            {
                Count("unintended");
                Count($"unintended_{kind}");
                if (errors.Count < 200) errors.Enqueue($"{at:0.00}s {what}");
            }
        }

        async Task ClientAsync(int client)
        {
            var random = new Random(client * 7919 + phase.GetHashCode());
            while (clock.Elapsed < deadline)
            {
                var n = Interlocked.Increment(ref sequence);
                var ua = $"rel-{cfg.Tag}-{phase}-{n}";
                var roll = random.Next(100);
                var kind = roll < 80 ? "download" : roll < 88 ? "audit" : roll < 95 ? "browse" : "upload";
                var staff = random.Next(2) == 0;
                HttpRequestMessage request = kind switch
                {
                    "download" => Requests.Get($"/d/{cfg.Docs[random.Next(cfg.Docs.Length)]}", staff ? cfg.StaffCookie : cfg.AdminCookie, ua),
                    "audit" => Requests.Get("/audit", cfg.ComplianceCookie, ua),
                    "browse" => Requests.Get("/", cfg.StaffCookie, ua),
                    _ => Requests.Upload(cfg.Folder, cfg.AdminCookie, cfg.AdminToken, ua, $"rel-{cfg.Tag}-{phase}-{n}.bin",
                        RandomBytes(random, random.Next(1024, 64 * 1024))),
                };
                var ranged = kind == "download" && random.Next(4) == 0;
                if (ranged) request.Headers.Range = new RangeHeaderValue(0, 1023);
                Count("requests");
                Count(kind);
                try
                {
                    using var response = await Requests.SendLikeABrowserAsync(http, request, () => Count("get_retried"));
                    var status = (int)response.StatusCode;
                    long bytes = 0;
                    await using (var body = await response.Content.ReadAsStreamAsync())
                    {
                        var buffer = new byte[65536];
                        int read;
                        while ((read = await body.ReadAsync(buffer)) > 0) bytes += read;
                    }
                    Count($"{kind}_{status}");
                    if (kind == "download" && status is 200 or 206 && bytes > 0)
                    {
                        delivered.Add(ua);
                        var expected = response.Content.Headers.ContentLength;
                        if (expected is { } length && length != bytes) Failed($"{ua} {kind} {status}: {bytes} of {length} bytes", false, kind);
                        else if (ranged && status != 206) Failed($"{ua} range answered {status}", false, kind);
                        continue;
                    }
                    var ok = kind switch
                    {
                        "download" => false,
                        _ => status == 200,
                    };
                    if (ok) continue;
                    if (status == 429) { Count("s429"); continue; }  // intended: the per-person limit, audited as Denied
                    Count($"s{status}");
                    Failed($"{ua} {kind} answered {status}", allowed.Contains(status), kind);
                    await Task.Delay(200); // a real client waits before it tries again (Retry-After, shortened)
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    Count("network_errors");
                    Failed($"{ua} {kind}: {e.GetType().Name}: {e.Message}", allowed.Contains(0), kind);
                    await Task.Delay(200);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(c))));
        var elapsed = clock.Elapsed.TotalSeconds;

        await File.WriteAllLinesAsync(Path.Combine(cfg.Out, $"{phase}-delivered.txt"), delivered.OrderBy(s => s, StringComparer.Ordinal));
        await File.WriteAllLinesAsync(Path.Combine(cfg.Out, $"{phase}-errors.txt"), errors);
        await File.WriteAllLinesAsync(Path.Combine(cfg.Out, $"{phase}-timeline.txt"),
            perSecond.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"));
        int Get(string key) => counts.GetValueOrDefault(key);
        Console.WriteLine($"requests={Get("requests")}");
        Console.WriteLine($"seconds={elapsed:0.0}");
        Console.WriteLine($"downloads={Get("download")}");
        Console.WriteLine($"delivered={delivered.Count}");
        Console.WriteLine($"uploads={Get("upload")} uploads_ok={Get("upload_200")}");
        Console.WriteLine($"audit_queries={Get("audit")} audit_ok={Get("audit_200")}");
        Console.WriteLine($"browse={Get("browse")} browse_ok={Get("browse_200")}");
        Console.WriteLine($"s429={Get("s429")} s502={Get("s502")} s503={Get("s503")} s500={Get("s500")} network_errors={Get("network_errors")}");
        Console.WriteLine($"unintended={Get("unintended")} unintended_download={Get("unintended_download")} unintended_upload={Get("unintended_upload")} get_retried={Get("get_retried")}");
        Console.WriteLine($"first_failure_s={firstError:0.0} last_failure_s={lastError:0.0}");
        foreach (var e in errors.Take(10)) Console.Error.WriteLine($"  unintended: {e}");
        return 0;
    }

    public static byte[] RandomBytes(Random random, int size)
    {
        var bytes = new byte[size];
        random.NextBytes(bytes);
        return bytes;
    }
}

/// <summary>Random and hostile input, through nginx, against every endpoint; each answer is checked.</summary>
static class Fuzz
{
    static readonly string[] Hostile =
    [
        "", " ", ".", "..", "../../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/", "/", "//", "\\..\\..\\windows",
        "%00", "\0", "a\0b", "%0d%0aX-Injected: 1", "\r\nX-Injected: 1", "x\r\nSet-Cookie: injected=1", "%E2%80%AE", "\u202Eexe.pdf",
        "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' OR '1'='1", "'; DROP TABLE \"Documents\"; --", "${jndi:ldap://x}",
        "{{7*7}}", "%s%s%s%n", "💥🗂️", "名前.pdf", "CON", "nul.txt", new string('A', 300), new string('é', 5000), "-1", "0",
        "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "99999999999999999999", "NaN", "true", "null",
        "%", "%%", "%zz", "+", "&", "=", "?", "#", ";", "file:///etc/passwd", "http://evil.example/", "//evil.example/", "javascript:alert(1)",
    ];

    static readonly Regex StackTrace = new(@"(\bat [A-Z][\w.`]+\.[\w<>`]+\(|Exception:|Unhandled exception|Npgsql|StackTrace|System\.[A-Z]\w+Exception)",
        RegexOptions.Compiled);

    public static async Task<int> RunAsync(HttpClient http, Config cfg, int count, int seed)
    {
        var random = new Random(seed);
        int tried = 0, failures = 0;
        var byKind = new Dictionary<string, int>();
        var failuresLog = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        // Four requests are in flight at once and their answers are checked on whichever threads they complete on:
        // the tallies above are shared, and a SortedDictionary mutated from two threads at once can loop forever
        // (a CI run hung in the fuzzer at 100% CPU) or throw. Every update takes this lock.
        var tally = new object();

        string Pick() => random.Next(3) switch
        {
            0 => Hostile[random.Next(Hostile.Length)],
            1 => RandomText(random, random.Next(0, 80)),
            _ => Hostile[random.Next(Hostile.Length)] + RandomText(random, random.Next(0, 10)),
        };
        string Esc(string s) => Uri.EscapeDataString(s.Length > 2000 ? s[..2000] : s);
        string Cookie() => random.Next(4) switch { 0 => cfg.AdminCookie, 1 => cfg.StaffCookie, 2 => cfg.ComplianceCookie, _ => "" };
        string Doc() => random.Next(3) == 0 ? cfg.Docs[0] : random.Next(2) == 0 ? cfg.DeniedDoc : Guid.NewGuid().ToString();

        void Check(string kind, string input, int status, HttpResponseHeaders? headers, HttpContentHeaders? contentHeaders, string body)
        {
            lock (tally) CheckLocked(kind, input, status, headers, contentHeaders, body);
        }

        void CheckLocked(string kind, string input, int status, HttpResponseHeaders? headers, HttpContentHeaders? contentHeaders, string body)
        {
            tried++;
            byKind[kind] = byKind.GetValueOrDefault(kind) + 1;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var problems = new List<string>();
            if (status >= 500 || status == 0) problems.Add($"status {status}");
            if (StackTrace.Match(body) is { Success: true } m) problems.Add($"stack trace marker '{m.Value}'");
            var all = (headers?.AsEnumerable() ?? []).Concat(contentHeaders?.AsEnumerable() ?? []);
            foreach (var (name, values) in all)
            {
                if (name.StartsWith("X-Injected", StringComparison.OrdinalIgnoreCase)) problems.Add("injected header");
                foreach (var v in values)
                    if (v.Contains('\r') || v.Contains('\n') || (name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase) && v.Contains("injected")))
                        problems.Add($"header {name} carries injected text");
            }
            if (problems.Count > 0)
            {
                failures++;
                if (failuresLog.Count < 100) failuresLog.Add($"{kind} {Show(input)}: {string.Join("; ", problems)}");
            }
        }

        async Task SendAsync(string kind, string input, HttpRequestMessage request)
        {
            try
            {
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                Check(kind, input, (int)response.StatusCode, response.Headers, response.Content.Headers, body.Length > 200_000 ? body[..200_000] : body);
            }
            catch (HttpRequestException e)
            {
                // The client refused to send it (an invalid header value) or the server closed the connection.
                Check(kind, input, e.HttpRequestError == HttpRequestError.InvalidResponse ? 0 : 400, null, null, "");
            }
            catch (InvalidOperationException) { /* HttpClient refused the request itself: nothing was sent */ }
            catch (FormatException) { }
        }

        var kinds = new Func<Task>[]
        {
            // ids in paths
            async () =>
            {
                var v = Pick();
                var path = random.Next(5) switch
                {
                    0 => $"/d/{Esc(v)}", 1 => $"/v/{Esc(v)}", 2 => $"/folders/{Esc(v)}", 3 => $"/d/{Doc()}/{Esc(v)}", _ => $"/{Esc(v)}",
                };
                await SendAsync("path", v, Requests.Get(path, Cookie(), "rel-fuzz"));
            },
            // query strings
            async () =>
            {
                var (k, v) = (Pick(), Pick());
                var page = new[] { "/", "/audit", "/signin", $"/d/{Doc()}", $"/v/{Doc()}", "/health/ready", "/metrics", $"/folders/{cfg.Folder}" }[random.Next(8)];
                var query = random.Next(3) == 0 ? $"returnUrl={Esc(v)}" : $"{Esc(k)}={Esc(v)}&{Esc(Pick())}={Esc(Pick())}";
                await SendAsync("query", $"{page}?{query}", Requests.Get($"{page}?{query}", Cookie(), "rel-fuzz"));
            },
            // headers
            async () =>
            {
                var v = Pick();
                var request = Requests.Get(random.Next(2) == 0 ? $"/d/{Doc()}" : new[] { "/", "/audit", "/signin", $"/v/{Doc()}" }[random.Next(4)], Cookie(), "rel-fuzz");
                var header = new[] { "Range", "If-None-Match", "If-Range", "If-Modified-Since", "Cookie", "User-Agent", "Accept", "Accept-Language",
                    "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Origin", "Referer", "Authorization", "Sec-Fetch-Site", "RequestVerificationToken" }[random.Next(16)];
                var value = header switch
                {
                    "Range" => new[] { "bytes=" + v, "bytes=-0", "bytes=99999999999999999999-", "bytes=5-1", string.Join(',', Enumerable.Repeat("bytes=0-0", 500)), "items=0-1" }[random.Next(6)],
                    "Cookie" => random.Next(2) == 0 ? $"portal.session={Esc(v)}" : $"{Cookie()}; portal.session={Esc(v)}",
                    _ => v,
                };
                request.Headers.Remove(header);
                if (!request.Headers.TryAddWithoutValidation(header, value)) return;
                await SendAsync("header", $"{header}: {value}", request);
            },
            // multipart bodies to the upload endpoint
            async () =>
            {
                var name = Pick();
                var folder = random.Next(4) switch { 0 => cfg.DeniedFolder, 1 => Guid.NewGuid().ToString(), _ => cfg.Folder };
                HttpRequestMessage request;
                if (random.Next(2) == 0)
                {
                    request = Requests.Upload(folder, cfg.AdminCookie, cfg.AdminToken, "rel-fuzz", name, Load.RandomBytes(random, random.Next(0, 4096)));
                }
                else
                {
                    // Hand-made, possibly broken, multipart bodies.
                    var boundary = random.Next(4) == 0 ? Pick() : "rel" + random.Next();
                    var body = new StringBuilder();
                    for (var part = 0; part < random.Next(0, 4); part++)
                    {
                        body.Append($"--{boundary}\r\n");
                        body.Append(random.Next(3) switch
                        {
                            0 => $"Content-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n",
                            1 => $"Content-Disposition: form-data; name=\"files\"; filename*=UTF-8''{Esc(name)}\r\n",
                            _ => $"Content-Disposition: {Pick()}\r\n",
                        });
                        if (random.Next(2) == 0) body.Append($"Content-Type: {Pick()}\r\n");
                        body.Append("\r\n").Append(RandomText(random, random.Next(0, 2000))).Append("\r\n");
                    }
                    if (random.Next(3) != 0) body.Append($"--{boundary}--\r\n");
                    request = new HttpRequestMessage(HttpMethod.Post, $"/folders/{folder}/documents");
                    request.Headers.TryAddWithoutValidation("Cookie", cfg.AdminCookie);
                    request.Headers.TryAddWithoutValidation("RequestVerificationToken", cfg.AdminToken);
                    request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToString()));
                    request.Content.Headers.TryAddWithoutValidation("Content-Type",
                        random.Next(5) == 0 ? Pick() : $"multipart/form-data; boundary={boundary}");
                }
                await SendAsync("multipart", name, request);
            },
            // forms: development sign-in and sign-out with garbage
            async () =>
            {
                var path = random.Next(2) == 0 ? "/auth/dev-signin" : "/auth/signout";
                var fields = new List<KeyValuePair<string, string>>
                {
                    new("user", random.Next(3) == 0 ? "staff" : Pick()), new("returnUrl", Pick()),
                    // A valid token only for the sign-in form: with one, the sign-out would really end the staff session.
                    new("__RequestVerificationToken", path == "/auth/dev-signin" && random.Next(2) == 0 ? cfg.StaffToken : Pick()),
                };
                var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) };
                var cookie = Cookie();
                if (cookie.Length > 0) request.Headers.TryAddWithoutValidation("Cookie", cookie);
                await SendAsync("form", string.Join('&', fields.Select(f => $"{f.Key}={f.Value}")), request);
            },
            // sign-in callbacks (OIDC paths; not mapped when the development sign-in is on: they must still answer cleanly)
            async () =>
            {
                var path = new[] { "/signin-oidc", "/signout-callback-oidc", "/auth/login", "/auth/backchannel-logout" }[random.Next(4)];
                var fields = new List<KeyValuePair<string, string>> { new("code", Pick()), new("state", Pick()), new("iss", Pick()), new("logout_token", Pick()), new("error", Pick()) };
                HttpRequestMessage request = random.Next(2) == 0
                    ? new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) }
                    : new HttpRequestMessage(HttpMethod.Get, path + "?" + string.Join('&', fields.Select(f => $"{f.Key}={Esc(f.Value)}")));
                await SendAsync("callback", path, request);
            },
            // raw bytes on the wire: request lines and headers HttpClient would never send
            async () =>
            {
                var v = Pick();
                var target = random.Next(2) == 0 ? $"/d/{v}" : $"/{v}";
                var raw = random.Next(4) switch
                {
                    0 => $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                    1 => $"GET /d/{Doc()} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cfg.StaffCookie}\r\nRange: {v}\r\nConnection: close\r\n\r\n",
                    2 => $"{v} / HTTP/1.1\r\nHost: {v}\r\nConnection: close\r\n\r\n",
                    _ => $"POST /folders/{cfg.Folder}/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cfg.AdminCookie}\r\nRequestVerificationToken: {cfg.AdminToken}\r\nContent-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{RandomText(random, 40)}\r\n",
                };
                var (status, head, body) = await RawAsync(cfg.Base, raw);
                var bad = status >= 500 ? $"status {status}" : StackTrace.IsMatch(body) ? "stack trace" : head.Contains("X-Injected", StringComparison.OrdinalIgnoreCase) ? "injected header" : null;
                lock (tally)
                {
                    tried++;
                    byKind["raw"] = byKind.GetValueOrDefault("raw") + 1;
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                    if (bad is not null) { failures++; if (failuresLog.Count < 100) failuresLog.Add($"raw {Show(raw)}: {bad}"); }
                }
            },
        };

        var started = Stopwatch.StartNew();
        // Four at a time, so it is quick but stays a fuzzer, not a load test.
        for (var i = 0; i < count; i += 4)
            await Task.WhenAll(Enumerable.Range(0, Math.Min(4, count - i)).Select(async _ =>
            {
                try { await kinds[random.Next(kinds.Length)](); }
                // The client library refused to build the request (an invalid header value): nothing was sent.
                catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException) { }
            }));

        // Names that were accepted must come back out without breaking the headers: download what the fuzzer stored.
        await File.WriteAllLinesAsync(Path.Combine(cfg.Out, "fuzz-failures.txt"), failuresLog);
        Console.WriteLine($"fuzz_inputs={tried}");
        Console.WriteLine($"fuzz_failures={failures}");
        Console.WriteLine($"fuzz_seconds={started.Elapsed.TotalSeconds:0.0}");
        Console.WriteLine($"fuzz_by_kind={string.Join(',', byKind.OrderBy(k => k.Key).Select(k => $"{k.Key}:{k.Value}"))}");
        Console.WriteLine($"fuzz_statuses={string.Join(',', statuses.Select(k => $"{k.Key}:{k.Value}"))}");
        foreach (var f in failuresLog.Take(15)) Console.Error.WriteLine($"  fuzz failure: {f}");
        return 0;
    }

    /// <summary>Random text: printable, control characters, and now and then non-ASCII.</summary>
    static string RandomText(Random random, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
            chars[i] = random.Next(10) switch { 0 => (char)random.Next(0, 32), 1 => (char)random.Next(0x80, 0x3000), _ => (char)random.Next(32, 127) };
        return new string(chars);
    }

    static string Show(string s)
    {
        var shown = new StringBuilder();
        foreach (var c in s.Length > 120 ? s[..120] + "…" : s) shown.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        return shown.ToString();
    }

    /// <summary>Sends raw bytes and reads the answer until the server closes (5 s at most).</summary>
    public static async Task<(int Status, string Head, string Body)> RawAsync(string baseUrl, string raw)
    {
        var uri = new Uri(baseUrl);
        using var client = new TcpClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await client.ConnectAsync(uri.Host, uri.Port, cts.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(raw), cts.Token);
        var answer = new MemoryStream();
        try { await stream.CopyToAsync(answer, cts.Token); }
        catch (Exception e) when (e is OperationCanceledException or IOException) { }
        var text = Encoding.UTF8.GetString(answer.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? text : text[..split];
        var body = split < 0 ? "" : text[(split + 4)..];
        var match = Regex.Match(head, @"^HTTP/1\.[01] (\d{3})");
        // No answer at all (the server closed the connection on garbage) is a clean refusal, not a crash.
        return (match.Success ? int.Parse(match.Groups[1].Value) : 400, head, body);
    }
}

/// <summary>What an attacker would try. Each check prints PASS or FAIL; any FAIL makes the exit code 1.</summary>
static class Security
{
    public static async Task<int> RunAsync(HttpClient http, Config cfg)
    {
        int passed = 0, failed = 0;
        void Expect(string what, bool ok, string detail)
        {
            if (ok) passed++; else failed++;
            Console.Error.WriteLine($"  {(ok ? "PASS" : "FAIL")} {what} ({detail})");
        }
        async Task<(int Status, string? Location, string Body, long Length)> SendAsync(HttpRequestMessage request)
        {
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsByteArrayAsync();
            return ((int)response.StatusCode, response.Headers.Location?.ToString(), Encoding.UTF8.GetString(body), body.Length);
        }
        static bool Refused(int status, string? location) => status is 401 or 403 or 404 || (status == 302 && location?.Contains("/signin") == true);

        // 1. Every endpoint without a session.
        foreach (var path in new[] { "/", "/audit", $"/folders/{cfg.Folder}", $"/d/{cfg.Docs[0]}", $"/v/{cfg.Docs[0]}", $"/d/{cfg.DeniedDoc}" })
        {
            var (status, location, _, _) = await SendAsync(Requests.Get(path, null, "rel-security"));
            Expect($"GET {path} without a session is refused", Refused(status, location), $"{status} {location}");
        }
        {
            var (status, location, _, _) = await SendAsync(Requests.Upload(cfg.Folder, null, null, "rel-security", "anonymous.txt", "x"u8.ToArray()));
            Expect("upload without a session is refused", Refused(status, location) || status == 400, $"{status} {location}");
            var post = new HttpRequestMessage(HttpMethod.Post, "/auth/signout") { Content = new FormUrlEncodedContent([]) };
            (status, location, _, _) = await SendAsync(post);
            Expect("sign-out without a session is refused", Refused(status, location) || status == 400, $"{status} {location}");
            (status, location, _, _) = await SendAsync(Requests.Get($"/d/{cfg.Docs[0]}", "portal.session=CfDJ8forgedforgedforged", "rel-security"));
            Expect("a forged session cookie is refused", Refused(status, location), $"{status} {location}");
        }

        // 2. Another person's ids: staff on the Board folder and its document.
        {
            var (status, location, _, length) = await SendAsync(Requests.Get($"/d/{cfg.DeniedDoc}", cfg.StaffCookie, "rel-security"));
            Expect("staff cannot download a Board document by its id", status == 403 && length < 2000, $"{status}, {length} bytes");
            (status, location, _, length) = await SendAsync(Requests.Get($"/v/{cfg.DeniedDoc}", cfg.StaffCookie, "rel-security"));
            Expect("staff cannot view a Board document by its id", status == 403 && length < 2000, $"{status}, {length} bytes");
            (status, location, _, _) = await SendAsync(Requests.Upload(cfg.DeniedFolder, cfg.StaffCookie, cfg.StaffToken, "rel-security", "intruder.txt", "x"u8.ToArray()));
            Expect("staff cannot upload into the Board folder", status == 403, $"{status}");
            (status, location, _, _) = await SendAsync(Requests.Upload(cfg.Folder, cfg.StaffCookie, cfg.StaffToken, "rel-security", "intruder.txt", "x"u8.ToArray()));
            Expect("staff cannot upload into Company (browse and download only)", status == 403, $"{status}");
            var (s2, _, body, _) = await SendAsync(Requests.Get($"/folders/{cfg.DeniedFolder}", cfg.StaffCookie, "rel-security"));
            Expect("staff browsing the Board folder by id sees none of its documents", !body.Contains("board-", StringComparison.OrdinalIgnoreCase) || s2 != 200, $"{s2}");
            (s2, _, body, _) = await SendAsync(Requests.Get("/audit", cfg.StaffCookie, "rel-security"));
            Expect("staff cannot read the audit log", s2 != 200 || !body.Contains("DocumentDownloaded") && !body.Contains("rel-"), $"{s2}");
        }

        // 3. A forged antiforgery token, and a token of another person.
        {
            var (status, _, _, _) = await SendAsync(Requests.Upload(cfg.Folder, cfg.AdminCookie, "CfDJ8forged-token", "rel-security", "forged.txt", "x"u8.ToArray()));
            Expect("upload with a forged antiforgery token is refused", status == 400, $"{status}");
            (status, _, _, _) = await SendAsync(Requests.Upload(cfg.Folder, cfg.AdminCookie, cfg.StaffToken, "rel-security", "borrowed.txt", "x"u8.ToArray()));
            Expect("upload with another person's antiforgery token is refused", status == 400, $"{status}");
            var post = new HttpRequestMessage(HttpMethod.Post, "/auth/signout") { Content = new FormUrlEncodedContent([new("__RequestVerificationToken", "forged")]) };
            post.Headers.TryAddWithoutValidation("Cookie", cfg.StaffCookie);
            (status, _, _, _) = await SendAsync(post);
            Expect("sign-out with a forged antiforgery token is refused", status == 400, $"{status}");
        }

        // 4. A cross-site request: the browser sends the cookies but the other site cannot read the token.
        {
            var request = Requests.Upload(cfg.Folder, cfg.AdminCookie, null, "rel-security", "csrf.txt", "x"u8.ToArray());
            request.Headers.TryAddWithoutValidation("Origin", "https://evil.example");
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "cross-site");
            var (status, _, _, _) = await SendAsync(request);
            Expect("a cross-site upload (cookies, no token) is refused", status == 400, $"{status}");
            var form = new HttpRequestMessage(HttpMethod.Post, "/auth/signout") { Content = new FormUrlEncodedContent([]) };
            form.Headers.TryAddWithoutValidation("Cookie", cfg.StaffCookie);
            form.Headers.TryAddWithoutValidation("Origin", "https://evil.example");
            (status, _, _, _) = await SendAsync(form);
            Expect("a cross-site sign-out is refused", status == 400, $"{status}");
            var signin = new HttpRequestMessage(HttpMethod.Post, "/auth/dev-signin") { Content = new FormUrlEncodedContent([new("user", "admin"), new("returnUrl", "/")]) };
            signin.Headers.TryAddWithoutValidation("Origin", "https://evil.example");
            (status, _, _, _) = await SendAsync(signin);
            Expect("a cross-site sign-in (login CSRF) is refused", status == 400, $"{status}");
            var redirect = new HttpRequestMessage(HttpMethod.Post, "/auth/dev-signin")
            { Content = new FormUrlEncodedContent([new("user", "staff"), new("returnUrl", "//evil.example/"), new("__RequestVerificationToken", "x")]) };
            (status, var location, _, _) = await SendAsync(redirect);
            Expect("no open redirect through returnUrl", location is null || location.StartsWith('/') && !location.StartsWith("//"), $"{status} {location}");
        }

        // 5. The internal location from outside.
        foreach (var path in new[] { $"/_protected/{cfg.StorageKey}", "/_protected/", "/_protected/.incoming/", $"/_protected/../{cfg.StorageKey}", $"/_protected/%2e%2e/{cfg.StorageKey}" })
        {
            var (status, _, _, length) = await SendAsync(Requests.Get(path, cfg.AdminCookie, "rel-security"));
            Expect($"GET {path} from outside serves nothing", status is 400 or 404 && length < 2000, $"{status}, {length} bytes");
        }
        var (st, _, _, len) = await SendAsync(Requests.Get($"/d/{cfg.Docs[0]}", cfg.AdminCookie, "rel-security"));
        Expect("control: the same person downloads an allowed document", st == 200 && len > 0, $"{st}, {len} bytes");

        Console.WriteLine($"security_checks={passed + failed}");
        Console.WriteLine($"security_failed={failed}");
        return failed == 0 ? 0 : 1;
    }
}
