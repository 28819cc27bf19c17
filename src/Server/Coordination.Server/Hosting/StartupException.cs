namespace Coordination.Server.Hosting;

/// <summary>The server refuses to start, with a message for the operator (for example a corrupt log).</summary>
internal sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
