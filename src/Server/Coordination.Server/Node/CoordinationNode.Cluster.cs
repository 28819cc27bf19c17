using Coordination.Raft.Protocol;
using Coordination.Server.Apply.Protocol;
using Coordination.Server.Cluster;
using Coordination.Server.Errors;
using Coordination.Server.Peer.Protocol;
using Etcdserverpb;

namespace Coordination.Server.Node;

/// <summary>
/// Membership (etcd's Cluster service), leadership transfer, and what the peer transport needs.
/// Adding, removing and promoting members are raft configuration changes carrying the member's
/// record; names, client URLs and peer URL updates are ordinary replicated requests.
/// </summary>
internal sealed partial class CoordinationNode
{
    /// <summary>etcd 3.4 allows one learner at a time.</summary>
    private const int MaxLearners = 1;

    /// <summary>True while this member is a learner (non-voting).</summary>
    public bool IsLearner => _stateMachine.Members.Get(Identity.MemberId)?.IsLearner == true;

    /// <summary>The members as the applied member table lists them.</summary>
    public MemberListResponse MemberList()
    {
        var response = _stateMachine.MemberList();
        response.Header = ClusterHeader();
        return response;
    }

    /// <summary>Adds a member (a voter, or a learner) with the given peer URLs; it joins with <c>--initial-cluster-state existing</c>.</summary>
    public async Task<MemberAddResponse> MemberAddAsync(MemberAddRequest request, CancellationToken cancellationToken)
    {
        var urls = ParsePeerUrls(request.PeerURLs);
        var members = _stateMachine.Members.Members;
        var taken = members.Values.SelectMany(m => m.PeerUrls).ToHashSet(StringComparer.Ordinal);
        if (urls.Any(u => taken.Contains(Canonical(u)))) throw EtcdErrors.PeerUrlExists.ToException();
        // Like the joining member derives its own id: from its peer URLs and the cluster token.
        var id = MemberIdentity.MemberIdOf(urls, _options.InitialClusterToken);
        if (members.ContainsKey(id) || _stateMachine.Members.Removed.Contains(id)) throw EtcdErrors.MemberExists.ToException();
        if (request.IsLearner && members.Values.Count(m => m.IsLearner) >= MaxLearners) throw EtcdErrors.TooManyLearners.ToException();
        CheckReconfiguration(() => ReconfigurationCheck.Add(Identity.MemberId, members.Values.ToList(), request.IsLearner, ActiveSince, Time.GetUtcNow()));
        var record = new MemberRecord { Id = id, IsLearner = request.IsLearner };
        record.PeerUrls.AddRange(urls.Select(Canonical));
        var change = new ConfChange
        {
            Type = request.IsLearner ? ConfChangeType.ConfChangeAddLearnerNode : ConfChangeType.ConfChangeAddNode,
            NodeId = id,
        };
        var list = await ProposeMembershipAsync(change, record, cancellationToken).ConfigureAwait(false);
        var added = list.Members.FirstOrDefault(m => m.ID == id) ?? new Member { ID = id, IsLearner = request.IsLearner, PeerURLs = { record.PeerUrls } };
        var response = new MemberAddResponse { Header = ClusterHeader(), Member = added };
        response.Members.AddRange(list.Members);
        return response;
    }

    /// <summary>Removes a member.</summary>
    public async Task<MemberRemoveResponse> MemberRemoveAsync(MemberRemoveRequest request, CancellationToken cancellationToken)
    {
        if (_stateMachine.Members.Get(request.ID) is null) throw EtcdErrors.MemberNotFound.ToException();
        CheckReconfiguration(() => ReconfigurationCheck.Remove(Identity.MemberId, _stateMachine.Members.Members.Values.ToList(), request.ID, ActiveSince, Time.GetUtcNow()));
        var change = new ConfChange { Type = ConfChangeType.ConfChangeRemoveNode, NodeId = request.ID };
        var list = await ProposeMembershipAsync(change, new MemberRecord { Id = request.ID }, cancellationToken).ConfigureAwait(false);
        var response = new MemberRemoveResponse { Header = ClusterHeader() };
        response.Members.AddRange(list.Members);
        return response;
    }

