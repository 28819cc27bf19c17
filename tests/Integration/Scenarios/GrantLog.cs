namespace Coordination.Integration.Tests.Scenarios;

/// <summary>
/// The exclusivity check shared by the lock and election workloads: grants (a key and its create
/// revision, the fencing token) are recorded in the order the clients learn of them. A grant while
/// another holder still holds (neither side's session lost) and a token not greater than the
/// previous one are violations — except the same key granted again (a holder whose release failed
/// re-acquires its own key on the same session: same token, same holder).
/// </summary>
internal sealed class GrantLog(string what)
{
    private readonly object _gate = new();
    private readonly List<string> _violations = [];
    private readonly List<long> _tokens = [];
    private Grant? _holder;

    /// <summary>Grants so far.</summary>
    public int Count { get { lock (_gate) return _tokens.Count; } }

    /// <summary>The violations found so far.</summary>
    public IReadOnlyList<string> Violations { get { lock (_gate) return [.. _violations]; } }

    /// <summary>The last few tokens, for failure messages.</summary>
    public string Tail { get { lock (_gate) return string.Join(",", _tokens.TakeLast(8)); } }

    /// <summary>Records a grant; <paramref name="lost"/> fires when the grantee's session is lost.</summary>
    public Grant Granted(string key, long token, CancellationToken lost)
    {
        var grant = new Grant(key, token, lost);
        lock (_gate)
        {
            if (_holder is { } other && !other.Lost.IsCancellationRequested && !lost.IsCancellationRequested)
            {
                _violations.Add($"{what} granted to {key} (token {token}) while {other.Key} (token {other.Token}) still held it");
            }
            var last = _tokens.Count > 0 ? _tokens[^1] : 0;
            var reacquired = _holder is null && _lastKey == key && last == token;
            if (_tokens.Count > 0 && token <= last && !reacquired)
            {
                _violations.Add($"{what} token {token} granted after {last}: not increasing");
            }
            _tokens.Add(token);
            _lastKey = key;
            _holder = grant;
        }
        return grant;
    }

    /// <summary>The grantee stops using what it was granted (before it releases): another grant is legitimate from here.</summary>
    public void Released(Grant grant)
    {
        lock (_gate) if (ReferenceEquals(_holder, grant)) _holder = null;
    }

    /// <summary>Adds a violation found elsewhere (e.g. the guarded resource).</summary>
    public void Violation(string violation)
    {
        lock (_gate) _violations.Add(violation);
    }

    private string? _lastKey;

    /// <summary>One grant.</summary>
    internal sealed record Grant(string Key, long Token, CancellationToken Lost);
}
