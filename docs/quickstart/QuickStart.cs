// The quick start of docs/client.md. This file is compiled by tests/Client.Tests and run there
// against a real etcd (QuickStartTests), so it cannot silently rot.
using Coordination.Client;
using Coordination.Client.Kv;
using Coordination.Client.Watch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Docs;

/// <summary>Quick start: one client, keys, a transaction, a lease, a watch.</summary>
public static class QuickStart
{
    public static async Task RunAsync(string endpoints, TextWriter output, CancellationToken cancellationToken = default)
    {
        // 1. One client per application: long-lived, thread-safe, disposed at shutdown.
        await using var client = CoordinationClient.Create(new CoordinationClientOptions
        {
            Endpoints = [.. endpoints.Split(',')],
            CallTimeout = TimeSpan.FromSeconds(5),
        });

        // 2. Keys and values (string overloads are UTF-8; byte overloads take ReadOnlyMemory<byte>).
        await client.Kv.PutAsync("/app/config/color", "blue", cancellationToken: cancellationToken);
        var color = await client.Kv.GetStringAsync("/app/config/color", cancellationToken);
        output.WriteLine($"color = {color}");

        // 3. A transaction: claim ownership only if nobody has.
        var claim = await client.Kv.Txn()
            .If(Compare.Version("/app/owner").Equal(0))
            .Then(TxnOp.Put("/app/owner", "instance-1"))
            .Else(TxnOp.Get("/app/owner"))
            .CommitAsync(cancellationToken);
        output.WriteLine(claim.Succeeded ? "owner claimed" : "owner already set");

        // 4. A lease kept alive in the background; LeaseLost fires if it cannot be renewed in time.
        await using var lease = await client.Lease.GrantAndKeepAliveAsync(ttlSeconds: 10, cancellationToken);
        await client.Kv.PutAsync("/app/instances/1", "up", new PutOptions { Lease = lease.LeaseId }, cancellationToken);
        using var work = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.LeaseLost);

        // 5. A watch on a prefix: an async stream that resumes after reconnects with no gap or duplicate.
        await using var watch = await client.Watch.WatchPrefixAsync("/app/config/", cancellationToken: work.Token);
        await client.Kv.PutAsync("/app/config/color", "green", cancellationToken: work.Token);
        await foreach (var change in watch.EventsAsync(work.Token))
        {
            output.WriteLine($"{change.Type} {change.Kv.KeyString} = {change.Kv.ValueString}");
            break;
        }

        // 6. Writes are never repeated blindly: when the answer to a write is lost, you decide.
        try
        {
            await client.Kv.PutAsync("/app/last-run", DateTimeOffset.UtcNow.ToString("O"), cancellationToken: cancellationToken);
        }
        catch (EtcdOutcomeUnknownException)
        {
            // The put may or may not have been applied: read it back before acting on it.
        }
    }

    /// <summary>With dependency injection: options bound from the "Coordination:Client" configuration section.</summary>
    public static IServiceCollection AddAppCoordination(this IServiceCollection services, IConfiguration configuration) =>
        services.AddCoordinationClient(configuration.GetSection("Coordination:Client"));
}
