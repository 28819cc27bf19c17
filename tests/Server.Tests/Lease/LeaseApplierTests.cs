using Coordination.Server.Apply;
using Coordination.Server.Errors;
using Coordination.Server.Hosting;
using Coordination.Server.Lease;
using Coordination.Server.Mvcc;
using Etcdserverpb;
using Mvccpb;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Lease;

/// <summary>Grant and revoke as applied to the lease table and the store.</summary>
public sealed class LeaseApplierTests
{
    private readonly CommitRecorder _commits = new();
    private readonly MvccStore _store;
    private readonly Lessor _lessor = new();
    private readonly LeaseApplier _leases;
    private readonly KvApplier _kv;
    private readonly LifecycleRecorder _lifecycle = new();

    public LeaseApplierTests()
    {
        _store = new MvccStore(_commits);
        _lessor.Observer = _lifecycle;
        _leases = new LeaseApplier(_store, _lessor, minTtlSeconds: 2);
        _kv = new KvApplier(_store, _lessor);
    }

    private void Put(string key, long lease) => _kv.Put(new PutRequest { Key = B(key), Value = B("v"), Lease = lease });

    private static EtcdError Fails(Action action) => Assert.Throws<EtcdException>(action).Error;

    [Fact]
    public void Revoke_deletes_every_attached_key_in_one_revision_then_the_lease()
    {
        _leases.Grant(new LeaseGrantRequest { ID = 5, TTL = 60 });
        Put("a", 5);
        Put("b", 5);
        Put("other", 0);
        Put("c", 5);
        Put("b", 5); // overwritten with the same lease: still one attached key
        var before = _store.Revision;
        _commits.Commits.Clear();

        var response = _leases.Revoke(new LeaseRevokeRequest { ID = 5 });

        Assert.Equal(before + 1, _store.Revision);
        Assert.Equal(_store.Revision, response.Header.Revision);
        var commit = Assert.Single(_commits.Commits);
        Assert.Equal(["a", "b", "c"], commit.Events.Select(e => S(e.Kv.Key)));
        Assert.All(commit.Events, e => Assert.Equal(Event.Types.EventType.Delete, e.Type));
        Assert.All(commit.Events, e => Assert.Equal(_store.Revision, e.Kv.ModRevision));
        Assert.False(_lessor.Exists(5));
        Assert.Equal([5L], _lifecycle.Revoked);
        Assert.Equal(["other"], _kv.Range(new RangeRequest { Key = B("\0"), RangeEnd = B("\0") }).Kvs.Select(kv => S(kv.Key)));
    }

    [Fact]
    public void Revoke_of_a_lease_without_keys_does_not_bump_the_revision()
    {
        _leases.Grant(new LeaseGrantRequest { ID = 5, TTL = 60 });
        var before = _store.Revision;
        _leases.Revoke(new LeaseRevokeRequest { ID = 5 });
        Assert.Equal(before, _store.Revision);
        Assert.False(_lessor.Exists(5));
    }

    [Fact]
    public void Keys_moved_to_another_lease_or_deleted_are_not_deleted_by_revoke()
    {
        _leases.Grant(new LeaseGrantRequest { ID = 5, TTL = 60 });
        _leases.Grant(new LeaseGrantRequest { ID = 6, TTL = 60 });
        Put("moved", 5);
        Put("moved", 6);
        Put("gone", 5);
        _kv.DeleteRange(new DeleteRangeRequest { Key = B("gone") });
        Assert.Empty(_lessor.KeysOf(5)!);
        var before = _store.Revision;
        _leases.Revoke(new LeaseRevokeRequest { ID = 5 });
        Assert.Equal(before, _store.Revision);
        Assert.Equal(["moved"], _lessor.KeysOf(6)!.Select(S));
    }

    [Fact]
    public void Revoke_of_an_unknown_lease_is_lease_not_found()
    {
        Assert.Equal(EtcdErrors.LeaseNotFound, Fails(() => _leases.Revoke(new LeaseRevokeRequest { ID = 9 })));
    }

    [Fact]
    public void Grant_raises_short_ttls_to_the_minimum_and_refuses_taken_ids_and_huge_ttls()
    {
        var granted = _leases.Grant(new LeaseGrantRequest { ID = 5, TTL = 1 });
        Assert.Equal((5L, 2L), (granted.ID, granted.TTL));
        Assert.Equal(2, _lessor.GrantedTtl(5));
        Assert.Equal([(5L, 2L)], _lifecycle.Granted);
        Assert.Equal(EtcdErrors.LeaseExists, Fails(() => _leases.Grant(new LeaseGrantRequest { ID = 5, TTL = 60 })));
        Assert.Equal(EtcdErrors.LeaseTtlTooLarge, Fails(() => _leases.Grant(new LeaseGrantRequest { ID = 6, TTL = LeaseLimits.MaxTtlSeconds + 1 })));
        Assert.Equal(LeaseLimits.MaxTtlSeconds, _leases.Grant(new LeaseGrantRequest { ID = 7, TTL = LeaseLimits.MaxTtlSeconds }).TTL);
        Assert.Equal(2, _leases.Grant(new LeaseGrantRequest { ID = 8, TTL = -5 }).TTL);
        Assert.Equal(EtcdErrors.LeaseNotFound, Fails(() => _leases.Grant(new LeaseGrantRequest { ID = 0, TTL = 60 })));
        Assert.Equal([5L, 7L, 8L], _lessor.All().Select(l => l.Id));
    }

    [Fact]
    public void Put_with_an_unknown_or_revoked_lease_is_lease_not_found()
    {
        _leases.Grant(new LeaseGrantRequest { ID = 5, TTL = 60 });
        _leases.Revoke(new LeaseRevokeRequest { ID = 5 });
        Assert.Equal(EtcdErrors.LeaseNotFound, Fails(() => Put("k", 5)));
        Assert.Equal(EtcdErrors.LeaseNotFound, Fails(() => Put("k", 77)));
    }

    [Theory]
    [InlineData(100, 1000, 2)] // etcd's defaults: 1.5 s rounded up
    [InlineData(100, 5000, 8)] // 7.5 s
    [InlineData(300, 1000, 2)] // 3 ticks: 3*3/2 = 4 ticks of 300 ms = 1.2 s
    [InlineData(1000, 10000, 15)]
    public void Minimum_ttl_is_one_and_a_half_election_timeouts_in_whole_ticks_rounded_up(int heartbeatMs, int electionMs, long expected)
    {
        var options = new ServerOptions { HeartbeatIntervalMs = heartbeatMs, ElectionTimeoutMs = electionMs };
        Assert.Equal(expected, LeaseLimits.MinTtlSeconds(options));
    }

    private sealed class CommitRecorder : IMvccCommitObserver
    {
        public List<MvccCommit> Commits { get; } = [];

        public void OnCommit(MvccCommit commit) => Commits.Add(commit);
    }

    private sealed class LifecycleRecorder : ILeaseLifecycleObserver
    {
        public List<(long, long)> Granted { get; } = [];

        public List<long> Revoked { get; } = [];

        void ILeaseLifecycleObserver.Granted(long leaseId, long ttlSeconds) => Granted.Add((leaseId, ttlSeconds));

        void ILeaseLifecycleObserver.Revoked(long leaseId) => Revoked.Add(leaseId);
    }
}