    /// <summary>Promotes a learner to a voter.</summary>
    public async Task<MemberPromoteResponse> MemberPromoteAsync(MemberPromoteRequest request, CancellationToken cancellationToken)
    {
        var member = _stateMachine.Members.Get(request.ID) ?? throw EtcdErrors.MemberNotFound.ToException();
        if (!member.IsLearner) throw EtcdErrors.MemberNotLearner.ToException();
        // As etcd: only a learner whose log is within 10 % of the leader's may vote; promoting one that
        // never caught up (or never started) would add a voter that cannot help form a quorum. A
        // member that does not lead cannot see the learner's progress and lets the proposal through.
        if (await _host.ProgressOfAsync(request.ID, cancellationToken).ConfigureAwait(false) is { } progress
            && progress.Match < progress.LeaderLast * 9 / 10)
        {
            throw EtcdErrors.LearnerNotReady.ToException();
        }
        CheckReconfiguration(() => ReconfigurationCheck.Promote(_stateMachine.Members.Members.Values.ToList()));
        var change = new ConfChange { Type = ConfChangeType.ConfChangeAddNode, NodeId = request.ID };
        var list = await ProposeMembershipAsync(change, member, cancellationToken).ConfigureAwait(false);
        var response = new MemberPromoteResponse { Header = ClusterHeader() };
        response.Members.AddRange(list.Members);
        return response;
    }

    /// <summary>Replaces a member's peer URLs.</summary>
    public async Task<MemberUpdateResponse> MemberUpdateAsync(MemberUpdateRequest request, CancellationToken cancellationToken)
    {
        var urls = ParsePeerUrls(request.PeerURLs);
        var members = _stateMachine.Members.Members;
        if (!members.ContainsKey(request.ID)) throw EtcdErrors.MemberNotFound.ToException();
        var taken = members.Values.Where(m => m.Id != request.ID).SelectMany(m => m.PeerUrls).ToHashSet(StringComparer.Ordinal);
        if (urls.Any(u => taken.Contains(Canonical(u)))) throw EtcdErrors.PeerUrlExists.ToException();
        var update = new MemberPeerUrls { Id = request.ID };
        update.PeerUrls.AddRange(urls.Select(Canonical));
        var list = (MemberListResponse)await ProposeAsync(new InternalRequest { MemberPeerUrls = update }, cancellationToken).ConfigureAwait(false);
        var response = new MemberUpdateResponse { Header = ClusterHeader() };
        response.Members.AddRange(list.Members);
        return response;
    }

    /// <summary>
    /// Hands leadership to <paramref name="request"/>'s target and waits until it leads. Only the
    /// leader accepts it (etcdctl sends it to the leader); the target must be a voting member.
    /// </summary>
    public async Task<MoveLeaderResponse> MoveLeaderAsync(MoveLeaderRequest request, CancellationToken cancellationToken)
    {
        if (_host.Leader != Identity.MemberId) throw EtcdErrors.NotLeader.ToException();
        if (_stateMachine.Members.Get(request.TargetID) is not { IsLearner: false }) throw EtcdErrors.BadLeaderTransferee.ToException();
        if (request.TargetID != Identity.MemberId)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMilliseconds(Math.Max(5000, 5L * _options.ElectionTimeoutMs));
            var nextAsk = DateTime.MinValue;
            while (_host.Leader != request.TargetID)
            {
                if (DateTime.UtcNow > deadline) throw EtcdErrors.LeaderTransferTimeout.ToException();
                if (DateTime.UtcNow >= nextAsk && _host.Leader == Identity.MemberId)
                {
                    // Asked again after an election timeout: a transfer the core abandoned is retried.
                    _host.TransferLeader(request.TargetID);
                    nextAsk = DateTime.UtcNow + TimeSpan.FromMilliseconds(_options.ElectionTimeoutMs);
                }
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
        }
        return new MoveLeaderResponse { Header = Stamp(new ResponseHeader()) };
    }

