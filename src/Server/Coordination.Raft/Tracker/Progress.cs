namespace Coordination.Raft.Tracker;

/// <summary>
/// The leader's view of one member's log: what it has acknowledged (<see cref="Match"/>), what to
/// send next (<see cref="Next"/>) and how (<see cref="State"/>). Invariant: Match &lt; Next.
/// </summary>
internal sealed class Progress
{
    public Progress(ulong next, int maxInflight, bool isLearner)
    {
        Next = next;
        Inflights = new Inflights(maxInflight);
        IsLearner = isLearner;
    }

    /// <summary>Highest index known to be in the member's durable log and matching the leader's.</summary>
    public ulong Match { get; private set; }

    /// <summary>Index of the next entry to send.</summary>
    public ulong Next { get; private set; }

    /// <summary>The sending mode.</summary>
    public ProgressState State { get; private set; } = ProgressState.Probe;

    /// <summary>In <see cref="ProgressState.Snapshot"/>: the index of the snapshot sent.</summary>
    public ulong PendingSnapshot { get; private set; }

    /// <summary>True when the member was heard from since the last check-quorum round.</summary>
    public bool RecentActive { get; set; }

    /// <summary>In <see cref="ProgressState.Probe"/>: a probe is outstanding; wait for an answer or the next heartbeat.</summary>
    public bool ProbeSent { get; set; }

    /// <summary>Append messages sent but not acknowledged (used in <see cref="ProgressState.Replicate"/>).</summary>
    public Inflights Inflights { get; }

    /// <summary>A learner receives the log but neither votes nor counts for commitment.</summary>
    public bool IsLearner { get; set; }

    /// <summary>True when the leader must not send more append messages now.</summary>
    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.Full,
        _ => true,
    };

    /// <summary>Starts probing again from just after the last match (or after a sent snapshot).</summary>
    public void BecomeProbe()
    {
        if (State == ProgressState.Snapshot)
        {
            var pending = PendingSnapshot;
            Reset(ProgressState.Probe);
            Next = System.Math.Max(Match + 1, pending + 1);
        }
        else
        {
            Reset(ProgressState.Probe);
            Next = Match + 1;
        }
    }

    /// <summary>Streams entries from just after the last match.</summary>
    public void BecomeReplicate()
    {
        Reset(ProgressState.Replicate);
        Next = Match + 1;
    }

    /// <summary>Waits for the snapshot at <paramref name="snapshotIndex"/> to be installed.</summary>
    public void BecomeSnapshot(ulong snapshotIndex)
    {
        Reset(ProgressState.Snapshot);
        PendingSnapshot = snapshotIndex;
    }

    /// <summary>Records an acknowledgement up to <paramref name="index"/>; false when it is stale.</summary>
    public bool MaybeUpdate(ulong index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }
        if (Next < index + 1) Next = index + 1;
        return updated;
    }

    /// <summary>Notes that entries up to <paramref name="lastIndex"/> were sent (a message with <paramref name="count"/> entries).</summary>
    public void SentEntries(int count, ulong lastIndex)
    {
        switch (State)
        {
            case ProgressState.Replicate:
                if (count > 0)
                {
                    Next = lastIndex + 1;
                    Inflights.Add(lastIndex);
                }
                break;
            case ProgressState.Probe:
                ProbeSent = true;
                break;
        }
    }

    /// <summary>
    /// Handles a rejected append whose previous index was <paramref name="rejected"/>; the member
    /// hinted its log may match up to <paramref name="hint"/>. False when the rejection is stale.
    /// </summary>
    public bool MaybeDecreaseTo(ulong rejected, ulong hint)
    {
        if (State == ProgressState.Replicate)
        {
            // Anything at or below Match was acknowledged already: a stale, reordered rejection.
            if (rejected <= Match) return false;
            Next = Match + 1;
            return true;
        }
        // In probe, only the answer to the latest probe counts.
        if (Next - 1 != rejected) return false;
        Next = System.Math.Max(System.Math.Min(rejected, hint + 1), Match + 1);
        ProbeSent = false;
        return true;
    }

    private void Reset(ProgressState state)
    {
        ProbeSent = false;
        PendingSnapshot = 0;
        State = state;
        Inflights.Reset();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{State} match={Match} next={Next}" + (IsLearner ? " learner" : "");
}
