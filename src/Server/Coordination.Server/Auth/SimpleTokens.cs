namespace Coordination.Server.Auth;

/// <summary>
/// etcd's "simple" tokens: <c>&lt;16 random letters&gt;.&lt;raft index&gt;</c>, recorded on every member when
/// the Authenticate proposal applies, valid until unused for <c>--auth-token-ttl</c> (each use renews
/// it). The table and its clock are member-local, as in etcd; it is emptied when auth is disabled.
/// </summary>
internal sealed class SimpleTokens(TimeProvider time, TimeSpan ttl)
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private readonly object _gate = new();
    private readonly Dictionary<string, (string User, DateTimeOffset Deadline)> _tokens = new(StringComparer.Ordinal);

    /// <summary>The random part of a new token, chosen by the proposing member.</summary>
    public static string NewRandomPart() => System.Security.Cryptography.RandomNumberGenerator.GetString(Letters, 16);

    /// <summary>Records a token for <paramref name="user"/> (on apply).</summary>
    public void Add(string token, string user)
    {
        lock (_gate)
        {
            Purge();
            _tokens[token] = (user, time.GetUtcNow() + ttl);
        }
    }

    /// <summary>The user of a live token (renewing it), or null.</summary>
    public string? Resolve(string token)
    {
        lock (_gate)
        {
            if (!_tokens.TryGetValue(token, out var entry)) return null;
            var now = time.GetUtcNow();
            if (entry.Deadline <= now)
            {
                _tokens.Remove(token);
                return null;
            }
            _tokens[token] = (entry.User, now + ttl);
            return entry.User;
        }
    }

    /// <summary>Forgets every token (auth disabled).</summary>
    public void Clear()
    {
        lock (_gate) _tokens.Clear();
    }

    private void Purge()
    {
        var now = time.GetUtcNow();
        foreach (var expired in _tokens.Where(t => t.Value.Deadline <= now).Select(t => t.Key).ToList()) _tokens.Remove(expired);
    }
}
