using Coordination.Server.Errors;
using Etcdserverpb;
using Google.Protobuf;
using Mvccpb;

namespace Coordination.Server.Tests.Apply;

/// <summary>
/// A deliberately naive model of etcd's KV semantics for property tests: a full copy of the
/// key → key-value map for every revision, plus the compact revision. No indexes, no sharing,
/// no cleverness; written from the etcd rules, independently of the production code.
/// </summary>
internal sealed class ReferenceKv(params long[] grantedLeases)
{
    private readonly List<Dictionary<ByteString, KeyValue>> _states = [[], []];
    private readonly HashSet<long> _leases = [.. grantedLeases];
    private long _compact;

    public long Revision => _states.Count - 1;

    private Dictionary<ByteString, KeyValue> Latest => _states[^1];

    /// <summary>The lease attachments the lessor should hold: every live key with a lease.</summary>
    public HashSet<(long Lease, string Key)> ExpectedAttachments() =>
        [.. Latest.Values.Where(kv => kv.Lease != 0).Select(kv => (kv.Lease, kv.Key.ToStringUtf8()))];

    /// <summary>Every live key at <paramref name="revision"/>, sorted.</summary>
    public List<KeyValue> All(long revision) => [.. Sorted(_states[(int)revision].Values)];

    public IMessage Apply(IMessage request) => request switch
    {
        RangeRequest r => Range(r, Revision, rev => _states[(int)rev]),
        PutRequest p => Put(p),
        DeleteRangeRequest d => Delete(d),
        TxnRequest t => Txn(t),
        CompactionRequest c => Compact(c),
        _ => throw new ArgumentException("unknown request"),
    };

    private static int Cmp(ByteString a, ByteString b) => a.Span.SequenceCompareTo(b.Span);

    private static IEnumerable<KeyValue> Sorted(IEnumerable<KeyValue> kvs) =>
        kvs.OrderBy(kv => kv.Key, Comparer<ByteString>.Create(Cmp));

    private static bool InRange(ByteString key, ByteString start, ByteString end)
    {
        if (end.IsEmpty)
        {
            return key.Equals(start);
        }

        if (end.Length == 1 && end[0] == 0)
        {
            return Cmp(key, start) >= 0;
        }

        return Cmp(key, start) >= 0 && Cmp(key, end) < 0;
    }

    private static List<KeyValue> Select(Dictionary<ByteString, KeyValue> state, ByteString start, ByteString end) =>
        [.. Sorted(state.Values.Where(kv => InRange(kv.Key, start, end)))];

    private RangeResponse Range(RangeRequest r, long viewRevision, Func<long, Dictionary<ByteString, KeyValue>> stateAt)
    {
        if (r.Revision > viewRevision)
        {
            throw EtcdErrors.FutureRevision.ToException();
        }

        long rev = r.Revision <= 0 ? viewRevision : r.Revision;
        if (rev < _compact)
        {
            throw EtcdErrors.Compacted.ToException();
        }

        List<KeyValue> matching = Select(stateAt(rev), r.Key, r.RangeEnd);
        var kvs = r.CountOnly ? [] : matching.Select(kv => kv.Clone()).ToList();

        // etcd quirk: with the raw sort order NONE and no filter, only limit+1 keys (in key order)
        // are fetched, even when a non-key sort target then sorts them.
        bool filtered = r.MinModRevision != 0 || r.MaxModRevision != 0 || r.MinCreateRevision != 0 || r.MaxCreateRevision != 0;
        if (r.SortOrder == RangeRequest.Types.SortOrder.None && !filtered && r.Limit > 0)
        {
            kvs = kvs.Take((int)r.Limit + 1).ToList();
        }
        kvs = [.. kvs.Where(kv =>
            (r.MinModRevision == 0 || kv.ModRevision >= r.MinModRevision) &&
            (r.MaxModRevision == 0 || kv.ModRevision <= r.MaxModRevision) &&
            (r.MinCreateRevision == 0 || kv.CreateRevision >= r.MinCreateRevision) &&
            (r.MaxCreateRevision == 0 || kv.CreateRevision <= r.MaxCreateRevision))];

        var order = r.SortOrder;
        if (order == RangeRequest.Types.SortOrder.None && r.SortTarget != RangeRequest.Types.SortTarget.Key)
        {
            order = RangeRequest.Types.SortOrder.Ascend;
        }

        if (order != RangeRequest.Types.SortOrder.None)
        {
            Comparer<KeyValue> byTarget = Comparer<KeyValue>.Create((a, b) =>
            {
                int c = r.SortTarget switch
                {
                    RangeRequest.Types.SortTarget.Version => a.Version.CompareTo(b.Version),
                    RangeRequest.Types.SortTarget.Create => a.CreateRevision.CompareTo(b.CreateRevision),
                    RangeRequest.Types.SortTarget.Mod => a.ModRevision.CompareTo(b.ModRevision),
                    RangeRequest.Types.SortTarget.Value => Cmp(a.Value, b.Value),
                    _ => 0,
                };
                return c != 0 ? c : Cmp(a.Key, b.Key);
            });
            kvs = order == RangeRequest.Types.SortOrder.Descend ? [.. kvs.OrderDescending(byTarget)] : [.. kvs.Order(byTarget)];
        }

        var response = new RangeResponse { Header = new ResponseHeader { Revision = viewRevision }, Count = matching.Count };
        if (r.Limit > 0 && kvs.Count > r.Limit)
        {
            kvs = kvs.Take((int)r.Limit).ToList();
            response.More = true;
        }

        if (r.KeysOnly)
        {
            kvs.ForEach(kv => kv.Value = ByteString.Empty);
        }

        response.Kvs.AddRange(kvs);
        return response;
    }

