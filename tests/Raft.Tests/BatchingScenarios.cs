using Coordination.Raft.Protocol;
using Coordination.Raft.Tests.Harness;
using Google.Protobuf;

namespace Coordination.Raft.Tests;

/// <summary>Proposals made between two Readys travel together: one append per follower, one forwarded message.</summary>
public class BatchingScenarios
{
    [Fact]
    public void Proposals_made_on_the_leader_between_two_Readys_reach_each_follower_in_one_append()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Delivered.Clear();

        foreach (var p in new[] { "a", "b", "c" }) Assert.Equal(ProposeResult.Accepted, c[1].Propose(ByteString.CopyFromUtf8(p)));
        c.Stabilize();

        Assert.All(c.Ids, id => Assert.Equal(["a", "b", "c"], c.Applied(id)));
        foreach (var follower in new ulong[] { 2, 3 })
        {
            var appends = c.Delivered.Where(m => m.Type == MessageType.MsgApp && m.To == follower).ToList();
            // One carrying the three entries, one telling the commit index (both answers reach
            // the leader in one Ready, and only the first moves the commit index).
            Assert.Equal(2, appends.Count);
            Assert.Equal(["a", "b", "c"], appends[0].Entries.Select(e => e.Data.ToStringUtf8()));
            Assert.Empty(appends[1].Entries);
            Assert.Equal(c[1].Commit, appends[1].Commit);
        }
    }

    [Fact]
    public void Proposals_made_on_a_follower_between_two_Readys_are_forwarded_in_one_message()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Delivered.Clear();

        foreach (var p in new[] { "a", "b", "c" }) Assert.Equal(ProposeResult.Forwarded, c[2].Propose(ByteString.CopyFromUtf8(p)));
        c.Stabilize();

        var forwarded = Assert.Single(c.Delivered, m => m.Type == MessageType.MsgProp);
        Assert.Equal((2UL, 1UL), (forwarded.From, forwarded.To));
        Assert.Equal(["a", "b", "c"], forwarded.Entries.Select(e => e.Data.ToStringUtf8()));
        Assert.All(c.Ids, id => Assert.Equal(["a", "b", "c"], c.Applied(id)));
    }

    [Fact]
    public void A_proposal_after_a_Ready_starts_a_new_forwarded_message()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Delivered.Clear();

        c[2].Propose(ByteString.CopyFromUtf8("a"));
        var first = c[2].GetReady();
        c[2].Propose(ByteString.CopyFromUtf8("b"));

        // The message handed out with the first Ready is not changed by a later proposal.
        var handedOut = Assert.Single(first.Messages);
        Assert.Equal(["a"], handedOut.Entries.Select(e => e.Data.ToStringUtf8()));
        c[2].Advance(first);
        var second = c[2].GetReady();
        Assert.Equal(["b"], Assert.Single(second.Messages).Entries.Select(e => e.Data.ToStringUtf8()));
        c[2].Advance(second);
    }

    [Fact]
    public void A_leader_deposed_before_its_next_Ready_sends_no_deferred_appends()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Delivered.Clear();

        c[1].Propose(ByteString.CopyFromUtf8("never-sent"));
        // A message from a higher term deposes the leader before the host asks for its Ready.
        c[1].Step(new Message { Type = MessageType.MsgHeartbeat, From = 2, To = 1, Term = c[1].Term + 1 });
        var ready = c[1].GetReady();

        Assert.Equal(RaftRole.Follower, c[1].Role);
        Assert.DoesNotContain(ready.Messages, m => m.Type == MessageType.MsgApp);
        c[1].Advance(ready);
    }
}
