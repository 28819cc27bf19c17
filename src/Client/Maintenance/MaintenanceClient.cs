using Coordination.Client.Errors;
using Coordination.Client.Kv;
using Coordination.Client.Transport;
using Etcdserverpb;
using Grpc.Core;
using ResponseHeader = Coordination.Client.Kv.ResponseHeader;

namespace Coordination.Client.Maintenance;

/// <summary>A member's status.</summary>
/// <param name="Header">Member and revision.</param>
/// <param name="Version">Server version.</param>
/// <param name="DbSize">Backend database size in bytes.</param>
/// <param name="Leader">ID of the leader the member knows.</param>
/// <param name="RaftIndex">The member's raft index.</param>
/// <param name="RaftTerm">The member's raft term.</param>
/// <param name="IsLearner">Whether the member is a learner.</param>
/// <param name="Errors">Alarm and health messages.</param>
public sealed record MemberStatus(ResponseHeader Header, string Version, long DbSize, ulong Leader, ulong RaftIndex, ulong RaftTerm, bool IsLearner, IReadOnlyList<string> Errors);

/// <summary>An active alarm.</summary>
/// <param name="MemberId">The member that raised it.</param>
/// <param name="Kind">NOSPACE or CORRUPT.</param>
public sealed record Alarm(ulong MemberId, string Kind);

/// <summary>Result of a KV hash.</summary>
/// <param name="Header">Member and revision.</param>
/// <param name="Hash">Hash of the keys and values up to the revision.</param>
/// <param name="CompactRevision">The compact revision at the time (-1 when never compacted, on etcd 3.4).</param>
public sealed record HashKvResult(ResponseHeader Header, uint Hash, long CompactRevision);

/// <summary>
/// Maintenance: per-member calls take an optional endpoint (one of the client's) to address that
/// member; without it, any healthy endpoint answers.
/// </summary>
public interface IMaintenanceClient
{
    /// <summary>Status of a member.</summary>
    Task<MemberStatus> StatusAsync(string? endpoint = null, CancellationToken cancellationToken = default);

    /// <summary>Active alarms of the cluster.</summary>
    Task<IReadOnlyList<Alarm>> ListAlarmsAsync(CancellationToken cancellationToken = default);

    /// <summary>Deactivates an alarm (all members' alarms of that kind when <paramref name="memberId"/> is 0).</summary>
    Task<IReadOnlyList<Alarm>> DisarmAlarmAsync(ulong memberId, string kind, CancellationToken cancellationToken = default);

    /// <summary>Defragments a member's backend.</summary>
    Task DefragmentAsync(string? endpoint = null, CancellationToken cancellationToken = default);

    /// <summary>Hash of a member's keys and values up to <paramref name="revision"/> (0: latest).</summary>
    Task<HashKvResult> HashKvAsync(long revision = 0, string? endpoint = null, CancellationToken cancellationToken = default);

    /// <summary>Transfers leadership to <paramref name="targetMemberId"/>; must reach the current leader.</summary>
    Task MoveLeaderAsync(ulong targetMemberId, string? endpoint = null, CancellationToken cancellationToken = default);

    /// <summary>Streams a member's backend snapshot into <paramref name="destination"/>; returns the bytes written.</summary>
    Task<long> SnapshotAsync(Stream destination, string? endpoint = null, CancellationToken cancellationToken = default);
}

/// <summary>The Maintenance service over the <see cref="CallRunner"/>.</summary>
internal sealed class MaintenanceClient(CallRunner runner) : IMaintenanceClient
{
    public async Task<MemberStatus> StatusAsync(string? endpoint = null, CancellationToken cancellationToken = default)
    {
        var r = await runner.UnaryAsync("Maintenance/Status", CallKind.Repeatable,
            (invoker, o) => new Etcdserverpb.Maintenance.MaintenanceClient(invoker).StatusAsync(new StatusRequest(), o), cancellationToken, endpoint).ConfigureAwait(false);
        return new MemberStatus(ResponseHeader.From(r.Header), r.Version, r.DbSize, r.Leader, r.RaftIndex, r.RaftTerm, r.IsLearner, [.. r.Errors]);
    }

