using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Apply;

/// <summary>
/// etcd's duplicate-key rule for one branch list of a txn (checkIntervals): a key may be put at
/// most once, and never inside a range deleted in the same list, nested txns included; a nested
/// txn's success and failure may put the same key; overlapping deletes are fine.
/// </summary>
/// <remarks>
/// Reproduces etcd's exact algorithm so that the same requests are accepted and rejected: this
/// list's deletes are collected first; nested txns are then checked in order, each against the
/// puts and deletes gathered so far (their deletes joining afterwards); finally this list's puts.
/// A delete's <c>range_end</c> is taken literally here, so <c>"\0"</c> ("to the end") covers
/// nothing, as in etcd.
/// </remarks>
internal static class TxnIntervalChecker
{
    /// <summary>Throws DuplicateKey when <paramref name="ops"/> breaks the rule.</summary>
    public static void Check(IEnumerable<RequestOp> ops) => Collect(ops, out _, out _);

    private static void Collect(IEnumerable<RequestOp> ops, out HashSet<ByteString> puts, out List<Interval> deletes)
    {
        var list = ops as IList<RequestOp> ?? [.. ops];
        deletes = [];
        foreach (RequestOp op in list)
        {
            if (op.RequestCase == RequestOp.RequestOneofCase.RequestDeleteRange)
            {
                deletes.Add(Interval.Of(op.RequestDeleteRange));
            }
        }

        puts = [];
        foreach (RequestOp op in list)
        {
            if (op.RequestCase != RequestOp.RequestOneofCase.RequestTxn)
            {
                continue;
            }

            Collect(op.RequestTxn.Success, out HashSet<ByteString> putsThen, out List<Interval> deletesThen);
            Collect(op.RequestTxn.Failure, out HashSet<ByteString> putsElse, out List<Interval> deletesElse);
            foreach (ByteString key in putsThen)
            {
                if (puts.Contains(key) || Covers(deletes, key))
                {
                    throw EtcdErrors.DuplicateKey.ToException();
                }

                puts.Add(key);
            }

            foreach (ByteString key in putsElse)
            {
                // Then and else are mutually exclusive, so a key put by both is fine.
                if ((puts.Contains(key) && !putsThen.Contains(key)) || Covers(deletes, key))
                {
                    throw EtcdErrors.DuplicateKey.ToException();
                }

                puts.Add(key);
            }

            deletes.AddRange(deletesThen);
            deletes.AddRange(deletesElse);
        }

        foreach (RequestOp op in list)
        {
            if (op.RequestCase != RequestOp.RequestOneofCase.RequestPut)
            {
                continue;
            }

            ByteString key = op.RequestPut.Key;
            if (puts.Contains(key) || Covers(deletes, key))
            {
                throw EtcdErrors.DuplicateKey.ToException();
            }

            puts.Add(key);
        }
    }

    private static bool Covers(List<Interval> deletes, ByteString key)
    {
        foreach (Interval interval in deletes)
        {
            if (interval.Contains(key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A deleted key (End null) or the literal interval [Begin, End).</summary>
    private readonly record struct Interval(ByteString Begin, ByteString? End)
    {
        public static Interval Of(DeleteRangeRequest request) =>
            new(request.Key, request.RangeEnd.IsEmpty ? null : request.RangeEnd);

        public bool Contains(ByteString key) => End is null
            ? Begin.Equals(key)
            : KeyComparer.Compare(Begin, key) <= 0 && KeyComparer.Compare(key, End) < 0;
    }
}
