using Coordination.Server.Hosting;

namespace Coordination.Server;

/// <summary>Entry point: <c>Coordination.Server [etcd flags]</c>.</summary>
internal static class Program
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> Main(string[] args)
    {
        // Before the first socket exists: socket completions run on the event thread that saw them
        // (see PeerListenerFactory for why), unless the operator chose otherwise.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null) Environment.SetEnvironmentVariable(InlineCompletions, "1");
        ServerOptions options;
        try
        {
            var environment = Environment.GetEnvironmentVariables()
                .Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
            options = CommandLine.Parse(args, environment);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"coordination: {ex.Message}").ConfigureAwait(false);
            return 2;
        }

        try
        {
            await using var server = await ServerHost.StartAsync(options, TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
            await server.WaitForShutdownAsync().ConfigureAwait(false);
            return 0;
        }
        catch (StartupException ex)
        {
            await Console.Error.WriteLineAsync($"coordination: cannot start: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
