using Coordination.Server.Apply;
using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using Etcdserverpb;
using Google.Protobuf;
using Mvccpb;

namespace Coordination.Server.Tests.Apply;

/// <summary>
/// Drives <see cref="KvApplier"/> over <see cref="MvccStore"/> and the naive <see cref="ReferenceKv"/>
/// with the same random requests; every response (or error) must be equal.
/// </summary>
public class KvPropertyTests
{
    private const int Sequences = 300;
    private const int StepsPerSequence = 200;

    /// <summary>The system under test: the real applier, optionally with responses corrupted.</summary>
    private sealed class RealKv(Func<IMessage, IMessage>? corrupt = null)
    {
        public MvccStore Store { get; private set; } = new();

        public FakeLeases Leases { get; } = new(1, 2);

        public IMessage Apply(IMessage request)
        {
            var kv = new KvApplier(Store, Leases);
            IMessage response = request switch
            {
                RangeRequest r => kv.Range(r),
                PutRequest p => kv.Put(p),
                DeleteRangeRequest d => kv.DeleteRange(d),
                TxnRequest t => kv.Txn(t),
                CompactionRequest c => kv.Compact(c),
                _ => throw new ArgumentException("unknown request"),
            };
            return corrupt is null ? response : corrupt(response);
        }

        /// <summary>Replaces the store by its own image round trip (as a restarted member would).</summary>
        public void Reload()
        {
            using var stream = new MemoryStream();
            Store.WriteImage(stream);
            stream.Position = 0;
            MvccStore restored = MvccStore.ReadImage(stream);
            Assert.Equal(Store.Hash(), restored.Hash());
            Store = restored;
        }
    }

    /// <summary>Runs one seeded sequence; returns a description of the first divergence, or null.</summary>
    private static string? RunSequence(int seed, Func<IMessage, IMessage>? corrupt = null)
    {
        var random = new Random(seed);
        var generator = new KvRequestGenerator(random);
        var real = new RealKv(corrupt);
        var model = new ReferenceKv(1, 2);
        var validator = new RequestValidator();
        long compact = 0;
        for (int step = 0; step < StepsPerSequence; step++)
        {
            IMessage request = generator.Next(model.Revision, compact);
            if (!IsValid(validator, request))
            {
                continue;
            }

            (IMessage? expected, EtcdError? expectedError) = Run(model.Apply, request);
            (IMessage? actual, EtcdError? actualError) = Run(real.Apply, request);
            if (!Equals(expected, actual) || expectedError != actualError)
            {
                return $"seed {seed}, step {step}: {request.GetType().Name} {request}\n" +
                       $"  model: {(object?)expected ?? expectedError}\n  store: {(object?)actual ?? actualError}";
            }

            if (request is CompactionRequest c && expectedError is null)
            {
                compact = c.Revision;
            }

            if (real.Store.Revision != model.Revision)
            {
                return $"seed {seed}, step {step}: revision {real.Store.Revision} != model {model.Revision}";
            }

            if (random.Next(50) == 0)
            {
                real.Reload();
            }
        }

        // Every revision still readable must hold exactly the model's keys.
        for (long rev = Math.Max(compact, 1); rev <= model.Revision; rev++)
        {
            List<KeyValue> stored = real.Store.ReadView.Range(KeyRange.All, new MvccRangeOptions(rev)).Kvs;
            if (!stored.SequenceEqual(model.All(rev)))
            {
                return $"seed {seed}: state at revision {rev} differs";
            }
        }

        if (!real.Leases.Attached.SetEquals(model.ExpectedAttachments()))
        {
            return $"seed {seed}: lease attachments differ";
        }

        return null;
    }

    private static bool IsValid(RequestValidator validator, IMessage request)
    {
        try
        {
            switch (request)
            {
                case RangeRequest r: RequestValidator.Validate(r); break;
                case PutRequest p: RequestValidator.Validate(p); break;
                case DeleteRangeRequest d: RequestValidator.Validate(d); break;
                case TxnRequest t: validator.Validate(t); break;
            }

            return true;
        }
        catch (EtcdException)
        {
            return false;
        }
    }

    private static (IMessage? Response, EtcdError? Error) Run(Func<IMessage, IMessage> apply, IMessage request)
    {
        try
        {
            return (apply(request), null);
        }
        catch (EtcdException e)
        {
            return (null, e.Error);
        }
    }

    [Fact]
    public void Store_and_reference_model_agree_on_random_histories()
    {
        int baseSeed = Environment.GetEnvironmentVariable("MVCC_PROPERTY_SEED") is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : 20240601;
        for (int i = 0; i < Sequences; i++)
        {
            string? failure = RunSequence(baseSeed + i);
            Assert.True(failure is null, failure);
        }
    }

    [Fact]
    public void The_property_catches_a_store_that_forgets_to_bump_versions()
    {
        // Corrupt every returned key-value as a store would that never bumps version past 1.
        int caught = Enumerable.Range(1, 20).Count(seed => RunSequence(seed, ForgetVersions) is not null);
        Assert.Equal(20, caught);
    }

    [Fact]
    public void The_property_catches_a_store_that_ignores_limits()
    {
        int caught = Enumerable.Range(1, 20).Count(seed => RunSequence(seed, response =>
        {
            if (response is RangeResponse r)
            {
                r.More = false;
            }

            return response;
        }) is not null);
        Assert.True(caught >= 10, $"caught in {caught} of 20 sequences");
    }

    private static IMessage ForgetVersions(IMessage response)
    {
        foreach (KeyValue kv in KeyValuesOf(response))
        {
            kv.Version = Math.Min(kv.Version, 1);
        }

        return response;
    }

    private static IEnumerable<KeyValue> KeyValuesOf(IMessage response) => response switch
    {
        RangeResponse r => r.Kvs,
        PutResponse p when p.PrevKv is not null => [p.PrevKv],
        DeleteRangeResponse d => d.PrevKvs,
        TxnResponse t => t.Responses.SelectMany(op => op.ResponseCase switch
        {
            ResponseOp.ResponseOneofCase.ResponseRange => KeyValuesOf(op.ResponseRange),
            ResponseOp.ResponseOneofCase.ResponsePut => KeyValuesOf(op.ResponsePut),
            ResponseOp.ResponseOneofCase.ResponseDeleteRange => KeyValuesOf(op.ResponseDeleteRange),
            ResponseOp.ResponseOneofCase.ResponseTxn => KeyValuesOf(op.ResponseTxn),
            _ => [],
        }),
        _ => [],
    };
}
