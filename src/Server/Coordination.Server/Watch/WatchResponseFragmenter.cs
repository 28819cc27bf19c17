using Etcdserverpb;

namespace Coordination.Server.Watch;

/// <summary>
/// Splits a watch response that is too large into fragments as etcd does for watchers created
/// with fragment=true: only responses of at least <c>limit</c> bytes with two or more events are
/// split; each fragment repeats header and id, holds whole events, and all but the last carry
/// fragment=true.
/// </summary>
internal static class WatchResponseFragmenter
{
    /// <summary>The messages to send for <paramref name="response"/>.</summary>
    public static IEnumerable<WatchResponse> Split(WatchResponse response, int limit)
    {
        if (response.Events.Count < 2 || response.CalculateSize() < limit)
        {
            yield return response;
            yield break;
        }

        int next = 0;
        while (next < response.Events.Count)
        {
            var fragment = new WatchResponse { Header = response.Header, WatchId = response.WatchId, Fragment = true };
            int size = fragment.CalculateSize();
            while (next < response.Events.Count)
            {
                // An event's cost inside the message: tag byte + length prefix + body.
                int eventSize = response.Events[next].CalculateSize();
                int cost = 1 + Google.Protobuf.CodedOutputStream.ComputeLengthSize(eventSize) + eventSize;
                if (fragment.Events.Count > 0 && size + cost >= limit)
                {
                    break;
                }

                fragment.Events.Add(response.Events[next]);
                size += cost;
                next++;
            }

            fragment.Fragment = next < response.Events.Count;
            yield return fragment;
        }
    }
}
