using Etcdserverpb;

namespace Coordination.Server.StateMachine;

/// <summary>The replicated alarms (NOSPACE, CORRUPT) raised per member, changed only through the log.</summary>
internal sealed class AlarmSet
{
    private readonly HashSet<(ulong Member, AlarmType Alarm)> _active = new();

    /// <summary>True when any member has raised <paramref name="alarm"/>.</summary>
    public bool Has(AlarmType alarm)
    {
        // Asked before every put: a loop, not a LINQ closure per call.
        foreach (var (_, raised) in _active)
        {
            if (raised == alarm) return true;
        }

        return false;
    }

    /// <summary>Active alarms in a stable order.</summary>
    public IReadOnlyList<AlarmMember> List() =>
        _active.OrderBy(a => a.Member).ThenBy(a => a.Alarm).Select(a => new AlarmMember { MemberID = a.Member, Alarm = a.Alarm }).ToList();

    /// <summary>Forgets every alarm (before restoring a snapshot in place).</summary>
    public void Clear() => _active.Clear();

    /// <summary>Restores one alarm from a snapshot image.</summary>
    public void Restore(AlarmMember alarm) => _active.Add((alarm.MemberID, alarm.Alarm));

    /// <summary>Applies an ACTIVATE or DEACTIVATE (GET is served without the log).</summary>
    public AlarmResponse Apply(AlarmRequest request)
    {
        var response = new AlarmResponse();
        switch (request.Action)
        {
            case AlarmRequest.Types.AlarmAction.Activate when request.Alarm != AlarmType.None:
                if (_active.Add((request.MemberID, request.Alarm)))
                    response.Alarms.Add(new AlarmMember { MemberID = request.MemberID, Alarm = request.Alarm });
                break;
            case AlarmRequest.Types.AlarmAction.Deactivate:
                var removed = _active.Where(a => (request.MemberID == 0 || a.Member == request.MemberID) && (request.Alarm == AlarmType.None || a.Alarm == request.Alarm)).ToList();
                foreach (var a in removed)
                {
                    _active.Remove(a);
                    response.Alarms.Add(new AlarmMember { MemberID = a.Member, Alarm = a.Alarm });
                }
                break;
        }
        return response;
    }
}
