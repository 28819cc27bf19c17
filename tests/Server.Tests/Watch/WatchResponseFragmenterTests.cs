using Coordination.Server.Watch;
using Etcdserverpb;
using Google.Protobuf;
using Mvccpb;

namespace Coordination.Server.Tests.Watch;

public class WatchResponseFragmenterTests
{
    private static WatchResponse Response(int events, int valueBytes)
    {
        var response = new WatchResponse { Header = new ResponseHeader { Revision = 9 }, WatchId = 3 };
        for (int i = 0; i < events; i++)
        {
            response.Events.Add(new Event { Kv = new KeyValue { Key = ByteString.CopyFromUtf8($"k{i}"), Value = ByteString.CopyFrom(new byte[valueBytes]), ModRevision = 9 } });
        }

        return response;
    }

    [Fact]
    public void A_response_under_the_limit_or_with_one_event_is_sent_whole()
    {
        WatchResponse small = Response(3, 10);
        Assert.Same(small, Assert.Single(WatchResponseFragmenter.Split(small, 1000)));
        WatchResponse single = Response(1, 5000);
        Assert.Same(single, Assert.Single(WatchResponseFragmenter.Split(single, 1000)));
    }

    [Fact]
    public void A_large_response_is_split_into_fragments_under_the_limit_that_concatenate_to_the_original()
    {
        WatchResponse large = Response(10, 300);
        List<WatchResponse> parts = WatchResponseFragmenter.Split(large, 1000).ToList();
        Assert.True(parts.Count > 1);
        Assert.All(parts[..^1], p => Assert.True(p.Fragment));
        Assert.False(parts[^1].Fragment);
        Assert.All(parts, p => Assert.True(p.CalculateSize() < 1000));
        Assert.All(parts, p => Assert.Equal((3L, 9L), (p.WatchId, p.Header.Revision)));
        Assert.Equal(large.Events, parts.SelectMany(p => p.Events));
    }
}
