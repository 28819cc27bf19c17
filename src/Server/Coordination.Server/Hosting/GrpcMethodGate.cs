using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Coordination.Server.Hosting;

/// <summary>
/// Answers gRPC calls to services or methods we do not define the way etcd's gRPC server does:
/// status Unimplemented with "unknown service S" or "unknown method M for service S". Paths are
/// matched case-sensitively, as gRPC requires (ASP.NET routing alone would match
/// <c>/etcdserverpb.kv/Put</c> to <c>/etcdserverpb.KV/Put</c>).
/// </summary>
internal sealed class GrpcMethodGate
{
    // Looked up by span, so a request's path is checked without allocating substrings.
    private readonly Dictionary<string, HashSet<string>>.AlternateLookup<ReadOnlySpan<char>> _services;

    public GrpcMethodGate(IEnumerable<ServiceDescriptor> services)
    {
        var methods = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var service in services)
            methods[service.FullName] = service.Methods.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        _services = methods.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The services of etcd's v3 API.</summary>
    public static GrpcMethodGate ForEtcdApi() => new(
        Etcdserverpb.RpcReflection.Descriptor.Services
            .Concat(V3Lockpb.V3LockReflection.Descriptor.Services)
            .Concat(V3Electionpb.V3ElectionReflection.Descriptor.Services)
            .Concat(Peer.Protocol.PeerReflection.Descriptor.Services));

    /// <summary>The reason a path is refused, or null when it names one of our methods.</summary>
    public string? Refusal(string path)
    {
        var slash = path.LastIndexOf('/');
        if (slash <= 0) return $"malformed method name: \"{path}\"";
        var service = path.AsSpan(1, slash - 1);
        var method = path.AsSpan(slash + 1);
        if (!_services.TryGetValue(service, out var methods)) return $"unknown service {service}";
        return methods.GetAlternateLookup<ReadOnlySpan<char>>().Contains(method) ? null : $"unknown method {method} for service {service}";
    }

    /// <summary>The middleware: refuses unknown gRPC paths with a trailers-only Unimplemented response.</summary>
    public Func<HttpContext, Func<Task>, Task> Middleware => (context, next) =>
    {
        // Not async: a known method passes straight on, with no state machine per request.
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true
            && Refusal(context.Request.Path.Value ?? "") is { } reason)
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "12";
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString(reason);
            return Task.CompletedTask;
        }
        return next();
    };
}
