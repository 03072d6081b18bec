using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SitMessenger.Gateway.Acme;
using StackExchange.Redis;

namespace SitMessenger.Gateway.Tls;

/// <summary>HTTPS for the Gateway: certificates from ACME (or a local self-signed one), listeners, redirect, HSTS.</summary>
internal static class GatewayTlsExtensions
{
    /// <summary>
    /// Binds "Acme" and "Tls", registers the certificate selector, the ACME stores (Acme:Store = FileSystem | Redis),
    /// the issuer and the renewal service, and the listeners: with Tls:HttpsPort set, the HTTP addresses of
    /// ASPNETCORE_URLS plus an HTTPS listener on that port (see <see cref="GatewayListeners"/>).
    /// </summary>
    public static WebApplicationBuilder AddGatewayTls(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var acmeSection = builder.Configuration.GetSection(AcmeOptions.SectionName);
        var acme = acmeSection.Get<AcmeOptions>() ?? new AcmeOptions();
        var tls = builder.Configuration.GetSection(TlsOptions.SectionName).Get<TlsOptions>() ?? new TlsOptions();

        services.AddOptions<AcmeOptions>()
            .Bind(acmeSection)
            .PostConfigure<IHostEnvironment>((options, environment) =>
                options.StorePath = Path.GetFullPath(options.StorePath is { Length: > 0 } path ? path : Path.Combine(environment.ContentRootPath, "acme")))
            .Validate<IOptions<TlsOptions>>(
                (options, tlsOptions) => !options.Enabled || options.ChallengeType != AcmeChallengeTypes.TlsAlpn01 || tlsOptions.Value.HttpsPort > 0,
                "Acme:ChallengeType tls-alpn-01 is answered on the HTTPS listener: set Tls:HttpsPort (443 for a public CA).")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AcmeOptions>, AcmeOptionsValidator>();
        services.AddOptions<TlsOptions>().Bind(builder.Configuration.GetSection(TlsOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);

        services.AddSingleton<CertificateSelector>();
        services.AddSingleton<CertificateMetrics>();
        services.AddHostedService<TlsStartup>();

        if (acme.Store == AcmeStoreKind.Redis)
        {
            services.TryAddSingleton<IConnectionMultiplexer>(provider => ConnectRedis(builder.Configuration, acme.RedisConnectionName));
            services.AddSingleton<IAcmeStore, RedisAcmeStore>();
            services.AddSingleton<IHttp01ChallengeStore, RedisHttp01ChallengeStore>();
        }
        else
        {
            services.AddSingleton<IAcmeStore, FileSystemAcmeStore>();
            services.AddSingleton<IHttp01ChallengeStore, InMemoryHttp01ChallengeStore>();
        }

        if (acme.ChallengeType == AcmeChallengeTypes.TlsAlpn01)
        {
            services.AddSingleton<IAcmeChallengeSolver, TlsAlpn01ChallengeSolver>();
        }
        else
        {
            services.AddSingleton<IAcmeChallengeSolver, Http01ChallengeSolver>();
        }

        services.AddSingleton<TlsAlpn01Responder>();
        services.AddSingleton<IAcmeCertificateIssuer, AcmeCertificateIssuer>();
        if (acme.Enabled)
        {
            services.AddHostedService<CertificateRenewalService>();
        }

        builder.AddTelemetrySources(CertificateMetrics.MeterName);
        ConfigureListeners(builder, tls);
        return builder;
    }

    /// <summary>
    /// Call first in the pipeline: ACME HTTP-01 answers, then (with an HTTPS port) the redirect of plain HTTP to HTTPS
    /// except challenges and health probes, then HSTS on HTTPS answers.
    /// </summary>
    public static WebApplication UseGatewayTls(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var tls = app.Services.GetRequiredService<IOptions<TlsOptions>>().Value;
        app.UseMiddleware<AcmeChallengeMiddleware>();
        if (tls.HttpsPort > 0 && tls.RedirectToHttps)
        {
            app.UseMiddleware<HttpsRedirectMiddleware>();
        }

        app.UseMiddleware<HstsMiddleware>();
        return app;
    }

    private static void ConfigureListeners(WebApplicationBuilder builder, TlsOptions tls)
    {
        var configuration = builder.Configuration;
        var addresses = GatewayListeners.Parse(
            configuration[WebHostDefaults.ServerUrlsKey], configuration[WebHostDefaults.HttpPortsKey], configuration[WebHostDefaults.HttpsPortsKey]);
        var takeOver = tls.HttpsPort > 0 || addresses.Any(a => a.IsHttps);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // HTTPS endpoints from the "Kestrel" configuration section use the selector too (without the chain
            // context: Kestrel's selector hook only takes a certificate).
            kestrel.ConfigureHttpsDefaults(https =>
            {
                var selector = kestrel.ApplicationServices.GetRequiredService<CertificateSelector>();
                InstallLocalCertificateIfNeeded(kestrel.ApplicationServices, selector);
                https.ServerCertificateSelector = (_, name) => selector.Select(name);
            });

            if (takeOver)
            {
                var selector = kestrel.ApplicationServices.GetRequiredService<CertificateSelector>();
                InstallLocalCertificateIfNeeded(kestrel.ApplicationServices, selector);
                var state = new HandshakeState(selector, kestrel.ApplicationServices.GetRequiredService<TlsAlpn01Responder>());
                GatewayListeners.Configure(kestrel, addresses, tls.HttpsPort, listen =>
                {
                    listen.Use(ClientHelloAlpn.Middleware);
                    listen.UseHttps(new TlsHandshakeCallbackOptions { OnConnection = SelectServerOptionsAsync, OnConnectionState = state });
                });
            }
        });

