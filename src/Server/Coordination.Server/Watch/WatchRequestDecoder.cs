using Coordination.Server.Mvcc;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Watch;

/// <summary>Turns a WatchCreateRequest into a key range and options, with etcd's normalisation and checks.</summary>
internal static class WatchRequestDecoder
{
    private static readonly ByteString ZeroByte = ByteString.CopyFrom(0);

    /// <summary>
    /// Decodes the request; returns the cancel_reason when the create must fail, else null.
    /// An empty key means <c>"\0"</c>; range_end follows the Range conventions; a non-empty
    /// range_end at or below the key is an empty range.
    /// </summary>
    public static string? TryDecode(WatchCreateRequest request, out KeyRange range, out WatcherOptions options)
    {
        ByteString key = request.Key.IsEmpty ? ZeroByte : request.Key;
        range = KeyRange.FromRequest(key, request.RangeEnd);
        options = WatcherOptions.None;
        foreach (WatchCreateRequest.Types.FilterType filter in request.Filters)
        {
            options |= filter switch
            {
                WatchCreateRequest.Types.FilterType.Noput => WatcherOptions.NoPut,
                WatchCreateRequest.Types.FilterType.Nodelete => WatcherOptions.NoDelete,
                _ => WatcherOptions.None,
            };
        }

        if (request.PrevKv) options |= WatcherOptions.PrevKv;
        if (request.ProgressNotify) options |= WatcherOptions.ProgressNotify;
        if (request.Fragment) options |= WatcherOptions.Fragment;

        if (range.End is { } end && KeyComparer.Compare(key, end) >= 0)
        {
            return WatchCancelReasons.EmptyRange;
        }

        return request.StartRevision < 0 ? WatchCancelReasons.NegativeStartRevision : null;
    }
}
