using Etcdserverpb;

namespace Coordination.Server.Watch;

/// <summary>
/// One response waiting in a stream's buffer. <see cref="Buffered"/> responses (events) count
/// against the stream's bound; control responses (created, canceled, progress) answer one client
/// request or tick each and do not.
/// </summary>
/// <param name="Response">The response; its header holds the revision only, the service stamps the rest.</param>
/// <param name="Buffered">True for an event response counted against the bound.</param>
/// <param name="Fragment">True when the watcher asked for large responses to be fragmented.</param>
internal readonly record struct WatchOutbound(WatchResponse Response, bool Buffered, bool Fragment);