        if (takeOver)
        {
            builder.Services.AddTransient<IStartupFilter, ClearHostingAddresses>();
        }
    }

    /// <summary>
    /// Without ACME domains there is no public name to certify: HTTPS serves localhost with a self-signed certificate
    /// the developer trusts once. Made only when an HTTPS listener exists, so plain-HTTP runs write no key files.
    /// </summary>
    private static void InstallLocalCertificateIfNeeded(IServiceProvider services, CertificateSelector selector)
    {
        var options = services.GetRequiredService<IOptions<AcmeOptions>>().Value;
        lock (selector)
        {
            if (options.Enabled || selector.Entries.Count > 0)
            {
                return;
            }

            selector.Set(LocalCertificate.HostNames, LocalCertificate.LoadOrCreate(options.StorePath!, services.GetRequiredService<TimeProvider>()));
        }
    }

    /// <summary>
    /// Per handshake: the certificate for the SNI name, as a context that carries the intermediates (a bare certificate
    /// would make SslStream look the chain up itself, and it does not know the CA's intermediates).
    /// </summary>
    private static async ValueTask<SslServerAuthenticationOptions> SelectServerOptionsAsync(TlsHandshakeCallbackContext context)
    {
        var state = (HandshakeState)context.State!;
        var serverName = context.ClientHelloInfo.ServerName;
        if (context.Connection.Items.ContainsKey(ClientHelloAlpn.OffersAcmeTlsItem))
        {
            // A TLS-ALPN-01 validation: only the challenge certificate, only the acme-tls/1 protocol (RFC 8737 section 3).
            var challenge = await state.Responder.GetContextAsync(serverName, context.CancellationToken)
                ?? throw new AuthenticationException($"No TLS-ALPN-01 challenge is pending for '{serverName}'.");
            return new SslServerAuthenticationOptions { ServerCertificateContext = challenge, ApplicationProtocols = [TlsAlpn01Responder.AcmeTls1] };
        }

        var certificate = state.Selector.SelectContext(serverName)
            ?? throw new AuthenticationException($"No certificate yet for '{serverName}'.");
        return new SslServerAuthenticationOptions { ServerCertificateContext = certificate };
    }

    private sealed record HandshakeState(CertificateSelector Selector, TlsAlpn01Responder Responder);

    private static IConnectionMultiplexer ConnectRedis(IConfiguration configuration, string connectionName)
    {
        var connectionString = configuration.GetConnectionString(connectionName)
            ?? throw new InvalidOperationException(
                $"Acme:Store=Redis needs the connection string '{connectionName}' (ConnectionStrings__{connectionName}).");
        var options = ConfigurationOptions.Parse(connectionString);
        // Start even while Redis is down; the renewal service retries, and a stored certificate loads once it is back.
        options.AbortOnConnectFail = false;
        return ConnectionMultiplexer.Connect(options);
    }

    /// <summary>
    /// The hosting layer copies ASPNETCORE_URLS into the server's address list just before the pipeline is built (it
    /// cannot be unset from configuration: it falls back to a snapshot of the environment). The listeners bound in code
    /// already cover those addresses; left in the list, Kestrel would log that it overrides them.
    /// </summary>
    private sealed class ClearHostingAddresses : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            if (app.ServerFeatures.Get<IServerAddressesFeature>()?.Addresses is { IsReadOnly: false } addresses)
            {
                addresses.Clear();
            }

            next(app);
        };
    }

    /// <summary>Registers the expiry gauge at start, not at the first scrape that happens to ask for it.</summary>
    private sealed class TlsStartup(CertificateMetrics metrics) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(metrics);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
