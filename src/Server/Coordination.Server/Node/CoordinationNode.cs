using Coordination.Server.Apply;
using Coordination.Server.Apply.Protocol;
using Coordination.Server.Concurrency;
using Coordination.Server.Errors;
using Coordination.Server.Hosting;
using Coordination.Server.Lease;
using Coordination.Server.StateMachine;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Node;

/// <summary>
/// The façade the gRPC services call: validates requests as etcd does before consensus, sends
/// mutations through the one write path (propose → log → commit → apply), serves reads from the
/// applied state, and fills response headers (cluster id, member id, raft term).
/// </summary>
internal sealed partial class CoordinationNode : IConcurrencyStore
{
    private readonly ServerOptions _options;
    private readonly RaftHost _host;
    private readonly ServerStateMachine _stateMachine;
    private readonly RequestValidator _validator;
    private readonly LeaseExpiry _expiry;
    private readonly LeaseIdGenerator _leaseIds;

    /// <summary>The size reported for an empty store: one page of image header.</summary>
    private const long EmptyImageBytes = 4096;

    public CoordinationNode(ServerOptions options, MemberIdentity identity, RaftHost host, ServerStateMachine stateMachine,
        LeaseExpiry expiry, LeaseIdGenerator leaseIds)
    {
        _options = options;
        Identity = identity;
        _host = host;
        _stateMachine = stateMachine;
        _validator = new RequestValidator(options.MaxTxnOps);
        _expiry = expiry;
        _leaseIds = leaseIds;
    }

    /// <summary>This member's ids.</summary>
    public MemberIdentity Identity { get; }

    /// <summary>The node loop (cluster operations).</summary>
    internal RaftHost Host => _host;

    /// <summary>The store's current revision.</summary>
    public long CurrentRevision => _stateMachine.Store.Revision;

    /// <summary>The store's compaction revision.</summary>
    public long CompactRevision => _stateMachine.Store.CompactRevision;

    /// <summary>The current raft term (response headers built outside this façade, e.g. by the watch stream).</summary>
    public ulong RaftTerm => _host.Term;

    /// <summary>Completes once every entry in the log at start-up has been applied (reads before that could be stale).</summary>
    public Task WaitUntilCaughtUpAsync(CancellationToken cancellationToken) => _host.CaughtUp.WaitAsync(cancellationToken);

    // ------------------------------------------------------------------------------- KV

