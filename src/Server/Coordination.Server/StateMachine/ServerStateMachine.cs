using Coordination.Raft.Protocol;
using Coordination.Server.Apply;
using Coordination.Server.Apply.Protocol;
using Coordination.Server.Auth;
using Coordination.Server.Cluster;
using Coordination.Server.Errors;
using Coordination.Server.Hosting;
using Coordination.Server.Lease;
using Coordination.Server.Mvcc;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.StateMachine;

/// <summary>
/// Everything committed entries change: the MVCC key-value store, the lease table and the alarms.
/// <see cref="Apply"/> is a pure function of (state, entry), so members that apply the same log
/// hold the same state. Only the node loop calls <see cref="Apply"/>; reads go to published,
/// immutable views of the store and never wait for it.
/// </summary>
internal sealed class ServerStateMachine
{
    private readonly ServerOptions _options;
    private readonly MvccStore _store;
    private readonly Lessor _lessor;
    private readonly KvApplier _kv;
    private readonly LeaseApplier _leaseApplier;
    private readonly AlarmSet _alarms;
    private readonly AuthStore _auth;
    private readonly AuthApplier _authApplier;

    /// <summary>
    /// A fresh, empty state; <paramref name="observer"/> hears of every committed revision (the watch
    /// hub); <paramref name="tokens"/> is this member's table of auth tokens (default: system clock).
    /// </summary>
    public ServerStateMachine(ServerOptions options, IMvccCommitObserver? observer = null, SimpleTokens? tokens = null)
        : this(options, new MvccStore(observer), new Lessor(), new AlarmSet(), new AuthStore(), tokens, 0, 0, new ConfState())
    {
    }

    private ServerStateMachine(ServerOptions options, MvccStore store, Lessor lessor, AlarmSet alarms, AuthStore auth, SimpleTokens? tokens,
        ulong appliedIndex, ulong appliedTerm, ConfState confState)
    {
        _options = options;
        _store = store;
        _lessor = lessor;
        _alarms = alarms;
        _auth = auth;
        Tokens = tokens ?? new SimpleTokens(TimeProvider.System, options.AuthTokenTtl);
        _authApplier = new AuthApplier(auth, Tokens);
        _kv = new KvApplier(store, lessor);
        _leaseApplier = new LeaseApplier(store, lessor, LeaseLimits.MinTtlSeconds(options));
        AppliedIndex = appliedIndex;
        AppliedTerm = appliedTerm;
        // A version 1 image knows the raft configuration only: its members have no attributes yet.
        Members.Reset(confState.Voters.Select(id => new MemberRecord { Id = id })
            .Concat(confState.Learners.Select(id => new MemberRecord { Id = id, IsLearner = true })), []);
    }

    /// <summary>Index of the last applied entry.</summary>
    public ulong AppliedIndex { get; private set; }

    /// <summary>Term of the last applied entry.</summary>
    public ulong AppliedTerm { get; private set; }

    /// <summary>The membership the applied log describes.</summary>
    public ConfState ConfState => Members.ConfState();

    /// <summary>The replicated member table.</summary>
    public MemberTable Members { get; } = new();

    /// <summary>The key-value store.</summary>
    public MvccStore Store => _store;

    /// <summary>The key-value semantics over the store (reads use it on published views).</summary>
    public KvApplier Kv => _kv;

    /// <summary>The replicated lease table (read from any thread; changed only by applied entries).</summary>
    public Lessor Leases => _lessor;

    /// <summary>The active alarms.</summary>
    public AlarmSet Alarms => _alarms;

    /// <summary>Users, roles and permissions (read from any thread; changed only by applied entries).</summary>
    public AuthStore Auth => _auth;

    /// <summary>This member's auth tokens.</summary>
    public SimpleTokens Tokens { get; }

