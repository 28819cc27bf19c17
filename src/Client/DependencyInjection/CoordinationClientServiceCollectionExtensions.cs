using System.Diagnostics.Metrics;
using Coordination.Client.Auth;
using Coordination.Client.Cluster;
using Coordination.Client.Kv;
using Coordination.Client.Lease;
using Coordination.Client.Maintenance;
using Coordination.Client.Watch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination.Client;

/// <summary>Registers the client in a service collection.</summary>
public static class CoordinationClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="ICoordinationClient"/> (and its <see cref="IKvClient"/>,
    /// <see cref="IWatchClient"/>, <see cref="ILeaseClient"/>, <see cref="IClusterClient"/>,
    /// <see cref="IMaintenanceClient"/>, <see cref="IAuthClient"/>) configured by <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddCoordinationClient(this IServiceCollection services, Action<CoordinationClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<CoordinationClientOptions>().Configure(configure).ValidateOnStart();
        return services.AddCoordinationClientCore();
    }

    /// <summary>Registers the client with options bound from <paramref name="configuration"/> (for example the section <c>Coordination:Client</c>).</summary>
    public static IServiceCollection AddCoordinationClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CoordinationClientOptions>().Bind(configuration).ValidateOnStart();
        return services.AddCoordinationClientCore();
    }

    private static IServiceCollection AddCoordinationClientCore(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinationClientOptions>, CoordinationClientOptionsValidator>());
        services.TryAddSingleton<ICoordinationClient>(sp => CoordinationClient.Create(
            sp.GetRequiredService<IOptions<CoordinationClientOptions>>().Value,
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(sp => sp.GetRequiredService<ICoordinationClient>().Kv);
        services.TryAddSingleton(sp => sp.GetRequiredService<ICoordinationClient>().Watch);
        services.TryAddSingleton(sp => sp.GetRequiredService<ICoordinationClient>().Lease);
        services.TryAddSingleton(sp => sp.GetRequiredService<ICoordinationClient>().Cluster);
        services.TryAddSingleton(sp => sp.GetRequiredService<ICoordinationClient>().Maintenance);
        services.TryAddSingleton(sp => sp.GetRequiredService<ICoordinationClient>().Auth);
        return services;
    }
}
