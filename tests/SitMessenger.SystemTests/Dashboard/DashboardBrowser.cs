using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace SitMessenger.SystemTests.Dashboard;

/// <summary>One row of the dashboard's Resources page, as the page shows it.</summary>
/// <param name="Name">The name shown in the Name column (a replica shows its instance name, such as "api-x2k9f3").</param>
/// <param name="Type">The resource type from the Name cell's label: Project, Executable, Container, ...</param>
/// <param name="State">The state without the health suffix: Running, Starting, Stopping, Finished, Waiting, ...</param>
/// <param name="Health">
/// Healthy, Unhealthy or Degraded for a Running resource; null otherwise. The dashboard writes "Running (Unhealthy)" when a
/// running resource's health checks do not pass yet and plain "Running" when they do (or when it has none).
/// </param>
/// <param name="StateText">The State column's text, such as "Running (Unhealthy)".</param>
/// <param name="StateTooltip">The State cell's tooltip, such as "Resource is running but not in a healthy state.".</param>
/// <param name="StartTime">The Start time cell's tooltip (full date and time to the second), or null.</param>
internal sealed record DashboardResource(
    string Name,
    string Type,
    string State,
    string? Health,
    string StateText,
    string StateTooltip,
    string? StartTime)
{
    public bool IsRunningAndHealthy => State == "Running" && Health == "Healthy";
}

/// <summary>What the dashboard's toast said when a resource command finished.</summary>
/// <param name="Title">The toast's title, such as <c>scheduler "Run sweep now" succeeded</c>.</param>
/// <param name="Details">The toast's body: the error message a failed command returned, or null.</param>
internal sealed record DashboardCommandResult(
    string ResourceName,
    string CommandDisplayName,
    bool Succeeded,
    string Title,
    string? Details);

/// <summary>A restart seen through the Resources page.</summary>
/// <param name="ObservedStates">Every State text the row showed from the click until it was back Running and healthy,
/// such as Running, Stopping, Finished, Starting, Running (Unhealthy), Running.</param>
internal sealed record DashboardRestartResult(
    string ResourceName,
    DashboardCommandResult Command,
    IReadOnlyList<string> ObservedStates,
    string? StartTimeBefore,
    string? StartTimeAfter);

/// <summary>One row of the Traces page.</summary>
/// <param name="SpansByService">The span count per resource, from the row's Spans column.</param>
internal sealed record DashboardTrace(
    string TraceId,
    string Name,
    string Timestamp,
    IReadOnlyDictionary<string, int> SpansByService);

/// <summary>One span row of a trace's detail page.</summary>
internal sealed record DashboardSpan(string Name, string Resource);

