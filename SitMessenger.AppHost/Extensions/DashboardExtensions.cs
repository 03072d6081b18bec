using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.AppHost.Extensions;

/// <summary>The Aspire dashboard's own hardening, beside the token login Aspire turns on.</summary>
internal static class DashboardExtensions
{
    /// <summary>Aspire's name for the dashboard resource (KnownResourceNames, internal to Aspire.Hosting).</summary>
    private const string DashboardResourceName = "aspire-dashboard";

    /// <summary>
    /// The dashboard is an ASP.NET Core app that answers any Host (its appsettings say <c>AllowedHosts: *</c>): a page
    /// on a name the attacker rebinds to 127.0.0.1 would then be same-origin with it. Host filtering answers 400 to any
    /// name but the ones it listens under (<see cref="AppHostOptions.DashboardAllowedHosts"/>). The dashboard takes its
    /// environment at each start, so it is set as the resource starts; Aspire adds the resource itself only then.
    /// </summary>
    public static IDistributedApplicationBuilder WithDashboardHostFiltering(this IDistributedApplicationBuilder builder, AppHostOptions options)
    {
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>((started, _) =>
        {
            if (started.Resource.Name == DashboardResourceName && !started.Resource.Annotations.OfType<HostFilteringAnnotation>().Any())
            {
                started.Resource.Annotations.Add(new HostFilteringAnnotation());
                started.Resource.Annotations.Add(new EnvironmentCallbackAnnotation(environment => environment["AllowedHosts"] = options.DashboardAllowedHosts));
            }

            return Task.CompletedTask;
        });
        return builder;
    }

    /// <summary>Marks the dashboard as configured, so a restart does not add its environment twice.</summary>
    private sealed class HostFilteringAnnotation : IResourceAnnotation;
}
