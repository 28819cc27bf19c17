namespace Coordination.Server.Errors;

/// <summary>An error from etcd's catalogue raised inside the server (validation, apply, storage).</summary>
internal sealed class EtcdException(EtcdError error) : Exception(error.Message)
{
    /// <summary>The catalogue entry.</summary>
    public EtcdError Error { get; } = error;
}
