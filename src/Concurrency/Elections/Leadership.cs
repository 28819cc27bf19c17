using Coordination.Client;
using Coordination.Client.Kv;

namespace Coordination.Concurrency.Elections;

/// <summary>Our leading candidate key, tied to the session's loss.</summary>
internal sealed class Leadership : ILeadership
{
    private static readonly TimeSpan ResignTimeout = TimeSpan.FromSeconds(10);

    private readonly ICoordinationSession _session;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _lost;
    private readonly CancellationToken _lostToken;
    private int _resigned;

    public Leadership(ICoordinationSession session, string key, long createRevision, TimeProvider time)
    {
        _session = session;
        _time = time;
        Key = key;
        CreateRevision = createRevision;
        _lost = CancellationTokenSource.CreateLinkedTokenSource(session.SessionLost);
        _lostToken = _lost.Token;
    }

    public string Key { get; }

    public long CreateRevision { get; }

    public CancellationToken LeadershipLostToken => _lostToken;

    public async Task ProclaimAsync(string value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        var result = await _session.Client.Kv.Txn()
            .If(Compare.CreateRevision(Key).Equal(CreateRevision))
            .Then(TxnOp.Put(Key, value, _session.LeaseId))
            .CommitAsync(cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new ElectionNotLeaderException(Key);
        }
    }

    public async Task ResignAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _resigned, 1) != 0)
        {
            return;
        }

        try
        {
            await _session.Client.Kv.Txn()
                .If(Compare.CreateRevision(Key).Equal(CreateRevision))
                .Then(TxnOp.Delete(Key))
                .CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lost.Cancel();
            _lost.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var bounded = new CancellationTokenSource(ResignTimeout, _time);
        try
        {
            await ResignAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when ((e is EtcdException or OperationCanceledException) && _session.IsLost)
        {
            // the session is gone, and our key with it
        }
    }
}
