using Coordination.Testing.Linearizability;

namespace Coordination.Simulation.Tests.Simulation;

/// <summary>
/// A client: one operation at a time against a randomly chosen member (another one after a timeout), a put or a linearizable
/// get on a random key, each recorded in the history with its call and return times. An
/// operation that gets no answer within the timeout has an unknown outcome (a put) or is
/// dropped from the history (a get, which changes nothing).
/// </summary>
public sealed class SimClient(Simulator sim, int id, Random random)
{
    private long _seq;
    private SimMember? _lastTimedOut;

    /// <summary>The client's id.</summary>
    public int Id { get; } = id;

    /// <summary>Starts issuing operations after a short random delay.</summary>
    public void Start() => sim.Queue.After(random.Next(100), Next);

    private void Next()
    {
        if (sim.Queue.Now >= sim.Options.DurationMs - sim.Options.ClientTimeoutMs) return;
        var requestId = (long)Id << 32 | ++_seq;
        // Like a real client, try another member after one did not answer.
        var candidates = sim.Members.Where(m => m != _lastTimedOut).ToList();
        var member = candidates[random.Next(candidates.Count)];
        var key = "k" + random.Next(sim.Options.Keys);
        var call = sim.Queue.Now;
        var finished = false;
        var isPut = random.Next(2) == 0;
        var value = $"c{Id}-{_seq}";

        void Finish(Operation<KvInput, string?>? op, bool timedOut = false)
        {
            if (finished) return;
            finished = true;
            _lastTimedOut = timedOut ? member : null;
            if (op is not null) sim.Record(op);
            sim.Trace.Add((ulong)requestId);
            sim.Trace.Add(op is null ? 0UL : op.OutcomeUnknown ? 1UL : 2UL);
            sim.Queue.After(random.Next(50), Next);
        }

        if (isPut)
        {
            var input = new KvInput(KvOp.Put, key, value);
            member.SubmitPut(requestId, key, value, applied =>
            {
                if (applied)
                {
                    sim.Acknowledged(requestId);
                    Finish(new Operation<KvInput, string?>(Id, input, null, call, sim.Queue.Now));
                }
                else
                {
                    // Refused for sure (no leader known, nothing forwarded): it never happened.
                    Finish(null);
                }
            });
            sim.Queue.After(sim.Options.ClientTimeoutMs, () => Finish(new Operation<KvInput, string?>(Id, input, null, call, 0, OutcomeUnknown: true), timedOut: true));
        }
        else
        {
            var input = new KvInput(KvOp.Get, key);
            member.SubmitGet(requestId, key, seen => Finish(new Operation<KvInput, string?>(Id, input, seen, call, sim.Queue.Now)));
            sim.Queue.After(sim.Options.ClientTimeoutMs, () => Finish(null, timedOut: true));
        }
    }
}
