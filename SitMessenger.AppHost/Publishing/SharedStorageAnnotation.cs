using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.AppHost.Publishing;

/// <summary>
/// A folder every replica of a service must see the same: segment files (the Worker writes them, the Api reads them) and
/// the Gateway's ACME store. Only deployments read it; a local run keeps these folders in the state folder.
/// </summary>
internal sealed record SharedStorageAnnotation(string Name, string Target) : IResourceAnnotation;
