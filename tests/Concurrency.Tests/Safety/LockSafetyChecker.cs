namespace Coordination.Concurrency.Tests.Safety;

/// <summary>
/// Checks what a lock promises to the resources it guards, from what the contenders observe:
/// <list type="bullet">
/// <item>fencing tokens of successive grants strictly increase (grants are recorded before the holder
/// releases, so with mutual exclusion the recording order is the grant order);</item>
/// <item>the guarded resource never rejects the write of a holder for carrying an older token than
/// one it already accepted (it would, if two holders overlapped);</item>
/// <item>a counter incremented by read-modify-write under the lock never loses an update.</item>
/// </list>
/// </summary>
internal sealed class LockSafetyChecker
{
    private readonly Lock _gate = new();
    private readonly List<string> _violations = [];
    private long _lastGrant;
    private int _grants;
    private int _increments;

    public int Grants
    {
        get
        {
            lock (_gate)
            {
                return _grants;
            }
        }
    }

    public int Increments
    {
        get
        {
            lock (_gate)
            {
                return _increments;
            }
        }
    }

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_gate)
            {
                return [.. _violations];
            }
        }
    }

    public void Granted(long token)
    {
        lock (_gate)
        {
            _grants++;
            if (token <= _lastGrant)
            {
                _violations.Add($"grant #{_grants} has fencing token {token}, not above the previous grant's {_lastGrant}");
            }

            _lastGrant = Math.Max(_lastGrant, token);
        }
    }

    public void FencedWrite(long token, bool accepted, string fenceSeen)
    {
        lock (_gate)
        {
            if (accepted)
            {
                _increments++;
            }
            else
            {
                _violations.Add($"the resource rejected the write of holder {token}: it had already accepted token {fenceSeen}");
            }
        }
    }

    public void FinalCounter(long value)
    {
        lock (_gate)
        {
            if (value != _increments)
            {
                _violations.Add($"lost update: the counter is {value} after {_increments} accepted increments");
            }
        }
    }
}
