using System.Globalization;
using System.Text;

namespace Coordination.Testing.Linearizability;

/// <summary>
/// Decides whether a concurrent history is linearizable against a sequential model: whether each
/// operation can be given one instant between its call and its return such that, in that order,
/// every response is what the model allows. The search follows Wing &amp; Gong with Lowe's
/// memoisation (as Porcupine does): walk the call/return events in time order, tentatively
/// linearize a call when the model accepts it, backtrack when a return is reached whose operation
/// was not linearized, and never revisit a (set of linearized operations, state) pair. The history
/// is first split into independent partitions (keys) checked one by one.
/// </summary>
public static class LinearizabilityChecker
{
    /// <summary>Checks a history; <paramref name="maxSteps"/> bounds the search per partition (then the verdict is <see cref="Verdict.Unknown"/>).</summary>
    public static CheckResult Check<TState, TInput, TOutput>(Model<TState, TInput, TOutput> model,
        IEnumerable<Operation<TInput, TOutput>> history, long maxSteps = 5_000_000)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(history);
        var partitions = history.GroupBy(op => model.Partition(op.Input)).OrderBy(g => g.Key, StringComparer.Ordinal);
        var sawUnknown = false;
        foreach (var partition in partitions)
        {
            var ops = model.Reduce(partition.ToList()).ToList();
            var verdict = CheckPartition(model, ops, maxSteps);
            if (verdict == Verdict.NotLinearizable)
                return new CheckResult(Verdict.NotLinearizable, partition.Key, Explain(model, ops));
            if (verdict == Verdict.Unknown) sawUnknown = true;
        }
        return new CheckResult(sawUnknown ? Verdict.Unknown : Verdict.Linearizable);
    }

    private static Verdict CheckPartition<TState, TInput, TOutput>(Model<TState, TInput, TOutput> model,
        List<Operation<TInput, TOutput>> ops, long maxSteps)
    {
        var head = BuildEventList(ops);
        var linearized = new Bitset(ops.Count);
        var cache = new HashSet<MemoKey<TState>>();
        var stack = new Stack<(Event Call, TState State)>();
        var state = model.Initial;
        var entry = head.Next;
        long steps = 0;
        while (head.Next is not null)
        {
            if (++steps > maxSteps) return Verdict.Unknown;
            if (entry!.IsCall)
            {
                var op = ops[entry.Id];
                var (legal, next) = model.Step(state, op.Input, op.Output, op.OutcomeUnknown);
                if (legal)
                {
                    linearized.Set(entry.Id);
                    if (cache.Add(new MemoKey<TState>(linearized.Copy(), next)))
                    {
                        stack.Push((entry, state));
                        state = next;
                        Lift(entry);
                        entry = head.Next;
                        continue;
                    }
                    linearized.Clear(entry.Id);
                }
                entry = entry.Next;
            }
            else
            {
                // A return whose call was not linearized: undo the latest choice and try the next.
                if (stack.Count == 0) return Verdict.NotLinearizable;
                var (call, previous) = stack.Pop();
                state = previous;
                linearized.Clear(call.Id);
                Unlift(call);
                entry = call.Next;
            }
        }
        return Verdict.Linearizable;
    }

    private static Event BuildEventList<TInput, TOutput>(List<Operation<TInput, TOutput>> ops)
    {
        var events = new List<(long Time, bool IsCall, int Id)>(ops.Count * 2);
        for (var i = 0; i < ops.Count; i++)
        {
            events.Add((ops[i].Call, true, i));
            events.Add((ops[i].EffectiveReturn, false, i));
        }
        // At equal times calls come first: operations that merely touch are treated as concurrent.
        events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.IsCall != b.IsCall ? (a.IsCall ? -1 : 1) : a.Id.CompareTo(b.Id));
        var head = new Event(-1, isCall: false);
        var calls = new Event?[ops.Count];
        var last = head;
        foreach (var (_, isCall, id) in events)
        {
            var e = new Event(id, isCall);
            if (isCall) calls[id] = e;
            else calls[id]!.Match = e;
            last.Next = e;
            e.Prev = last;
            last = e;
        }
        return head;
    }

    /// <summary>Removes a call and its return from the list (the operation is linearized).</summary>
    private static void Lift(Event call)
    {
        call.Prev!.Next = call.Next;
        call.Next!.Prev = call.Prev;
        var ret = call.Match!;
        ret.Prev!.Next = ret.Next;
        if (ret.Next is not null) ret.Next.Prev = ret.Prev;
    }

    /// <summary>Puts a lifted call and its return back where they were.</summary>
    private static void Unlift(Event call)
    {
        var ret = call.Match!;
        ret.Prev!.Next = ret;
        if (ret.Next is not null) ret.Next.Prev = ret;
        call.Prev!.Next = call;
        call.Next!.Prev = call;
    }

    private static string Explain<TState, TInput, TOutput>(Model<TState, TInput, TOutput> model, List<Operation<TInput, TOutput>> ops)
    {
        var sb = new StringBuilder();
        foreach (var op in ops.OrderBy(o => o.Call).ThenBy(o => o.EffectiveReturn))
        {
            var ret = op.OutcomeUnknown ? "?" : op.Return.ToString(CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"  client {op.ClientId} [{op.Call}, {ret}] {model.Describe(op.Input, op.Output, op.OutcomeUnknown)}").Append('\n');
        }
        return sb.ToString();
    }

    private sealed class Event(int id, bool isCall)
    {
        public int Id { get; } = id;
        public bool IsCall { get; } = isCall;
        public Event? Match { get; set; }
        public Event? Prev { get; set; }
        public Event? Next { get; set; }
    }

    private readonly struct MemoKey<TState>(Bitset linearized, TState state) : IEquatable<MemoKey<TState>>
    {
        private readonly Bitset _linearized = linearized;
        private readonly TState _state = state;

        public bool Equals(MemoKey<TState> other) =>
            _linearized.Equals(other._linearized) && EqualityComparer<TState>.Default.Equals(_state, other._state);

        public override bool Equals(object? obj) => obj is MemoKey<TState> k && Equals(k);

        public override int GetHashCode() => HashCode.Combine(_linearized.GetHashCode(), _state is null ? 0 : EqualityComparer<TState>.Default.GetHashCode(_state));
    }

    private sealed class Bitset : IEquatable<Bitset>
    {
        private readonly ulong[] _words;

        public Bitset(int bits) => _words = new ulong[(bits + 63) / 64];

        private Bitset(ulong[] words) => _words = words;

        public void Set(int i) => _words[i >> 6] |= 1UL << (i & 63);

        public void Clear(int i) => _words[i >> 6] &= ~(1UL << (i & 63));

        public Bitset Copy() => new((ulong[])_words.Clone());

        public bool Equals(Bitset? other) => other is not null && _words.AsSpan().SequenceEqual(other._words);

        public override bool Equals(object? obj) => Equals(obj as Bitset);

        public override int GetHashCode()
        {
            var h = new HashCode();
            foreach (var w in _words) h.Add(w);
            return h.ToHashCode();
        }
    }
}
