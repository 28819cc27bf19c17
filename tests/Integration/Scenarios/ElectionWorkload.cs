using System.Diagnostics;
using Coordination.Client;
using Coordination.Concurrency;

namespace Coordination.Integration.Tests.Scenarios;

/// <summary>
/// Candidates of one election (a session each, the concurrency SDK's election) that lead for a
/// moment, then resign, and campaign again. Checked: leaders' create revisions strictly increase,
/// no two candidates lead at once (unless one's session was lost), and every hand-over — from one
/// leader resigning or losing its session to the next one winning — stays within a bound.
/// </summary>
internal sealed class ElectionWorkload(ICoordinationClient client, TimeSpan sessionTtl, TimeSpan handOverBound)
{
    private const string ElectionName = "fwe/election";

    private readonly ICoordinationConcurrency _concurrency = CoordinationConcurrency.Create(client);
    private readonly object _gate = new();
    private readonly List<Task> _tasks = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly GrantLog _grants = new("leadership");
    private ILeadership? _current;
    private GrantLog.Grant? _currentGrant;
    private TimeSpan? _vacantSince;
    private TimeSpan _longestHandOver;
    private int _terms;

    public void Start(int candidates, CancellationToken stop)
    {
        for (var c = 0; c < candidates; c++)
        {
            var id = c;
            _tasks.Add(Task.Run(() => CandidateAsync(id, stop)));
        }
    }

    public async Task<IReadOnlyList<string>> StopAndVerifyAsync()
    {
        await Task.WhenAll(_tasks);
        lock (_gate)
        {
            var violations = new List<string>(_grants.Violations);
            if (_longestHandOver > handOverBound) violations.Add($"the longest election hand-over took {_longestHandOver.TotalSeconds:F1} s (bound {handOverBound.TotalSeconds:F0} s)");
            return violations;
        }
    }

    public string Describe()
    {
        lock (_gate) return $"{_terms} election terms (revisions …{_grants.Tail}), longest hand-over {_longestHandOver.TotalSeconds:F1} s";
    }

    private async Task CandidateAsync(int id, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var session = await _concurrency.CreateSessionAsync(new SessionOptions { Ttl = sessionTtl }, stop);
                var election = _concurrency.CreateElection(session, ElectionName);
                while (!stop.IsCancellationRequested && !session.IsLost)
                {
                    var leadership = await election.CampaignAsync($"candidate-{id}", stop);
                    var grant = Won(leadership);
                    lock (_gate) _currentGrant = grant;
                    await Task.Delay(200, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    Leaving(leadership, grant);
                    await leadership.ResignAsync(CancellationToken.None);
                }
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                ILeadership? lost;
                GrantLog.Grant? lostGrant;
                lock (_gate) (lost, lostGrant) = (_current, _currentGrant);
                if (lost is not null && lostGrant is not null && lost.LeadershipLostToken.IsCancellationRequested) Leaving(lost, lostGrant);
                await Task.Delay(100, CancellationToken.None);
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    private GrantLog.Grant Won(ILeadership leadership)
    {
        lock (_gate)
        {
            var now = _clock.Elapsed;
            if (_vacantSince is { } since && now - since > _longestHandOver) _longestHandOver = now - since;
            _vacantSince = null;
            _current = leadership;
            _terms++;
        }
        return _grants.Granted(leadership.Key, leadership.CreateRevision, leadership.LeadershipLostToken);
    }

    private void Leaving(ILeadership leadership, GrantLog.Grant grant)
    {
        _grants.Released(grant);
        lock (_gate)
        {
            if (!ReferenceEquals(_current, leadership)) return;
            _current = null;
            _vacantSince = _clock.Elapsed;
        }
    }
}