    public Task<IReadOnlyList<Alarm>> ListAlarmsAsync(CancellationToken cancellationToken = default) =>
        AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, CallKind.Repeatable, cancellationToken);

    public Task<IReadOnlyList<Alarm>> DisarmAlarmAsync(ulong memberId, string kind, CancellationToken cancellationToken = default) =>
        AlarmAsync(new AlarmRequest
        {
            Action = AlarmRequest.Types.AlarmAction.Deactivate,
            MemberID = memberId,
            Alarm = Enum.Parse<AlarmType>(kind, ignoreCase: true),
        }, CallKind.Repeatable, cancellationToken);

    public async Task DefragmentAsync(string? endpoint = null, CancellationToken cancellationToken = default) =>
        await runner.UnaryAsync("Maintenance/Defragment", CallKind.Repeatable,
            (invoker, o) => new Etcdserverpb.Maintenance.MaintenanceClient(invoker).DefragmentAsync(new DefragmentRequest(), o), cancellationToken, endpoint).ConfigureAwait(false);

    public async Task<HashKvResult> HashKvAsync(long revision = 0, string? endpoint = null, CancellationToken cancellationToken = default)
    {
        var r = await runner.UnaryAsync("Maintenance/HashKV", CallKind.Repeatable,
            (invoker, o) => new Etcdserverpb.Maintenance.MaintenanceClient(invoker).HashKVAsync(new HashKVRequest { Revision = revision }, o), cancellationToken, endpoint).ConfigureAwait(false);
        return new HashKvResult(ResponseHeader.From(r.Header), r.Hash, r.CompactRevision);
    }

    public async Task MoveLeaderAsync(ulong targetMemberId, string? endpoint = null, CancellationToken cancellationToken = default) =>
        await runner.UnaryAsync("Maintenance/MoveLeader", CallKind.NonRepeatable,
            (invoker, o) => new Etcdserverpb.Maintenance.MaintenanceClient(invoker).MoveLeaderAsync(new MoveLeaderRequest { TargetID = targetMemberId }, o), cancellationToken, endpoint).ConfigureAwait(false);

    public async Task<long> SnapshotAsync(Stream destination, string? endpoint = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var target = endpoint is null ? runner.Pool.Pick() : runner.Pool.Find(endpoint) ?? throw new ArgumentException($"'{endpoint}' is not one of the client's endpoints.", nameof(endpoint));
        var headers = await runner.Auth.HeadersAsync(target, cancellationToken).ConfigureAwait(false);
        using var activity = Diagnostics.ClientTelemetry.ActivitySource.StartActivity("Maintenance/Snapshot", System.Diagnostics.ActivityKind.Client);
        using var call = new Etcdserverpb.Maintenance.MaintenanceClient(target.Invoker).Snapshot(new SnapshotRequest(), new CallOptions(headers, cancellationToken: cancellationToken));
        long written = 0;
        try
        {
            await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await destination.WriteAsync(chunk.Blob.Memory, cancellationToken).ConfigureAwait(false);
                written += chunk.Blob.Length;
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (RpcException e)
        {
            throw ErrorMapper.Map(e);
        }

        return written;
    }

    private async Task<IReadOnlyList<Alarm>> AlarmAsync(AlarmRequest request, CallKind kind, CancellationToken cancellationToken)
    {
        var r = await runner.UnaryAsync("Maintenance/Alarm", kind,
            (invoker, o) => new Etcdserverpb.Maintenance.MaintenanceClient(invoker).AlarmAsync(request, o), cancellationToken).ConfigureAwait(false);
        return [.. r.Alarms.Select(a => new Alarm(a.MemberID, a.Alarm.ToString().ToUpperInvariant()))];
    }
}
