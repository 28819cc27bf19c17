using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Tests.Apply;

/// <summary>Random KV requests over a small keyspace, so that ops collide often.</summary>
internal sealed class KvRequestGenerator(Random random)
{
    private static readonly string[] Keys = ["a", "aa", "ab", "b", "ba", "c", "d", "e"];
    private static readonly string[] Values = ["", "v0", "v1", "v2", "v10"];
    private static readonly long[] LeaseChoices = [0, 0, 0, 0, 1, 2, 9];

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private string Key() => Keys[random.Next(Keys.Length)];

    private (ByteString Key, ByteString End) Bounds() => random.Next(6) switch
    {
        0 or 1 => (B(Key()), ByteString.Empty),
        2 => (B(Key()), B("\0")),
        3 => (B("\0"), B("\0")),
        _ => (B(Key()), B(Key())),
    };

    private long Rev(long current, long compact) => random.Next(2) == 0 ? 0 : random.NextInt64(Math.Max(compact - 2, -1), current + 2);

    public IMessage Next(long current, long compact) => random.Next(100) switch
    {
        < 30 => Put(),
        < 45 => Delete(),
        < 70 => Range(current, compact),
        < 96 => Txn(current, compact, depth: 0),
        _ => new CompactionRequest { Revision = random.NextInt64(Math.Max(compact - 1, 0), current + 2), Physical = random.Next(2) == 0 },
    };

    private PutRequest Put()
    {
        var put = new PutRequest { Key = B(Key()), PrevKv = random.Next(2) == 0 };
        if (random.Next(10) == 0)
        {
            put.IgnoreValue = true;
        }
        else
        {
            put.Value = B(Values[random.Next(Values.Length)]);
        }

        if (random.Next(10) == 0)
        {
            put.IgnoreLease = true;
        }
        else
        {
            put.Lease = LeaseChoices[random.Next(LeaseChoices.Length)];
        }

        return put;
    }

    private DeleteRangeRequest Delete()
    {
        (ByteString key, ByteString end) = Bounds();
        return new DeleteRangeRequest { Key = key, RangeEnd = end, PrevKv = random.Next(2) == 0 };
    }

    private RangeRequest Range(long current, long compact)
    {
        (ByteString key, ByteString end) = Bounds();
        var range = new RangeRequest
        {
            Key = key,
            RangeEnd = end,
            Revision = Rev(current, compact),
            Limit = random.Next(3) == 0 ? random.Next(1, 4) : 0,
            SortOrder = (RangeRequest.Types.SortOrder)random.Next(3),
            SortTarget = random.Next(2) == 0 ? RangeRequest.Types.SortTarget.Key : (RangeRequest.Types.SortTarget)random.Next(5),
            KeysOnly = random.Next(10) == 0,
            CountOnly = random.Next(10) == 0,
        };
        if (random.Next(8) == 0)
        {
            range.MinModRevision = random.NextInt64(0, current + 1);
        }

        if (random.Next(8) == 0)
        {
            range.MaxCreateRevision = random.NextInt64(0, current + 1);
        }

        if (random.Next(12) == 0)
        {
            range.MaxModRevision = random.NextInt64(0, current + 1);
            range.MinCreateRevision = random.NextInt64(0, current + 1);
        }

        return range;
    }

    private TxnRequest Txn(long current, long compact, int depth)
    {
        var txn = new TxnRequest();
        for (int i = random.Next(3); i > 0; i--)
        {
            (ByteString key, ByteString end) = Bounds();
            var compare = new Compare
            {
                Key = key,
                RangeEnd = end,
                Result = (Compare.Types.CompareResult)random.Next(4),
                Target = (Compare.Types.CompareTarget)random.Next(5),
            };
            switch (compare.Target)
            {
                case Compare.Types.CompareTarget.Version: compare.Version = random.Next(4); break;
                case Compare.Types.CompareTarget.Create: compare.CreateRevision = random.NextInt64(0, current + 1); break;
                case Compare.Types.CompareTarget.Mod: compare.ModRevision = random.NextInt64(0, current + 1); break;
                case Compare.Types.CompareTarget.Lease: compare.Lease = LeaseChoices[random.Next(LeaseChoices.Length)]; break;
                default: compare.Value = B(Values[random.Next(Values.Length)]); break;
            }

            txn.Compare.Add(compare);
        }

        Fill(txn.Success);
        Fill(txn.Failure);
        return txn;

        void Fill(Google.Protobuf.Collections.RepeatedField<RequestOp> ops)
        {
            for (int i = random.Next(4); i > 0; i--)
            {
                int kind = random.Next(depth < 2 ? 10 : 9);
                ops.Add(kind switch
                {
                    < 3 => new RequestOp { RequestRange = Range(current, compact) },
                    < 6 => new RequestOp { RequestPut = Put() },
                    < 9 => new RequestOp { RequestDeleteRange = Delete() },
                    _ => new RequestOp { RequestTxn = Txn(current, compact, depth + 1) },
                });
            }
        }
    }
}
