using Coordination.Compatibility.Tests.Fixtures;

namespace Coordination.Compatibility.Tests;

/// <summary>The normalizer must hide only what legitimately differs, never revisions or data.</summary>
public sealed class JsonNormalizerTests
{
    private static JsonNormalizer Create() => new([("/tmp/x", "{dir}"), ("http://127.0.0.1:5000", "<endpoint>")]);

    [Fact]
    public void Ids_are_replaced_but_revisions_and_data_are_kept()
    {
        const string a = """{"header":{"cluster_id":15118495548433857066,"member_id":13668033151171901709,"revision":3,"raft_term":2},"kvs":[{"key":"Zm9v","create_revision":2,"mod_revision":3,"version":2,"value":"YmF6","lease":7587}],"count":1}""";
        const string b = """{"header":{"cluster_id":1,"member_id":2,"revision":3,"raft_term":5},"kvs":[{"key":"Zm9v","create_revision":2,"mod_revision":3,"version":2,"value":"YmF6","lease":99}],"count":1}""";
        Assert.Equal(Create().NormalizeStdout(a), Create().NormalizeStdout(b));

        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(a.Replace("\"revision\":3", "\"revision\":4", StringComparison.Ordinal)));
        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(a.Replace("\"version\":2", "\"version\":1", StringComparison.Ordinal)));
        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(a.Replace("YmF6", "YmF5", StringComparison.Ordinal)));
        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(a.Replace(",\"lease\":7587", "", StringComparison.Ordinal)));
        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(a.Replace("\"cluster_id\":15118495548433857066,", "", StringComparison.Ordinal)));
        Assert.Contains("\"key\": \"foo\"", Create().NormalizeStdout(a), StringComparison.Ordinal);
    }

    [Fact]
    public void Lease_ids_map_in_order_of_appearance_across_calls_and_formats()
    {
        var left = Create();
        var right = Create();
        Assert.Equal(left.NormalizeStdout("""{"ID":100,"TTL":10}"""), right.NormalizeStdout("""{"ID":555,"TTL":10}"""));
        Assert.Equal(left.NormalizeStdout("""{"ID":200,"TTL":10}"""), right.NormalizeStdout("""{"ID":777,"TTL":10}"""));
        // 100 = 0x64 was the first lease on the left, 555 = 0x22b on the right.
        Assert.Equal(left.NormalizeText("lease 64 revoked"), right.NormalizeText("lease 22b revoked"));
        Assert.NotEqual(left.NormalizeText("lease 64 revoked"), right.NormalizeText("lease 309 revoked")); // 0x309 = 777, the second
    }

    [Fact]
    public void Status_keeps_leader_identity_and_hides_build_and_storage_details()
    {
        const string a = """[{"Endpoint":"http://127.0.0.1:5000","Status":{"header":{"cluster_id":1,"member_id":42,"revision":1,"raft_term":2},"version":"3.4.23","dbSize":20480,"leader":42,"raftIndex":4,"raftTerm":2,"raftAppliedIndex":4,"dbSizeInUse":16384}}]""";
        const string b = """[{"Endpoint":"http://127.0.0.1:5000","Status":{"header":{"cluster_id":9,"member_id":7,"revision":1,"raft_term":1},"version":"0.1.0","dbSize":4096,"leader":7,"raftIndex":9,"raftTerm":1,"raftAppliedIndex":9,"dbSizeInUse":100}}]""";
        const string noLeader = """[{"Endpoint":"http://127.0.0.1:5000","Status":{"header":{"cluster_id":9,"member_id":7,"revision":1,"raft_term":1},"version":"0.1.0","dbSize":4096,"leader":8,"raftIndex":9,"raftTerm":1,"raftAppliedIndex":9,"dbSizeInUse":100}}]""";
        Assert.Equal(Create().NormalizeStdout(a), Create().NormalizeStdout(b));
        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(noLeader));
    }

    [Fact]
    public void Stderr_keeps_the_error_and_grpc_status_only()
    {
        const string stderr = """
            {"level":"warn","ts":"2026-11-24T05:51:26.864Z","caller":"clientv3/retry_interceptor.go:62","msg":"retrying of unary invoker failed","target":"endpoint://client-e341f6c5/127.0.0.1:5000","attempt":0,"error":"rpc error: code = InvalidArgument desc = etcdserver: key is not provided"}
            Error: etcdserver: key is not provided
            """;
        Assert.Equal(
            "[grpc] code = InvalidArgument desc = etcdserver: key is not provided\nError: etcdserver: key is not provided",
            Create().NormalizeStderr(stderr));
    }

    [Fact]
    public void Non_json_output_is_normalized_as_text()
    {
        Assert.Equal("Snapshot saved at {dir}/snap.db", Create().NormalizeStdout("Snapshot saved at /tmp/x/snap.db\n"));
        Assert.Equal("<endpoint>, <hash>", Create().NormalizeStdout("http://127.0.0.1:5000, 1632500635\n"));
    }
    // ------------------------------------------------------------------ leases

    [Fact]
    public void Remaining_ttl_is_compared_with_tolerance_and_lease_lists_and_keys_as_sets()
    {
        const string a = """{"cluster_id":1,"member_id":2,"revision":3,"raft_term":2,"id":100,"ttl":59,"granted-ttl":60,"keys":["YQ==","Yg=="]}""";
        const string b = """{"cluster_id":9,"member_id":8,"revision":3,"raft_term":1,"id":555,"ttl":60,"granted-ttl":60,"keys":["Yg==","YQ=="]}""";
        Assert.Equal(Create().NormalizeStdout(a), Create().NormalizeStdout(b));
        // Negative controls: what must still differ.
        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(b.Replace("\"ttl\":60", "\"ttl\":50", StringComparison.Ordinal)));
        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(b.Replace("\"ttl\":60", "\"ttl\":-1", StringComparison.Ordinal)));
        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(b.Replace("\"granted-ttl\":60", "\"granted-ttl\":61", StringComparison.Ordinal)));
        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(b.Replace("\"Yg==\",", "", StringComparison.Ordinal)));
        Assert.NotEqual(Create().NormalizeStdout(a), Create().NormalizeStdout(b.Replace("\"revision\":3", "\"revision\":4", StringComparison.Ordinal)));

        Assert.Equal(
            Create().NormalizeText("lease 64 granted with TTL(30s), remaining(28s), attached keys([a])"),
            Create().NormalizeText("lease 22b granted with TTL(30s), remaining(30s), attached keys([a])"));
        Assert.NotEqual(
            Create().NormalizeText("lease 64 granted with TTL(30s), remaining(28s), attached keys([a])"),
            Create().NormalizeText("lease 22b granted with TTL(30s), remaining(2s), attached keys([a])"));
        Assert.Equal(
            Create().NormalizeText("lease 64 granted with TTL(30s), remaining(28s), attached keys([k2 k1])"),
            Create().NormalizeText("lease 22b granted with TTL(30s), remaining(30s), attached keys([k1 k2])"));
        Assert.NotEqual(
            Create().NormalizeText("lease 64 granted with TTL(30s), remaining(28s), attached keys([k2 k1])"),
            Create().NormalizeText("lease 22b granted with TTL(30s), remaining(30s), attached keys([k1])"));
    }

    [Fact]
    public void Lease_lists_compare_as_sets_of_known_leases()
    {
        var left = Create();
        var right = Create();
        Assert.Equal(left.NormalizeStdout("""{"ID":1,"TTL":60}{"ID":2,"TTL":60}"""), right.NormalizeStdout("""{"ID":7,"TTL":60}{"ID":8,"TTL":60}"""));
        Assert.Equal(
            left.NormalizeStdout("""{"cluster_id":1,"member_id":2,"revision":1,"raft_term":2,"leases":[{"id":2},{"id":1}]}"""),
            right.NormalizeStdout("""{"cluster_id":1,"member_id":2,"revision":1,"raft_term":2,"leases":[{"id":7},{"id":8}]}"""));
        Assert.NotEqual(
            Create().NormalizeStdout("""{"leases":[{"id":2},{"id":1}]}"""),
            Create().NormalizeStdout("""{"leases":[{"id":7}]}"""));
    }
}
