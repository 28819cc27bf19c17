using Coordination.Server.Node;

namespace Coordination.Server.Hosting;

/// <summary>etcd's plain HTTP endpoints on the client URLs: <c>/health</c> and <c>/version</c>.</summary>
internal static class HttpEndpoints
{
    /// <summary>The server version we report: the etcd API level we are wire-compatible with.</summary>
    public const string ServerVersion = "3.5.0";

    /// <summary>The cluster version we report.</summary>
    public const string ClusterVersion = "3.5.0";

    /// <summary>Maps the endpoints.</summary>
    public static void Map(WebApplication app)
    {
        app.MapGet("/version", () => Results.Text($"{{\"etcdserver\":\"{ServerVersion}\",\"etcdcluster\":\"{ClusterVersion}\"}}", "application/json"));
        app.MapGet("/health", (HttpRequest request, CoordinationNode node) =>
        {
            var exclude = request.Query["exclude"].ToString();
            var healthy = node.IsHealthy(ignoreNoSpace: exclude.Contains("NOSPACE", StringComparison.Ordinal));
            return Results.Text(healthy ? "{\"health\":\"true\"}" : "{\"health\":\"false\"}", "application/json",
                statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
    }
}
