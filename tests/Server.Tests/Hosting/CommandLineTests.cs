using Coordination.Server.Hosting;

namespace Coordination.Server.Tests.Hosting;

public class CommandLineTests
{
    private static readonly Dictionary<string, string> NoEnvironment = new();

    [Fact]
    public void Defaults_match_etcd()
    {
        var o = CommandLine.Parse([], NoEnvironment);
        Assert.Equal("default", o.Name);
        Assert.Equal(1572864, o.MaxRequestBytes);
        Assert.Equal(128, o.MaxTxnOps);
        Assert.Equal(2L * 1024 * 1024 * 1024, o.EffectiveQuotaBytes);
        Assert.Equal(new Uri("http://127.0.0.1:2379"), Assert.Single(o.ListenClientUrls));
        Assert.Equal(1572864 + 512 * 1024, o.MaxReceiveMessageBytes);
    }

    [Fact]
    public void Flags_accept_both_spellings_and_override_the_environment()
    {
        var env = new Dictionary<string, string> { ["ETCD_NAME"] = "from-env", ["ETCD_MAX_TXN_OPS"] = "7", ["ETCD_DATA_DIR"] = "/env" };
        var o = CommandLine.Parse(["--name=n1", "--data-dir", "/flag", "--listen-client-urls", "http://127.0.0.1:1,http://127.0.0.1:2"], env);
        Assert.Equal("n1", o.Name);
        Assert.Equal("/flag", o.DataDir);
        Assert.Equal(7, o.MaxTxnOps);
        Assert.Equal(2, o.ListenClientUrls.Count);
        Assert.Equal(o.ListenClientUrls, o.AdvertiseClientUrls);
    }

    [Fact]
    public void Strict_reconfig_check_is_on_by_default_and_a_boolean_flag_as_in_go()
    {
        Assert.True(CommandLine.Parse([], NoEnvironment).StrictReconfigCheck);
        Assert.False(CommandLine.Parse(["--strict-reconfig-check=false"], NoEnvironment).StrictReconfigCheck);
        Assert.False(CommandLine.Parse([], new Dictionary<string, string> { ["ETCD_STRICT_RECONFIG_CHECK"] = "0" }).StrictReconfigCheck);
        // Bare, it takes no argument: the next flag is read as a flag.
        var bare = CommandLine.Parse(["--strict-reconfig-check", "--name", "n1"], NoEnvironment);
        Assert.True(bare.StrictReconfigCheck);
        Assert.Equal("n1", bare.Name);
        Assert.Contains("strict-reconfig-check", Assert.Throws<ArgumentException>(() => CommandLine.Parse(["--strict-reconfig-check=maybe"], NoEnvironment)).Message);
    }

    [Fact]
    public void Initial_cluster_is_parsed_into_members()
    {
        var o = CommandLine.Parse(["--initial-cluster", "a=http://127.0.0.1:2380,b=http://127.0.0.1:2381", "--initial-cluster-state", "existing"], NoEnvironment);
        Assert.Equal(["a", "b"], o.InitialCluster.Select(m => m.Name));
        Assert.Equal("existing", o.InitialClusterState);
    }

    [Theory]
    [InlineData("--no-such-flag", "x", "unknown flag")]
    [InlineData("--initial-cluster-state", "maybe", "initial-cluster-state")]
    [InlineData("--listen-client-urls", "not a url", "invalid URL")]
    [InlineData("--max-txn-ops", "-1", "max-txn-ops")]
    [InlineData("--auto-compaction-retention", "1 fortnight", "auto-compaction-retention")]
    public void Invalid_flags_are_refused_with_a_message_naming_the_problem(string flag, string value, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => CommandLine.Parse([flag, value], NoEnvironment));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("periodic", "1", 3600)]
    [InlineData("periodic", "30m", 1800)]
    [InlineData("periodic", "1h30m", 5400)]
    [InlineData("periodic", "0", 0)]
    public void Periodic_retention_reads_hours_or_go_durations(string mode, string retention, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), AutoCompaction.ParseRetention(mode, retention).Period);
    }

    [Fact]
    public void Revision_retention_is_a_count()
    {
        var a = AutoCompaction.ParseRetention("revision", "1000");
        Assert.True(a.Enabled);
        Assert.Equal(1000, a.Revisions);
    }
}