/// <summary>
/// Drives the real Aspire dashboard (13.6) in Debian's headless Chromium through Playwright, the way a person would:
/// log in with the token from the login URL, read the Resources page, run resource commands from a row's "..." menu,
/// read the Traces page and keep screenshots under the test output (<c>AppContext.BaseDirectory/screenshots</c>).
/// </summary>
/// <remarks>
/// Selectors follow what the 13.6 dashboard renders: resource rows are <c>tr.resource-row</c> whose Name cell holds
/// <c>.resource-name-text</c> and an aria-label "Type: name"; the State cell's first span holds the state text; the
/// row's "Actions" button opens a menu of <c>menuitem</c>s (View details, Console logs, ..., Stop/Start, every command
/// added with <c>WithCommand</c>, Restart; with several commands of its own, those and Restart sit in a "Commands"
/// submenu instead); a command reports through a <c>fluent-toast-b.resource-command-toast</c>
/// whose <c>intent</c> goes from progress to success or error; a command with a confirmation message first opens a
/// <c>fluent-dialog</c> whose primary button confirms. Traces rows live in <c>#tracesScrollContainer</c> (virtualized,
/// newest at the bottom), each with <c>.trace-service-tag</c>s "name (count)" and a Name cell titled "...Trace Id: id".
/// The page is read in English (the browser context's locale is en-US).
/// </remarks>
internal sealed partial class DashboardBrowser : IAsyncDisposable
{
    /// <summary>Debian's Chromium; <c>SIT_CHROMIUM_PATH</c> names another.</summary>
    public const string DefaultChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
    ];

    /// <summary>Reads the pages in place; added to every document the page loads.</summary>
    private const string PageHelpers =
        """
        window.__sit = {
          // The Resources grid, by column title so that a hidden or moved column does not shift the others.
          resources() {
            const columns = {};
            for (const th of document.querySelectorAll('th[col-index]')) {
              const title = (th.querySelector('[col-sort-button]')?.getAttribute('title') ?? th.textContent).trim();
              columns[title] = th.getAttribute('col-index');
            }
            const cell = (row, title, fallback) => row.querySelector(`td[col-index="${columns[title] ?? fallback}"]`);
            return [...document.querySelectorAll('tr.resource-row')].filter(r => r.querySelector('.resource-name-text')).map(row => {
              const nameCell = cell(row, 'Name', '1');
              const label = nameCell?.getAttribute('aria-label') ?? '';
              const stateCell = cell(row, 'State', '2');
              return {
                name: row.querySelector('.resource-name-text').textContent.trim(),
                type: label.includes(': ') ? label.substring(0, label.indexOf(': ')) : '',
                stateText: (stateCell?.querySelector('.state-column-cell > span')?.textContent ?? stateCell?.textContent ?? '').trim(),
                stateTooltip: stateCell?.getAttribute('title') ?? '',
                startTime: cell(row, 'Start time', '3')?.getAttribute('title') || null,
              };
            });
          },
          commandToasts() {
            return [...document.querySelectorAll('fluent-toast-b.resource-command-toast')].map(t => ({
              id: t.id,
              intent: t.getAttribute('intent') ?? '',
              title: t.querySelector('[slot="title"]')?.textContent.trim() ?? '',
              details: document.getElementById(t.id + '-body')?.textContent.trim() || null,
            }));
          },
          confirmationOpen() {
            return [...document.querySelectorAll('fluent-dialog')].some(d => d.querySelector('fluent-button[appearance="primary"]') && d.checkVisibility());
          },
        };
        """;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly IBrowserContext _context;
    private TimeSpan _timeout = TimeSpan.FromSeconds(30);
    private int _screenshots;

    private DashboardBrowser(IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page, string screenshotDirectory)
    {
        _playwright = playwright;
        _browser = browser;
        _context = context;
        Page = page;
        ScreenshotDirectory = screenshotDirectory;
        Page.SetDefaultTimeout((float)_timeout.TotalMilliseconds);
    }

    /// <summary>The page, for steps this class does not cover.</summary>
    public IPage Page { get; }

    /// <summary>The dashboard's address (scheme, host and port), known after <see cref="LoginAsync"/>.</summary>
    public Uri? BaseUri { get; private set; }

    /// <summary>Where <see cref="ScreenshotAsync"/> writes, created on launch.</summary>
    public string ScreenshotDirectory { get; }

    /// <summary>How long any single wait on the page may take (30 s unless set).</summary>
    public TimeSpan Timeout
    {
        get => _timeout;
        set
        {
            _timeout = value;
            Page.SetDefaultTimeout((float)value.TotalMilliseconds);
        }
    }

    /// <summary>How long a restarted resource may take to be Running and healthy again: 3 minutes unless set.</summary>
    public TimeSpan RestartTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How long a resource command may run before its toast reports (2 minutes unless set).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan CommandClickTimeout = TimeSpan.FromSeconds(5);
    private const int CommandClickAttempts = 4;

    /// <summary>Starts headless Chromium with one 1600x1000 English page.</summary>
    /// <param name="screenshotDirectory">Defaults to <c>AppContext.BaseDirectory/screenshots</c>.</param>
    public static async Task<DashboardBrowser> LaunchAsync(string? screenshotDirectory = null)
    {
        screenshotDirectory ??= Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(screenshotDirectory);
        var executable = Environment.GetEnvironmentVariable("SIT_CHROMIUM_PATH") is { Length: > 0 } path ? path : DefaultChromiumPath;
        if (!File.Exists(executable))
        {
            throw new FileNotFoundException(
                $"Chromium was not found at {executable}: run scripts/install-prerequisites.sh (Debian's chromium package).", executable);
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = executable,
                Headless = true,
                Args = ChromiumArgs,
            });
            var context = await browser.NewContextAsync(new()
            {
                ViewportSize = new() { Width = 1600, Height = 1000 },
                Locale = "en-US",
            });
            await context.AddInitScriptAsync(PageHelpers);
            var page = await context.NewPageAsync();
            return new DashboardBrowser(playwright, browser, context, page, screenshotDirectory);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>Opens the login URL the AppHost printed ("/login?t=token"), and waits for the Resources page.</summary>
    public Task LoginAsync(Uri loginUrlWithToken) => GuardAsync("login", async () =>
    {
        ArgumentNullException.ThrowIfNull(loginUrlWithToken);
        BaseUri = new Uri(loginUrlWithToken.GetLeftPart(UriPartial.Authority) + "/");
        await Page.GotoAsync(loginUrlWithToken.ToString());
        // A good token sets the auth cookie and redirects to the Resources page; a bad one leaves the login form.
        try
        {
            await Page.WaitForURLAsync(url => !new Uri(url).AbsolutePath.StartsWith("/login", StringComparison.OrdinalIgnoreCase));
        }
        catch (TimeoutException)
        {
            if (await Page.GetByPlaceholder("Enter token to log in").First.IsVisibleAsync())
            {
                throw new InvalidOperationException("The dashboard refused the browser token: it still shows its login form.");
            }

            throw;
        }

        await WaitForResourceRowsAsync();
        return true;
    });

    /// <summary>Every resource the Resources page lists, with its state and health, as shown (children are expanded).</summary>
    public Task<IReadOnlyList<DashboardResource>> ResourceStatesAsync() => GuardAsync("resource-states", async () =>
    {
        await GoToResourcesAsync();
        await ExpandAllAsync();
        return await ReadResourcesAsync();
    });

    /// <summary>Waits until the Resources page shows <paramref name="names"/> (all listed resources when empty) Running
    /// and healthy, and returns every row as then shown.</summary>
    public Task<IReadOnlyList<DashboardResource>> WaitForRunningAndHealthyAsync(TimeSpan timeout, params string[] names) =>
        GuardAsync("wait-running-healthy", async () =>
        {
            await GoToResourcesAsync();
            var deadline = DateTime.UtcNow + timeout;
            IReadOnlyList<DashboardResource> rows = [];
            while (true)
            {
                await ExpandAllAsync();
                rows = await ReadResourcesAsync();
                var wanted = names.Length == 0 ? rows : rows.Where(r => names.Any(n => NameMatches(r.Name, n))).ToList();
                var missing = names.Where(n => !rows.Any(r => NameMatches(r.Name, n))).ToList();
                if (wanted.Count > 0 && missing.Count == 0 && wanted.All(r => r.IsRunningAndHealthy))
                {
                    return rows;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException(
                        $"Not all Running and healthy after {timeout}: " +
                        string.Join(", ", rows.Select(r => $"{r.Name}={r.StateText}")) +
                        (missing.Count > 0 ? $"; not listed: {string.Join(", ", missing)}" : ""));
                }

                // The grid updates live: wait for the next render rather than a fixed time.
                await WaitForGridChangeAsync(TimeSpan.FromSeconds(2));
            }
        });

    /// <summary>
    /// Runs a command from the resource row's "..." (Actions) menu, confirms it when the command asks, and waits for the
    /// dashboard's toast to report success or failure. Built-in commands work too: "Stop", "Start", "Restart".
    /// </summary>
    public Task<DashboardCommandResult> ExecuteResourceCommandAsync(string resourceName, string commandDisplayName) =>
        GuardAsync($"command-{resourceName}-{commandDisplayName}", async () =>
        {
            // This run's toast is the one that was not there before the click; its title quotes the command's name.
            const string thisRunsToast =
                "window.__sit.commandToasts().find(t => !before.includes(t.id) && t.title.includes('\"' + command + '\"'))";

            await GoToResourcesAsync();
            await ExpandAllAsync();
            var toastsBefore = (await EvaluateJsonAsync<ToastReading[]>("() => window.__sit.commandToasts()")).Select(t => t.Id).ToArray();

            // The dashboard shows the command's confirmation or its "starting" toast as soon as the click reaches it.
            // The grid re-renders on every resource update, so a click that lands while the row's menu is being
            // replaced does nothing at all: when neither comes within a few seconds, open the menu and click again.
            string? next = null;
            for (var attempt = 1; next is null; attempt++)
            {
                await ClickResourceMenuItemAsync(resourceName, commandDisplayName);
                try
                {
                    next = await WaitForJsonAsync<string>(
                        $"([before, command]) => window.__sit.confirmationOpen() ? 'confirm' : ({thisRunsToast} ? 'toast' : null)",
                        new object[] { toastsBefore, commandDisplayName }, CommandClickTimeout);
                }
                catch (TimeoutException) when (attempt < CommandClickAttempts)
                {
                    await Page.Keyboard.PressAsync("Escape");
                }
            }

            if (next == "confirm")
            {
                await Page.Locator("fluent-dialog fluent-button[appearance='primary']").ClickAsync();
            }

            var result = await WaitForJsonAsync<ToastReading>(
                $"([before, command]) => {{ const t = {thisRunsToast}; return t && t.intent !== 'progress' ? t : null; }}",
                new object[] { toastsBefore, commandDisplayName }, CommandTimeout);
            return new DashboardCommandResult(resourceName, commandDisplayName, result.Intent == "success", result.Title, result.Details);
        });

    private async Task ClickResourceMenuItemAsync(string resourceName, string commandDisplayName)
    {
        var row = await ResourceRowAsync(resourceName);
        await row.GetByRole(AriaRole.Button, new() { Name = "Actions", Exact = true }).ClickAsync();
        await row.GetByRole(AriaRole.Menuitem, new() { Name = "View details", Exact = true }).WaitForAsync();
        var item = row.GetByRole(AriaRole.Menuitem, new() { Name = commandDisplayName, Exact = true });
        // A resource with several commands of its own gets them (and Restart) in a "Commands" submenu.
        var submenu = row.Locator("fluent-menu-item[title='Commands']");
        if (!await item.IsVisibleAsync() && await submenu.CountAsync() == 1)
        {
            await submenu.ClickAsync();
        }

        await item.ClickAsync();
    }

    /// <summary>Restarts a resource from its row's menu and waits until it has gone down and is back Running and
    /// healthy (within <see cref="RestartTimeout"/>).</summary>
    public Task<DashboardRestartResult> RestartResourceAsync(string name) => GuardAsync($"restart-{name}", async () =>
    {
        await GoToResourcesAsync();
        await ExpandAllAsync();
        var rows = await ReadResourcesAsync();
        var before = rows.SingleOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? rows.SingleOrDefault(r => IsInstanceOf(r.Name, name))
            ?? throw new InvalidOperationException(
                $"No single resource '{name}' on the Resources page ({string.Join(", ", rows.Select(r => r.Name))}): name one instance.");

        // Record every state the row shows from now on, so that a quick Stopping/Starting between two reads is not missed.
        await Page.EvaluateAsync(
            """
            (name) => {
              window.__sitRestart?.observer.disconnect();
              const log = [];
              const record = () => {
                const row = window.__sit.resources().find(r => r.name === name);
                const last = log[log.length - 1];
                if (row && (!last || last.state !== row.stateText || last.start !== row.startTime)) log.push({ state: row.stateText, start: row.startTime });
              };
              const observer = new MutationObserver(record);
              observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
              window.__sitRestart = { log, observer };
              record();
            }
            """,
            before.Name);

        var command = await ExecuteResourceCommandAsync(before.Name, "Restart");
        if (!command.Succeeded)
        {
            throw new InvalidOperationException($"Restart of {name} failed: {command.Title} {command.Details}");
        }

        var log = await WaitForJsonAsync<StateReading[]>(
            """
            () => {
              const { log } = window.__sitRestart;
              const first = log[0], last = log[log.length - 1];
              const wentDown = log.some(s => s.state !== 'Running' || s.start !== first.start);
              return wentDown && last.state === 'Running' ? log : null;
            }
            """,
            null, RestartTimeout);
        await Page.EvaluateAsync("() => window.__sitRestart?.observer.disconnect()");
        return new DashboardRestartResult(before.Name, command, log.Select(s => s.State).ToList(), before.StartTime, log[^1].Start);
    });

    /// <summary>
    /// Finds, on the Traces page, the newest trace with spans from every one of <paramref name="services"/> (a name also
    /// matches its replicas, "api" matching "api-x2k9f3"), scrolling the virtualized list and waiting for new traces
    /// until <see cref="Timeout"/>.
    /// </summary>
    public Task<DashboardTrace> FindTraceWithServicesAsync(params string[] services) =>
        FindTraceWithServicesAsync(Timeout, services);

    /// <inheritdoc cref="FindTraceWithServicesAsync(string[])"/>
    public Task<DashboardTrace> FindTraceWithServicesAsync(TimeSpan timeout, params string[] services) =>
        FindTraceWithServicesAsync(timeout, nameContains: "", services);

    /// <summary>As <see cref="FindTraceWithServicesAsync(string[])"/>, for a trace whose name holds <paramref name="nameContains"/>.</summary>
    public Task<DashboardTrace> FindTraceWithServicesAsync(TimeSpan timeout, string nameContains, params string[] services) =>
        GuardAsync("find-trace", async () =>
        {
            if (services.Length == 0)
            {
                throw new ArgumentException("Name at least one service.", nameof(services));
            }

            await GoToAsync("traces");
            await Page.Locator("#tracesScrollContainer").WaitForAsync();
            var found = await WaitForJsonAsync<TraceReading>(
                """
                ({ services, nameContains }) => {
                  const container = document.getElementById('tracesScrollContainer');
                  if (!container) return null;
                  // A service also matches its replicas' instance names ("api" matches "api-x2k9f3ab").
                  const matches = (tag, service) => tag.toLowerCase() === service.toLowerCase() ||
                    (tag.length === service.length + 9 && tag.toLowerCase().startsWith(service.toLowerCase() + '-') && /^[a-z0-9]{8}$/.test(tag.substring(service.length + 1)));
                  const rows = [...container.querySelectorAll('tr[role="row"]')].filter(r => r.querySelector('.trace-service-tag'));
                  for (const row of rows.reverse()) {
                    const spans = {};
                    for (const tag of row.querySelectorAll('.trace-service-tag')) {
                      const m = /^(.*)\s\((\d+)\)$/.exec(tag.textContent.trim());
                      if (m) spans[m[1]] = parseInt(m[2], 10);
                    }
                    const cells = row.querySelectorAll('td[role="gridcell"]');
                    const rowName = cells[1]?.querySelector('.trace-name-content > span')?.textContent.trim() ?? cells[1]?.getAttribute('title') ?? '';
                    if (services.every(s => Object.keys(spans).some(t => matches(t, s))) && rowName.includes(nameContains)) {
                      const title = cells[1]?.getAttribute('title') ?? '';
                      const id = /Trace Id:\s*([0-9a-f]+)/i.exec(title);
                      return {
                        traceId: id ? id[1] : '',
                        name: cells[1]?.querySelector('.trace-name-content > span')?.textContent.trim() ?? title,
                        timestamp: cells[0]?.getAttribute('title') ?? '',
                        spans,
                      };
                    }
                  }
                  // Not among the rendered rows: show the next page up (the list is virtualized), wrapping to the newest.
                  if (container.scrollTop <= 0) container.scrollTop = container.scrollHeight;
                  else container.scrollTop = Math.max(0, container.scrollTop - container.clientHeight);
                  return null;
                }
                """,
                new { services, nameContains }, timeout, pollingMilliseconds: 250);
            return new DashboardTrace(found.TraceId, found.Name, found.Timestamp, found.Spans);
        });

    /// <summary>Opens a trace's detail page and returns its spans (name and resource) once they show.</summary>
    public Task<IReadOnlyList<DashboardSpan>> OpenTraceAsync(string traceId) => GuardAsync("open-trace", async () =>
    {
        await GoToAsync($"traces/detail/{Uri.EscapeDataString(traceId)}");
        var spans = await WaitForJsonAsync<SpanReading[]>(
            """
            () => {
              const rows = [...document.querySelectorAll('tr[role="row"]')].filter(r => r.querySelector('.resource-name'));
              return rows.length === 0 ? null : rows.map(r => ({
                name: r.querySelector('.span-name-container')?.textContent.trim() ?? '',
                resource: r.querySelector('.resource-name').textContent.trim(),
              }));
            }
            """,
            null, Timeout);
        return (IReadOnlyList<DashboardSpan>)spans.Select(s => new DashboardSpan(s.Name, s.Resource)).ToList();
    });

    /// <summary>Saves a PNG of the page as <c>NN-name.png</c> in <see cref="ScreenshotDirectory"/>, and returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var file = Path.Combine(ScreenshotDirectory, $"{Interlocked.Increment(ref _screenshots):D2}-{SafeFileName(name)}.png");
        await Page.ScreenshotAsync(new() { Path = file, FullPage = true });
        return file;
    }

    public async ValueTask DisposeAsync()
    {
        await _context.CloseAsync();
        await _browser.CloseAsync();
        _playwright.Dispose();
    }

    /// <summary>Whether a name the dashboard shows is <paramref name="name"/> or one of its replicas: a resource with
    /// replicas is listed once per instance, as "api-x2k9f3ab" (its name, a dash and 8 lowercase letters or digits).</summary>
    public static bool IsInstanceOf(string shown, string name) =>
        string.Equals(shown, name, StringComparison.OrdinalIgnoreCase) ||
        (shown.Length == name.Length + 9 && shown.StartsWith(name + "-", StringComparison.OrdinalIgnoreCase) &&
         shown[(name.Length + 1)..].All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)));

    private static bool NameMatches(string shown, string name) => IsInstanceOf(shown, name);

    private async Task GoToAsync(string relative)
    {
        var baseUri = BaseUri ?? throw new InvalidOperationException("Log in first.");
        await Page.GotoAsync(new Uri(baseUri, relative).ToString());
    }

    private async Task GoToResourcesAsync()
    {
        var baseUri = BaseUri ?? throw new InvalidOperationException("Log in first.");
        var current = new Uri(Page.Url);
        if (current.GetLeftPart(UriPartial.Authority) != baseUri.GetLeftPart(UriPartial.Authority) || current.AbsolutePath != "/")
        {
            await Page.GotoAsync(baseUri.ToString());
        }

        await WaitForResourceRowsAsync();
    }

    private Task WaitForResourceRowsAsync() =>
        Page.Locator("tr.resource-row .resource-name-text").First.WaitForAsync(new() { State = WaitForSelectorState.Attached });

    /// <summary>The row of <paramref name="name"/>: the row shown with that name, else its only replica.</summary>
    private async Task<ILocator> ResourceRowAsync(string name)
    {
        var deadline = DateTime.UtcNow + Timeout;
        List<string> candidates;
        while (true)
        {
            var shown = (await ReadResourcesAsync()).Select(r => r.Name).ToList();
            var exact = shown.Where(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)).ToList();
            candidates = exact.Count > 0 ? exact : shown.Where(n => IsInstanceOf(n, name)).ToList();
            if (candidates.Count == 1)
            {
                break;
            }

            if (candidates.Count > 1 || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException(
                    $"{candidates.Count} rows match '{name}' on the Resources page ({string.Join(", ", shown)}): name one instance.");
            }

            // Resources arrive one by one after the page loads.
            await WaitForGridChangeAsync(TimeSpan.FromSeconds(2));
        }

        return Page.Locator("tr.resource-row").Filter(new()
        {
            Has = Page.Locator(".resource-name-text", new() { HasTextRegex = new Regex($"^\\s*{Regex.Escape(candidates[0])}\\s*$") }),
        });
    }

    /// <summary>Opens every collapsed parent row so that children are listed too.</summary>
    private async Task ExpandAllAsync()
    {
        for (var i = 0; i < 20; i++)
        {
            var collapsed = Page.Locator("tr.resource-row .main-grid-expand-container:not(.main-grid-expanded) .main-grid-expand-button");
            if (await collapsed.CountAsync() == 0)
            {
                return;
            }

            await collapsed.First.ClickAsync();
        }
    }

    private async Task<IReadOnlyList<DashboardResource>> ReadResourcesAsync()
    {
        var rows = await EvaluateJsonAsync<ResourceReading[]>("() => window.__sit.resources()");
        return rows.Select(r =>
        {
            var match = StateWithHealth().Match(r.StateText);
            var state = match.Success ? match.Groups["state"].Value : r.StateText;
            var health = match.Success ? match.Groups["health"].Value : state == "Running" ? "Healthy" : null;
            return new DashboardResource(r.Name, r.Type, state, health, r.StateText, r.StateTooltip, r.StartTime);
        }).ToList();
    }

    private async Task WaitForGridChangeAsync(TimeSpan atMost)
    {
        var before = await Page.EvaluateAsync<string>("() => document.querySelector('tbody')?.innerText ?? ''");
        try
        {
            await Page.WaitForFunctionAsync(
                "(before) => (document.querySelector('tbody')?.innerText ?? '') !== before",
                before,
                new() { Timeout = (float)atMost.TotalMilliseconds, PollingInterval = 200 });
        }
        catch (TimeoutException)
        {
            // Nothing changed in that time: read again anyway.
        }
    }

    /// <summary>Polls <paramref name="function"/> in the page until it returns something other than null or undefined.</summary>
    /// <remarks>The value crosses as a JSON string: Playwright's own object transfer adds "$id" members.</remarks>
    private async Task<T> WaitForJsonAsync<T>(string function, object? arg, TimeSpan timeout, int pollingMilliseconds = 100)
    {
        var handle = await Page.WaitForFunctionAsync(
            $"(arg) => {{ const value = ({function})(arg); return value == null ? null : JSON.stringify(value); }}",
            arg,
            new() { Timeout = (float)timeout.TotalMilliseconds, PollingInterval = pollingMilliseconds });
        return JsonSerializer.Deserialize<T>(await handle.JsonValueAsync<string>(), Json)!;
    }

    private async Task<T> EvaluateJsonAsync<T>(string function) =>
        JsonSerializer.Deserialize<T>(await Page.EvaluateAsync<string>($"() => JSON.stringify(({function})())"), Json)!;

    private async Task<T> GuardAsync<T>(string operation, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is not OperationCanceledException and not ArgumentException)
        {
            var evidence = await CaptureFailureAsync(operation);
            var message = $"Dashboard step '{operation}' failed: {e.Message}{Environment.NewLine}Page: {Page.Url}{Environment.NewLine}Evidence: {evidence}";
            throw e is TimeoutException ? new TimeoutException(message, e) : new InvalidOperationException(message, e);
        }
    }

    private async Task<string> CaptureFailureAsync(string operation)
    {
        try
        {
            var png = await ScreenshotAsync($"failed-{operation}");
            await File.WriteAllTextAsync(Path.ChangeExtension(png, ".html"), await Page.ContentAsync());
            return png;
        }
        catch (PlaywrightException e)
        {
            return $"(no screenshot: {e.Message})";
        }
    }

    private static string SafeFileName(string name) => UnsafeFileNameCharacters().Replace(name, "-").Trim('-');

    [GeneratedRegex(@"^(?<state>.+?) \((?<health>[^)]+)\)$")]
    private static partial Regex StateWithHealth();

    [GeneratedRegex(@"[^A-Za-z0-9._-]+")]
    private static partial Regex UnsafeFileNameCharacters();

    private sealed record ResourceReading(string Name, string Type, string StateText, string StateTooltip, string? StartTime);

    private sealed record ToastReading(string Id, string Intent, string Title, string? Details);

    private sealed record StateReading(string State, string? Start);

    private sealed record TraceReading(string TraceId, string Name, string Timestamp, Dictionary<string, int> Spans);

    private sealed record SpanReading(string Name, string Resource);
}