    /// <summary>Applies one committed entry and returns the id of its proposal with the outcome.</summary>
    public (ulong Id, ApplyResult Result) Apply(Entry entry)
    {
        AppliedIndex = entry.Index;
        AppliedTerm = entry.Term;
        if (entry.Type == EntryType.EntryConfChange) return ApplyConfChange(ConfChange.Parser.ParseFrom(entry.Data));
        if (entry.Type != EntryType.EntryNormal || entry.Data.IsEmpty) return (0, default);
        var request = InternalRequest.Parser.ParseFrom(entry.Data.Span);
        if (request.RequestCase == InternalRequest.RequestOneofCase.Put)
        {
            EntryValueSharing.Share(entry.Data, request.Put);
        }

        try
        {
            return (request.Id, ApplyResult.Ok(Dispatch(request)));
        }
        catch (EtcdException ex)
        {
            return (request.Id, ApplyResult.Failed(ex.Error));
        }
    }

    private IMessage Dispatch(InternalRequest request)
    {
        switch (request.RequestCase)
        {
            case InternalRequest.RequestOneofCase.Put:
                RefuseWhenOutOfSpace();
                return _kv.Put(request.Put);
            case InternalRequest.RequestOneofCase.DeleteRange:
                return _kv.DeleteRange(request.DeleteRange);
            case InternalRequest.RequestOneofCase.Txn:
                if (TxnShape.HasPuts(request.Txn)) RefuseWhenOutOfSpace();
                return _kv.Txn(request.Txn);
            case InternalRequest.RequestOneofCase.Compaction:
                return _kv.Compact(request.Compaction);
            case InternalRequest.RequestOneofCase.LeaseGrant:
                RefuseWhenOutOfSpace();
                return _leaseApplier.Grant(request.LeaseGrant);
            case InternalRequest.RequestOneofCase.LeaseRevoke:
                return _leaseApplier.Revoke(request.LeaseRevoke);
            case InternalRequest.RequestOneofCase.LeaseCheckpoint:
                return _leaseApplier.Checkpoint(request.LeaseCheckpoint);
            case InternalRequest.RequestOneofCase.Alarm:
                return _alarms.Apply(request.Alarm);
            case InternalRequest.RequestOneofCase.MemberAttributes:
                Members.Apply(request.MemberAttributes);
                return MemberList();
            case InternalRequest.RequestOneofCase.MemberPeerUrls:
                if (Members.Get(request.MemberPeerUrls.Id) is null) throw EtcdErrors.MemberNotFound.ToException();
                Members.Apply(request.MemberPeerUrls);
                return MemberList();
            case var kind when AuthApplier.Handles(kind):
                return _authApplier.Apply(request, AppliedIndex);
            default:
                // An entry this version does not understand must not be skipped silently.
                throw new InvalidOperationException($"cannot apply request kind {request.RequestCase} at index {AppliedIndex}");
        }
    }

    /// <summary>
    /// Applies a membership change. The core applies the same entry to its own configuration when
    /// the host advances; here the member table follows, with the member's URLs from the context.
    /// </summary>
    private (ulong Id, ApplyResult Result) ApplyConfChange(ConfChange change)
    {
        var context = change.Context.IsEmpty ? new MemberChange() : MemberChange.Parser.ParseFrom(change.Context);
        Members.Apply(change, context.Member);
        return (context.RequestId, ApplyResult.Ok(MemberList()));
    }

    /// <summary>The member table as etcd lists it.</summary>
    public MemberListResponse MemberList()
    {
        var response = new MemberListResponse();
        foreach (var m in Members.Members.Values)
        {
            var member = new Member { ID = m.Id, Name = m.Name, IsLearner = m.IsLearner };
            member.PeerURLs.AddRange(m.PeerUrls);
            member.ClientURLs.AddRange(m.ClientUrls);
            response.Members.Add(member);
        }
        return response;
    }

    private void RefuseWhenOutOfSpace()
    {
        if (_alarms.Has(AlarmType.Nospace)) throw EtcdErrors.NoSpace.ToException();
    }

    /// <summary>True when <paramref name="data"/> starts like a state image.</summary>
    public static bool IsImage(ReadOnlySpan<byte> data) => data.StartsWith(StateImage.Magic) || data.StartsWith(StateImage.MagicV1);

    /// <summary>Captures the applied state for writing later, on any thread (cheap: the store part is an immutable view).</summary>
    public StateImage CaptureImage() => new(
        AppliedIndex, AppliedTerm, ConfState.Clone(),
        _lessor.All(), _alarms.List(), _auth.Capture(), _store.ReadView, Members);

