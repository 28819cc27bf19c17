using Coordination.Concurrency.DistributedLocking;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Coordination.Concurrency;

/// <summary>Registers the concurrency recipes over the <see cref="ICoordinationClient"/> of the container.</summary>
public static class ConcurrencyServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ICoordinationConcurrency"/> and <see cref="IDistributedLockProvider"/> as
    /// singletons. Needs an <see cref="ICoordinationClient"/> (see <c>AddCoordinationClient</c>); uses the
    /// container's <see cref="TimeProvider"/> when there is one.
    /// </summary>
    public static IServiceCollection AddCoordinationConcurrency(this IServiceCollection services, Action<ConcurrencyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ConcurrencyOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(sp => CoordinationConcurrency.Create(sp.GetRequiredService<ICoordinationClient>(), sp.GetService<TimeProvider>()));
        services.TryAddSingleton<IDistributedLockProvider>(sp =>
            new CoordinationDistributedLockProvider(sp.GetRequiredService<ICoordinationConcurrency>(), sp.GetRequiredService<IOptions<ConcurrencyOptions>>().Value));
        return services;
    }
}