    /// <summary>
    /// Serves a range from the applied state. In a cluster a linearizable range (the default) first
    /// waits for a confirmed read index to be applied; a serializable one is served locally at once.
    /// </summary>
    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellationToken)
    {
        if (request.Serializable || !_host.IsMultiMember) return Task.FromResult(Range(request));
        RequestValidator.Validate(request);
        return ReadAfterIndexAsync(request, cancellationToken);

        async Task<RangeResponse> ReadAfterIndexAsync(RangeRequest request, CancellationToken cancellationToken)
        {
            await _host.WaitReadableAsync(cancellationToken).ConfigureAwait(false);
            return Range(request);
        }
    }

    /// <summary>Serves a range from the applied state without a read index (serializable; the concurrency helpers).</summary>
    public RangeResponse Range(RangeRequest request)
    {
        RequestValidator.Validate(request);
        var response = KvApplier.Range(_stateMachine.Store.ReadView, request);
        Stamp(response.Header ??= new ResponseHeader());
        return response;
    }

    /// <summary>Proposes a put.</summary>
    public async Task<PutResponse> PutAsync(PutRequest request, CancellationToken cancellationToken)
    {
        RequestValidator.Validate(request);
        await CheckQuotaAsync(TxnShape.PutCost(request), cancellationToken).ConfigureAwait(false);
        var response = (PutResponse)await ProposeAsync(new InternalRequest { Put = request }, cancellationToken).ConfigureAwait(false);
        Stamp(response.Header ??= new ResponseHeader());
        return response;
    }

    /// <summary>Proposes a delete-range.</summary>
    public async Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellationToken)
    {
        RequestValidator.Validate(request);
        var response = (DeleteRangeResponse)await ProposeAsync(new InternalRequest { DeleteRange = request }, cancellationToken).ConfigureAwait(false);
        Stamp(response.Header ??= new ResponseHeader());
        return response;
    }

    /// <summary>Serves a read-only txn from the applied state; proposes any other txn.</summary>
    public async Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken)
    {
        _validator.Validate(request);
        if (TxnShape.IsReadOnly(request))
        {
            if (_host.IsMultiMember && !IsSerializable(request)) await _host.WaitReadableAsync(cancellationToken).ConfigureAwait(false);
            var read = KvApplier.ReadOnlyTxn(_stateMachine.Store.ReadView, request);
            Stamp(read.Header ??= new ResponseHeader());
            return read;
        }
        if (TxnShape.HasPuts(request)) await CheckQuotaAsync(TxnShape.PutCost(request), cancellationToken).ConfigureAwait(false);
        var written = (TxnResponse)await ProposeAsync(new InternalRequest { Txn = request }, cancellationToken).ConfigureAwait(false);
        Stamp(written.Header ??= new ResponseHeader());
        return written;
    }

    /// <summary>A read-only txn is served locally only when every range in it asks for serializable reads (as etcd does).</summary>
    private static bool IsSerializable(TxnRequest request) =>
        request.Success.Concat(request.Failure).All(op => op.RequestCase switch
        {
            RequestOp.RequestOneofCase.RequestRange => op.RequestRange.Serializable,
            RequestOp.RequestOneofCase.RequestTxn => IsSerializable(op.RequestTxn),
            _ => true,
        });

    /// <summary>Proposes a compaction.</summary>
    public async Task<CompactionResponse> CompactAsync(CompactionRequest request, CancellationToken cancellationToken)
    {
        var response = (CompactionResponse)await ProposeAsync(new InternalRequest { Compaction = request }, cancellationToken).ConfigureAwait(false);
        Stamp(response.Header ??= new ResponseHeader());
        return response;
    }

    // ---------------------------------------------------------------------------- Lease

    /// <summary>
    /// Proposes a grant. Id 0 asks the server to choose: the id is chosen here, on the proposing
    /// member, so every member applies the same one. TTLs below the minimum are raised at apply.
    /// </summary>
    public async Task<LeaseGrantResponse> LeaseGrantAsync(LeaseGrantRequest request, CancellationToken cancellationToken)
    {
        if (request.TTL > LeaseLimits.MaxTtlSeconds) throw EtcdErrors.LeaseTtlTooLarge.ToException();
        await CheckQuotaAsync(LeaseGrantCost, cancellationToken).ConfigureAwait(false);
        var serverChosen = request.ID == 0;
        for (var attempt = 0; ; attempt++)
        {
            var proposal = request.Clone();
            if (serverChosen) proposal.ID = _leaseIds.Next(_stateMachine.Leases.Exists);
            try
            {
                var response = (LeaseGrantResponse)await ProposeAsync(new InternalRequest { LeaseGrant = proposal }, cancellationToken).ConfigureAwait(false);
                Stamp(response.Header ??= new ResponseHeader());
                return response;
            }
            catch (EtcdException ex) when (serverChosen && ex.Error == EtcdErrors.LeaseExists && attempt < 3)
            {
                // A concurrent grant took the id between the choice and the apply: choose again.
            }
        }
    }

    /// <summary>Proposes a revocation: the lease's keys are deleted in one revision, then the lease.</summary>
    public async Task<LeaseRevokeResponse> LeaseRevokeAsync(LeaseRevokeRequest request, CancellationToken cancellationToken)
    {
        if (!_stateMachine.Leases.Exists(request.ID)) throw EtcdErrors.LeaseNotFound.ToException();
        var response = (LeaseRevokeResponse)await ProposeAsync(new InternalRequest { LeaseRevoke = request }, cancellationToken).ConfigureAwait(false);
        Stamp(response.Header ??= new ResponseHeader());
        return response;
    }

    /// <summary>
    /// Renews a lease where expiry is decided: here when this member leads (or is alone), else on the
    /// leader through the peer API (as etcd forwards keep-alives). The header is this member's.
    /// </summary>
    public async Task<LeaseKeepAliveResponse> LeaseKeepAliveAsync(LeaseKeepAliveRequest request, CancellationToken cancellationToken)
    {
        if (!_host.IsMultiMember || _host.Leader == Identity.MemberId || LeaderRenewer is null) return LeaseKeepAlive(request);
        var response = new LeaseKeepAliveResponse { ID = request.ID, Header = Stamp(new ResponseHeader()) };
        response.TTL = await LeaderRenewer(_host.Leader, request.ID, cancellationToken).ConfigureAwait(false);
        return response;
    }

    /// <summary>Renews a lease on the leader (the peer transport); set when the member serves peers.</summary>
    internal Func<ulong, long, CancellationToken, Task<long>>? LeaderRenewer { get; set; }

    /// <summary>Since when this member has reached a peer over the peer transport (null: not now); for the strict reconfiguration check.</summary>
    internal Func<ulong, DateTimeOffset?>? PeerActiveSince { get; init; }

    /// <summary>
    /// Cancelled when the streams from peers are to end: when this member stops, after a leader has
    /// handed over (it needs its followers' answers until then).
    /// </summary>
    internal CancellationToken PeerStreamsEnded { get; init; }

    /// <summary>The clock the strict reconfiguration check reads.</summary>
    internal TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Renews a lease on this (leading) member. An unknown or expired lease answers TTL 0, not an
    /// error, as etcd does. The header is filled before the renewal.
    /// </summary>
    public LeaseKeepAliveResponse LeaseKeepAlive(LeaseKeepAliveRequest request)
    {
        var response = new LeaseKeepAliveResponse { ID = request.ID, Header = Stamp(new ResponseHeader()) };
        if (_stateMachine.Leases.Exists(request.ID) && _expiry.Renew(request.ID) is { } ttl) response.TTL = ttl;
        return response;
    }

    /// <summary>
    /// <see cref="LeaseTimeToLive"/>, with the remaining TTL taken from the leader when this member
    /// follows: only the leader's expiry schedule is renewed by keep-alives (etcd forwards this call
    /// to the leader too).
    /// </summary>
    public async Task<LeaseTimeToLiveResponse> LeaseTimeToLiveAsync(LeaseTimeToLiveRequest request, CancellationToken cancellationToken)
    {
        var response = LeaseTimeToLive(request);
        if (!_host.IsMultiMember || _host.Leader == Identity.MemberId || LeaderRemaining is null || response.TTL == -1) return response;
        var remaining = await LeaderRemaining(_host.Leader, request.ID, cancellationToken).ConfigureAwait(false);
        if (remaining == -1) return new LeaseTimeToLiveResponse { ID = request.ID, Header = response.Header, TTL = -1 };
        response.TTL = remaining;
        return response;
    }

    /// <summary>Asks the leader for a lease's remaining TTL (the peer transport); set when the member serves peers.</summary>
    internal Func<ulong, long, CancellationToken, Task<long>>? LeaderRemaining { get; set; }

    /// <summary>
    /// Remaining TTL (whole seconds, from the expiry schedule), granted TTL and, when asked, the
    /// attached keys. An unknown lease answers TTL -1, not an error, as etcd does.
    /// </summary>
    public LeaseTimeToLiveResponse LeaseTimeToLive(LeaseTimeToLiveRequest request)
    {
        var response = new LeaseTimeToLiveResponse { ID = request.ID, Header = Stamp(new ResponseHeader()) };
        var granted = _stateMachine.Leases.GrantedTtl(request.ID);
        var keys = request.Keys ? _stateMachine.Leases.KeysOf(request.ID) : null;
        if (granted is null)
        {
            response.TTL = -1;
            return response;
        }
        var remaining = _expiry.Remaining(request.ID) ?? TimeSpan.FromSeconds(granted.Value);
        response.TTL = (long)Math.Truncate(remaining.TotalSeconds);
        response.GrantedTTL = granted.Value;
        if (keys is not null) response.Keys.AddRange(keys);
        return response;
    }

    /// <summary>Every lease id.</summary>
    public LeaseLeasesResponse LeaseLeases()
    {
        var response = new LeaseLeasesResponse { Header = Stamp(new ResponseHeader()) };
        foreach (var (id, _) in _stateMachine.Leases.All()) response.Leases.Add(new LeaseStatus { ID = id });
        return response;
    }

    /// <summary>The expiry schedule's way to remove an expired lease: a revocation through the log.</summary>
    internal Task RevokeExpiredAsync(long leaseId, CancellationToken cancellationToken) =>
        // Only the leader decides that a lease expired (followers' schedules are not renewed by keep-alives).
        _host.IsMultiMember && _host.Leader != Identity.MemberId
            ? Task.CompletedTask
            : ProposeAsync(new InternalRequest { LeaseRevoke = new LeaseRevokeRequest { ID = leaseId } }, cancellationToken);

    /// <summary>The quota cost etcd charges a lease grant.</summary>
    private const long LeaseGrantCost = 64;

    // ---------------------------------------------------------------------- Maintenance

    /// <summary>This member's status.</summary>
    public StatusResponse Status()
    {
        // The store lives in memory; its "database size" is its approximate image size, which
        // includes a fixed image header even when empty (etcd's empty bbolt file is not empty either).
        var size = _stateMachine.Store.ApproximateSizeBytes + EmptyImageBytes;
        var response = new StatusResponse
        {
            Version = HttpEndpoints.ServerVersion,
            DbSize = size,
            DbSizeInUse = size,
            Leader = _host.Leader,
            RaftIndex = _host.LastIndex,
            RaftTerm = _host.Term,
            RaftAppliedIndex = _host.AppliedIndex,
            IsLearner = IsLearner,
            Header = new ResponseHeader(),
        };
        foreach (var alarm in _stateMachine.Alarms.List()) response.Errors.Add($"memberID:{alarm.MemberID} alarm:{alarm.Alarm.ToString().ToUpperInvariant()} ");
        Stamp(response.Header);
        return response;
    }

    /// <summary>Hash of the whole key-value state.</summary>
    public HashResponse Hash() => new() { Header = Stamp(new ResponseHeader()), Hash = _stateMachine.Store.Hash() };

    /// <summary>Hash of the key-value history up to a revision.</summary>
    public HashKVResponse HashKV(HashKVRequest request)
    {
        var hash = _stateMachine.Store.HashKv(request.Revision);
        // etcd reports -1 for a store that was never compacted.
        var compactRevision = hash.CompactRevision == 0 ? -1 : hash.CompactRevision;
        return new HashKVResponse { Header = Stamp(new ResponseHeader()), Hash = hash.Hash, CompactRevision = compactRevision };
    }

    /// <summary>Lists alarms, or raises/clears one through the log.</summary>
    public async Task<AlarmResponse> AlarmAsync(AlarmRequest request, CancellationToken cancellationToken)
    {
        if (request.Action == AlarmRequest.Types.AlarmAction.Get)
        {
            var response = new AlarmResponse { Header = Stamp(new ResponseHeader()) };
            response.Alarms.AddRange(_stateMachine.Alarms.List().Where(a => request.Alarm == AlarmType.None || a.Alarm == request.Alarm));
            return response;
        }
        var changed = (AlarmResponse)await ProposeAsync(new InternalRequest { Alarm = request }, cancellationToken).ConfigureAwait(false);
        Stamp(changed.Header ??= new ResponseHeader());
        return changed;
    }

    /// <summary>An image of the applied state, as streamed by the Snapshot RPC.</summary>
    public async Task<byte[]> SnapshotImageAsync(CancellationToken cancellationToken)
    {
        // Captured between two batches of the node loop (consistent), serialized here, off the loop.
        var image = await _host.CaptureImageAsync(cancellationToken).ConfigureAwait(false);
        return image.ToArray();
    }

    /// <summary>True when a leader exists and no alarm (other than an ignored NOSPACE) is active.</summary>
    public bool IsHealthy(bool ignoreNoSpace)
    {
        if (_host.Leader == 0) return false;
        return !_stateMachine.Alarms.List().Any(a => !(ignoreNoSpace && a.Alarm == AlarmType.Nospace));
    }

    // ------------------------------------------------------------------------- Plumbing

    /// <inheritdoc />
    public ResponseHeader Header(long revision) => Stamp(new ResponseHeader { Revision = revision });

    private async Task<IMessage> ProposeAsync(InternalRequest request, CancellationToken cancellationToken)
    {
        if (request.CalculateSize() > _options.MaxRequestBytes) throw EtcdErrors.RequestTooLarge.ToException();
        var result = await _host.ProposeAsync(request, cancellationToken).ConfigureAwait(false);
        if (result.Error is { } error) throw error.ToException();
        return result.Response!;
    }

    private async Task CheckQuotaAsync(long cost, CancellationToken cancellationToken)
    {
        if (_stateMachine.Alarms.Has(AlarmType.Nospace)) throw EtcdErrors.NoSpace.ToException();
        if (_stateMachine.Store.ApproximateSizeBytes + cost <= _options.EffectiveQuotaBytes) return;
        // Over quota: raise NOSPACE for this member through the log, then refuse, as etcd does.
        await ProposeAsync(new InternalRequest
        {
            Alarm = new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, MemberID = Identity.MemberId, Alarm = AlarmType.Nospace },
        }, cancellationToken).ConfigureAwait(false);
        throw EtcdErrors.NoSpace.ToException();
    }

    private ResponseHeader Stamp(ResponseHeader header)
    {
        header.ClusterId = Identity.ClusterId;
        header.MemberId = Identity.MemberId;
        header.RaftTerm = _host.Term;
        if (header.Revision == 0) header.Revision = _stateMachine.Store.Revision;
        return header;
    }
}