    private PutResponse Put(PutRequest p)
    {
        if (p.Lease != 0 && !_leases.Contains(p.Lease))
        {
            throw EtcdErrors.LeaseNotFound.ToException();
        }

        var work = new Dictionary<ByteString, KeyValue>(Latest);
        PutResponse response = PutInto(work, p, Revision + 1);
        _states.Add(work);
        return response;
    }

    private static PutResponse PutInto(Dictionary<ByteString, KeyValue> work, PutRequest p, long revision)
    {
        work.TryGetValue(p.Key, out KeyValue? previous);
        if ((p.IgnoreValue || p.IgnoreLease) && previous is null)
        {
            throw EtcdErrors.KeyNotFound.ToException();
        }

        work[p.Key] = new KeyValue
        {
            Key = p.Key,
            Value = p.IgnoreValue ? previous!.Value : p.Value,
            Lease = p.IgnoreLease ? previous!.Lease : p.Lease,
            CreateRevision = previous?.CreateRevision ?? revision,
            ModRevision = revision,
            Version = (previous?.Version ?? 0) + 1,
        };
        var response = new PutResponse { Header = new ResponseHeader { Revision = revision } };
        if (p.PrevKv && previous is not null)
        {
            response.PrevKv = previous.Clone();
        }

        return response;
    }

    private DeleteRangeResponse Delete(DeleteRangeRequest d)
    {
        var work = new Dictionary<ByteString, KeyValue>(Latest);
        DeleteRangeResponse response = DeleteFrom(work, d, Revision, changedBefore: false);
        if (response.Deleted > 0)
        {
            _states.Add(work);
        }

        return response;
    }

    private static DeleteRangeResponse DeleteFrom(Dictionary<ByteString, KeyValue> work, DeleteRangeRequest d, long current, bool changedBefore)
    {
        List<KeyValue> doomed = Select(work, d.Key, d.RangeEnd);
        var response = new DeleteRangeResponse { Deleted = doomed.Count };
        if (d.PrevKv)
        {
            response.PrevKvs.AddRange(doomed.Select(kv => kv.Clone()));
        }

        doomed.ForEach(kv => work.Remove(kv.Key));
        response.Header = new ResponseHeader { Revision = doomed.Count > 0 || changedBefore ? current + 1 : current };
        return response;
    }

    private CompactionResponse Compact(CompactionRequest c)
    {
        if (c.Revision <= _compact)
        {
            throw EtcdErrors.Compacted.ToException();
        }

        if (c.Revision > Revision)
        {
            throw EtcdErrors.FutureRevision.ToException();
        }

        _compact = c.Revision;
        return new CompactionResponse { Header = new ResponseHeader { Revision = Revision } };
    }