    /// <summary>
    /// On a graceful stop of the leader: hands leadership to the voter this member has been connected
    /// to longest, as etcd does before it stops, so that the others need not hold an election. Returns
    /// the new leader, or 0 when this member does not lead, has no connected voter to hand over to, or
    /// the hand-over did not finish within <paramref name="timeout"/> or while the target stayed connected.
    /// </summary>
    internal async Task<ulong> HandOverLeadershipAsync(TimeSpan timeout)
    {
        if (_host.Leader != Identity.MemberId) return 0;
        ulong target = 0;
        var longest = DateTimeOffset.MaxValue;
        foreach (var (id, member) in _stateMachine.Members.Members)
        {
            if (id == Identity.MemberId || member.IsLearner || ActiveSince(id) is not { } since || since >= longest) continue;
            (target, longest) = (id, since);
        }
        if (target == 0) return 0;
        using var giveUp = new CancellationTokenSource(timeout);
        var moving = MoveLeaderAsync(new MoveLeaderRequest { TargetID = target }, giveUp.Token);
        // When the whole cluster stops, the target stops too: give up once its stream closes rather
        // than holding this member's stop for the whole timeout.
        while (!moving.IsCompleted && ActiveSince(target) is not null)
        {
            await Task.WhenAny(moving, Task.Delay(10, CancellationToken.None)).ConfigureAwait(false);
        }
        if (!moving.IsCompleted) await giveUp.CancelAsync().ConfigureAwait(false);
        try
        {
            await moving.ConfigureAwait(false);
            return target;
        }
        catch (Exception ex) when (ex is OperationCanceledException or Errors.EtcdException)
        {
            return 0;
        }
    }

    /// <summary>Applies a strict reconfiguration rule (unless <c>--strict-reconfig-check=false</c>) and throws the error it finds.</summary>
    private void CheckReconfiguration(Func<EtcdError?> rule)
    {
        if (_options.StrictReconfigCheck && rule() is { } error) throw error.ToException();
    }

    private DateTimeOffset? ActiveSince(ulong peer) => PeerActiveSince?.Invoke(peer);

    /// <summary>A raft message from a peer (the peer service).</summary>
    internal void DeliverPeerMessage(Message message) => _host.Deliver(message);

    /// <summary>
    /// The cluster id, member table and removed members, for a member joining with <c>existing</c>
    /// and for one asking whether it was removed while it was away (<see cref="RemovalCheck"/>).
    /// </summary>
    internal ClusterResponse PeerCluster()
    {
        var response = new ClusterResponse { ClusterId = Identity.ClusterId };
        response.Members.AddRange(_stateMachine.Members.Members.Values);
        response.Removed.AddRange(_stateMachine.Members.Removed);
        return response;
    }

    /// <summary>
    /// Publishes this member's name and client URLs through the log until the applied member table
    /// holds them (etcd's publish): other members learn where to send clients. A member that joins
    /// an existing cluster is not in its own table until the leader's snapshot or log reaches it, so
    /// it waits for that; a removed member stops, which ends the wait.
    /// </summary>
    internal async Task PublishAttributesAsync(CancellationToken cancellationToken)
    {
        var attributes = new MemberAttributes { Id = Identity.MemberId, Name = Identity.Name };
        attributes.ClientUrls.AddRange(_options.AdvertiseClientUrls.Select(Canonical));
        while (!cancellationToken.IsCancellationRequested)
        {
            var current = _stateMachine.Members.Get(Identity.MemberId);
            if (current is null)
            {
                // Not applied yet (it once returned here, and a member that started before the
                // leader's snapshot reached it never published its client URLs).
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (current.Name == attributes.Name && current.ClientUrls.SequenceEqual(attributes.ClientUrls)) return;
            try
            {
                await ProposeAsync(new InternalRequest { MemberAttributes = attributes.Clone() }, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdException)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<MemberListResponse> ProposeMembershipAsync(ConfChange change, MemberRecord member, CancellationToken cancellationToken)
    {
        // The leader refuses a change while another is not yet applied: try again for a while.
        for (var attempt = 0; ; attempt++)
        {
            var result = await _host.ProposeConfChangeAsync(change.Clone(), new MemberChange { Member = member.Clone() }, cancellationToken).ConfigureAwait(false);
            if (result.Error is null) return (MemberListResponse)result.Response!;
            if (result.Error != EtcdErrors.Unhealthy || attempt >= 20) throw result.Error.ToException();
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    private static List<Uri> ParsePeerUrls(IEnumerable<string> urls)
    {
        var parsed = new List<Uri>();
        foreach (var text in urls)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")
                || url.IsDefaultPort && !text.Contains(':', StringComparison.Ordinal) || url.AbsolutePath is not ("/" or ""))
                throw EtcdErrors.MemberBadUrls.ToException();
            parsed.Add(url);
        }
        if (parsed.Count == 0) throw EtcdErrors.MemberBadUrls.ToException();
        return parsed;
    }

    /// <summary>A URL as the member table stores it: scheme, host and port.</summary>
    internal static string Canonical(Uri url) => url.GetLeftPart(UriPartial.Authority);

    private ResponseHeader ClusterHeader() => new() { ClusterId = Identity.ClusterId, MemberId = Identity.MemberId, RaftTerm = _host.Term };
}
