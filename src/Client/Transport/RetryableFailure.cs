namespace Coordination.Client.Transport;

/// <summary>An attempt failed in a way that is safe to retry; carries the error to surface when the retries run out.</summary>
internal sealed class RetryableFailure(EtcdException error) : Exception(error.Message, error)
{
    public EtcdException Error { get; } = error;
}