    /// <summary>Writes a consistent image of the applied state.</summary>
    public void WriteImage(Stream destination) => CaptureImage().WriteTo(destination);

    /// <summary>Rebuilds the state from an image written by <see cref="WriteImage"/>.</summary>
    public static ServerStateMachine Restore(Stream image, ServerOptions options, IMvccCommitObserver? observer = null, SimpleTokens? tokens = null)
    {
        Span<byte> magic = stackalloc byte[8];
        image.ReadExactly(magic);
        var version3 = magic.SequenceEqual(StateImage.Magic);
        if (!version3 && !magic.SequenceEqual(StateImage.MagicV1)) throw new InvalidDataException("not a Coordination state image (or one written by a development build between versions 1 and 3)");
        using var reader = new BinaryReader(image, System.Text.Encoding.UTF8, leaveOpen: true);
        var appliedIndex = reader.ReadUInt64();
        var appliedTerm = reader.ReadUInt64();
        var confState = ReadMessage(reader, ConfState.Parser);
        var lessor = new Lessor();
        var leaseCount = reader.ReadInt32();
        for (var i = 0; i < leaseCount; i++)
        {
            var id = reader.ReadInt64();
            lessor.Grant(id, reader.ReadInt64());
        }
        var alarms = new AlarmSet();
        var alarmCount = reader.ReadInt32();
        for (var i = 0; i < alarmCount; i++) alarms.Restore(ReadMessage(reader, AlarmMember.Parser));
        var members = version3 ? MemberTable.Read(reader) : default;
        var auth = version3 ? AuthStore.Restore(ReadAuth(reader)) : new AuthStore();
        var store = MvccStore.ReadImage(image, observer);
        // Lease attachments are derived from the keys' lease fields.
        foreach (var kv in store.ReadView.Range(KeyRange.All).Kvs)
        {
            if (kv.Lease != 0) lessor.Attach(kv.Lease, kv.Key);
        }
        var restored = new ServerStateMachine(options, store, lessor, alarms, auth, tokens, appliedIndex, appliedTerm, confState);
        if (version3) restored.Members.Reset(members.Members, members.Removed);
        return restored;
    }

    private static AuthImage ReadAuth(BinaryReader reader)
    {
        var enabled = reader.ReadBoolean();
        var revision = reader.ReadUInt64();
        var users = Enumerable.Range(0, reader.ReadInt32()).Select(_ => ReadMessage(reader, Authpb.User.Parser)).ToList();
        var roles = Enumerable.Range(0, reader.ReadInt32()).Select(_ => ReadMessage(reader, Authpb.Role.Parser)).ToList();
        return new AuthImage(enabled, revision, users, roles);
    }

    /// <summary>
    /// Replaces the whole state, in place, with a snapshot image received from the leader (a member
    /// too far behind for entries). The store keeps its commit observer; the lease table tells its
    /// observer (the expiry schedule) about every lease dropped and granted.
    /// </summary>
    public void RestoreInPlace(Stream image)
    {
        var restored = Restore(image, _options, tokens: Tokens);
        foreach (var (id, _) in _lessor.All()) _lessor.Revoke(id);
        foreach (var (id, ttl) in restored._lessor.All()) _lessor.Grant(id, ttl);
        _alarms.Clear();
        foreach (var alarm in restored._alarms.List()) _alarms.Restore(alarm);
        using (var buffer = new MemoryStream())
        {
            restored._store.WriteImage(buffer);
            buffer.Position = 0;
            _store.Restore(buffer);
        }
        foreach (var kv in _store.ReadView.Range(KeyRange.All).Kvs)
        {
            if (kv.Lease != 0) _lessor.Attach(kv.Lease, kv.Key);
        }
        Members.Reset(restored.Members.Members.Values, restored.Members.Removed);
        _auth.Reset(restored._auth.Capture());
        AppliedIndex = restored.AppliedIndex;
        AppliedTerm = restored.AppliedTerm;
    }

    private static T ReadMessage<T>(BinaryReader reader, MessageParser<T> parser) where T : IMessage<T>
    {
        var length = reader.ReadInt32();
        return parser.ParseFrom(reader.ReadBytes(length));
    }
}