    private bool Holds(Compare c)
    {
        List<KeyValue> kvs = Select(Latest, c.Key, c.RangeEnd);
        if (kvs.Count == 0)
        {
            if (c.Target == Compare.Types.CompareTarget.Value)
            {
                return false;
            }

            kvs = [new KeyValue()];
        }

        return kvs.All(kv =>
        {
            int order = c.Target switch
            {
                Compare.Types.CompareTarget.Version => kv.Version.CompareTo(c.Version),
                Compare.Types.CompareTarget.Create => kv.CreateRevision.CompareTo(c.CreateRevision),
                Compare.Types.CompareTarget.Mod => kv.ModRevision.CompareTo(c.ModRevision),
                Compare.Types.CompareTarget.Lease => kv.Lease.CompareTo(c.Lease),
                _ => Cmp(kv.Value, c.Value),
            };
            return c.Result switch
            {
                Compare.Types.CompareResult.Equal => order == 0,
                Compare.Types.CompareResult.NotEqual => order != 0,
                Compare.Types.CompareResult.Greater => order > 0,
                _ => order < 0,
            };
        });
    }

    private TxnResponse Txn(TxnRequest t)
    {
        // Decide every branch and check every chosen op against the state before the txn.
        var decisions = new Dictionary<TxnRequest, bool>(ReferenceEqualityComparer.Instance);
        Decide(t, decisions);
        Check(t, decisions);

        var work = new Dictionary<ByteString, KeyValue>(Latest);
        long current = Revision;
        bool changed = false;
        TxnResponse response = Run(t);
        response.Header = new ResponseHeader { Revision = changed ? current + 1 : current };
        if (changed)
        {
            _states.Add(work);
        }

        return response;

        TxnResponse Run(TxnRequest txn)
        {
            bool ok = decisions[txn];
            var result = new TxnResponse { Succeeded = ok, Header = new ResponseHeader() };
            foreach (RequestOp op in ok ? txn.Success : txn.Failure)
            {
                switch (op.RequestCase)
                {
                    case RequestOp.RequestOneofCase.RequestRange:
                        long view = changed ? current + 1 : current;
                        result.Responses.Add(new ResponseOp { ResponseRange = Range(op.RequestRange, view, rev => rev == current + 1 ? work : _states[(int)rev]) });
                        break;
                    case RequestOp.RequestOneofCase.RequestPut:
                        result.Responses.Add(new ResponseOp { ResponsePut = PutInto(work, op.RequestPut, current + 1) });
                        changed = true;
                        break;
                    case RequestOp.RequestOneofCase.RequestDeleteRange:
                        DeleteRangeResponse deleted = DeleteFrom(work, op.RequestDeleteRange, current, changed);
                        changed |= deleted.Deleted > 0;
                        result.Responses.Add(new ResponseOp { ResponseDeleteRange = deleted });
                        break;
                    case RequestOp.RequestOneofCase.RequestTxn:
                        result.Responses.Add(new ResponseOp { ResponseTxn = Run(op.RequestTxn) });
                        break;
                }
            }

            return result;
        }
    }

    private void Decide(TxnRequest t, Dictionary<TxnRequest, bool> decisions)
    {
        bool ok = t.Compare.All(Holds);
        decisions[t] = ok;
        foreach (RequestOp op in (ok ? t.Success : t.Failure).Where(op => op.RequestCase == RequestOp.RequestOneofCase.RequestTxn))
        {
            Decide(op.RequestTxn, decisions);
        }
    }

    private void Check(TxnRequest t, Dictionary<TxnRequest, bool> decisions)
    {
        foreach (RequestOp op in decisions[t] ? t.Success : t.Failure)
        {
            if (op.RequestCase == RequestOp.RequestOneofCase.RequestRange && op.RequestRange.Revision != 0)
            {
                if (op.RequestRange.Revision > Revision)
                {
                    throw EtcdErrors.FutureRevision.ToException();
                }

                if (op.RequestRange.Revision < _compact)
                {
                    throw EtcdErrors.Compacted.ToException();
                }
            }
            else if (op.RequestCase == RequestOp.RequestOneofCase.RequestPut)
            {
                PutRequest p = op.RequestPut;
                if ((p.IgnoreValue || p.IgnoreLease) && !Latest.ContainsKey(p.Key))
                {
                    throw EtcdErrors.KeyNotFound.ToException();
                }

                if (p.Lease != 0 && !_leases.Contains(p.Lease))
                {
                    throw EtcdErrors.LeaseNotFound.ToException();
                }
            }
            else if (op.RequestCase == RequestOp.RequestOneofCase.RequestTxn)
            {
                Check(op.RequestTxn, decisions);
            }
        }
    }
}
