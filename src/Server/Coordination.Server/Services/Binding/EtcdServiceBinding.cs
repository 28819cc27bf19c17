using Grpc.AspNetCore.Server.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Coordination.Server.Services.Binding;

/// <summary>Registers <see cref="EtcdServiceMethodProvider{TService}"/> in place of Grpc.AspNetCore's default method provider.</summary>
internal static class EtcdServiceBinding
{
    /// <summary>Call after <c>AddGrpc</c>: every mapped gRPC service is then bound with etcd's error for undecodable requests.</summary>
    public static IServiceCollection UseEtcdServiceBinding(this IServiceCollection services)
    {
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IServiceMethodProvider<>), typeof(EtcdServiceMethodProvider<>)));
        return services;
    }
}
