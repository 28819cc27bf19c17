using Coordination.Server.Hosting;

namespace Coordination.Server.Tests.Hosting;

public class GrpcMethodGateTests
{
    private readonly GrpcMethodGate _gate = GrpcMethodGate.ForEtcdApi();

    [Theory]
    [InlineData("/etcdserverpb.KV/Put")]
    [InlineData("/etcdserverpb.Maintenance/HashKV")]
    [InlineData("/v3lockpb.Lock/Lock")]
    [InlineData("/v3electionpb.Election/Observe")]
    public void Known_methods_pass(string path) => Assert.Null(_gate.Refusal(path));

    [Theory]
    [InlineData("/etcdserverpb.kv/Put", "unknown service etcdserverpb.kv")]
    [InlineData("/nosuch.Service/Call", "unknown service nosuch.Service")]
    [InlineData("/etcdserverpb.KV/NoSuchMethod", "unknown method NoSuchMethod for service etcdserverpb.KV")]
    [InlineData("/etcdserverpb.KV/put", "unknown method put for service etcdserverpb.KV")]
    public void Unknown_paths_are_refused_with_etcds_wording(string path, string reason) => Assert.Equal(reason, _gate.Refusal(path));
}
