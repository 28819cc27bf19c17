using Coordination.Testing.Linearizability;

namespace Coordination.Testing.Tests;

/// <summary>Known linearizable and non-linearizable key-value histories, and the checker's treatment of unknown outcomes.</summary>
public class KvLinearizabilityTests
{
    private static Operation<KvInput, string?> Put(int client, string key, string value, long call, long ret, bool unknown = false) =>
        new(client, new KvInput(KvOp.Put, key, value), null, call, ret, unknown);

    private static Operation<KvInput, string?> Get(int client, string key, string? seen, long call, long ret) =>
        new(client, new KvInput(KvOp.Get, key), seen, call, ret);

    private static CheckResult Check(params Operation<KvInput, string?>[] history) => LinearizabilityChecker.Check(KvModel.Instance, history);

    [Fact]
    public void A_sequential_history_that_reads_what_was_written_is_linearizable()
    {
        var result = Check(Put(1, "k", "a", 0, 10), Get(2, "k", "a", 20, 30), Put(1, "k", "b", 40, 50), Get(2, "k", "b", 60, 70));
        Assert.Equal(Verdict.Linearizable, result.Verdict);
    }

    [Fact]
    public void A_read_that_misses_a_write_completed_before_it_started_is_not_linearizable()
    {
        var result = Check(Put(1, "k", "a", 0, 10), Put(1, "k", "b", 20, 30), Get(2, "k", "a", 40, 50));
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Equal("k", result.Partition);
        Assert.Contains("get(k) -> a", result.Explanation);
    }

    [Fact]
    public void A_read_concurrent_with_a_write_may_see_the_old_or_the_new_value()
    {
        Assert.True(Check(Put(1, "k", "a", 0, 10), Put(1, "k", "b", 20, 50), Get(2, "k", "a", 30, 40)).IsLinearizable);
        Assert.True(Check(Put(1, "k", "a", 0, 10), Put(1, "k", "b", 20, 50), Get(2, "k", "b", 30, 40)).IsLinearizable);
    }

    [Fact]
    public void Once_a_read_saw_the_new_value_a_later_read_must_not_see_the_old_one()
    {
        // Both reads overlap the write, but not each other: new-then-old is not linearizable.
        var result = Check(Put(1, "k", "a", 0, 10), Put(1, "k", "b", 20, 100), Get(2, "k", "b", 30, 40), Get(3, "k", "a", 50, 60));
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
    }

    [Fact]
    public void A_read_of_a_value_never_written_is_not_linearizable()
    {
        Assert.Equal(Verdict.NotLinearizable, Check(Put(1, "k", "a", 0, 10), Get(2, "k", "zzz", 20, 30)).Verdict);
        Assert.Equal(Verdict.NotLinearizable, Check(Get(2, "k", "zzz", 20, 30)).Verdict);
        Assert.True(Check(Get(2, "k", null, 20, 30)).IsLinearizable);
    }

    [Fact]
    public void A_write_with_an_unknown_outcome_may_have_been_applied_later_or_never()
    {
        Assert.True(Check(Put(1, "k", "a", 0, 10), Put(2, "k", "b", 20, 0, unknown: true), Get(3, "k", "b", 1000, 1010)).IsLinearizable);
        Assert.True(Check(Put(1, "k", "a", 0, 10), Put(2, "k", "b", 20, 0, unknown: true), Get(3, "k", "a", 1000, 1010)).IsLinearizable);
        // ...but not applied and then undone.
        var undone = Check(Put(1, "k", "a", 0, 10), Put(2, "k", "b", 20, 0, unknown: true), Get(3, "k", "b", 1000, 1010), Get(3, "k", "a", 1020, 1030));
        Assert.Equal(Verdict.NotLinearizable, undone.Verdict);
        // ...and never before it was issued.
        Assert.Equal(Verdict.NotLinearizable, Check(Get(3, "k", "b", 0, 10), Put(2, "k", "b", 20, 0, unknown: true)).Verdict);
    }

    [Fact]
    public void Keys_are_checked_independently_and_the_failing_key_is_named()
    {
        var result = Check(Put(1, "a", "1", 0, 10), Get(2, "a", "1", 20, 30), Put(1, "b", "1", 0, 10), Put(1, "b", "2", 20, 30), Get(2, "b", "1", 40, 50));
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Equal("b", result.Partition);
    }

    [Fact]
    public void A_large_history_produced_by_an_atomic_register_is_linearizable_and_a_corrupted_copy_is_not()
    {
        var history = AtomicRegisterHistory(seed: 5, operations: 3000, clients: 8, keys: 4);
        var ok = LinearizabilityChecker.Check(KvModel.Instance, history);
        Assert.Equal(Verdict.Linearizable, ok.Verdict);

        var reads = history.Select((op, i) => (op, i)).Where(x => x.op.Input.Op == KvOp.Get).ToList();
        var (victim, index) = reads[reads.Count / 2];
        history[index] = victim with { Output = "never-written" };
        Assert.Equal(Verdict.NotLinearizable, LinearizabilityChecker.Check(KvModel.Instance, history).Verdict);
    }

    /// <summary>
    /// Clients issue overlapping operations against a true atomic register: each takes effect at a
    /// random instant inside its interval, so the recorded history is linearizable by construction.
    /// </summary>
    private static List<Operation<KvInput, string?>> AtomicRegisterHistory(int seed, int operations, int clients, int keys)
    {
        var random = new Random(seed);
        var pending = new List<(long Point, int Client, KvInput Input, long Call, long Return)>();
        var clientFree = new long[clients];
        for (var i = 0; i < operations; i++)
        {
            var c = random.Next(clients);
            var call = clientFree[c] + random.Next(5);
            var ret = call + 1 + random.Next(40);
            clientFree[c] = ret + 1;
            var key = "k" + random.Next(keys);
            var input = random.Next(2) == 0 ? new KvInput(KvOp.Put, key, "v" + i) : new KvInput(KvOp.Get, key);
            pending.Add((call + random.NextInt64(ret - call + 1), c, input, call, ret));
        }
        var state = new Dictionary<string, string?>();
        var history = new List<Operation<KvInput, string?>>();
        foreach (var p in pending.OrderBy(p => p.Point))
        {
            string? output = null;
            if (p.Input.Op == KvOp.Put) state[p.Input.Key] = p.Input.Value;
            else output = state.GetValueOrDefault(p.Input.Key);
            history.Add(new Operation<KvInput, string?>(p.Client, p.Input, output, p.Call, p.Return));
        }
        return history;
    }
}
