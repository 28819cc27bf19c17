using Coordination.Client.Tests.Fixtures;
using Coordination.Docs;

namespace Coordination.Client.Tests.Unit;

[Collection(EtcdCollection.Name)]
public sealed class QuickStartTests(EtcdTarget etcd)
{
    [Fact]
    public async Task The_documented_quick_start_runs_against_etcd()
    {
        using var output = new StringWriter();

        await QuickStart.RunAsync(string.Join(',', etcd.Endpoints), output, TestContext.Current.CancellationToken);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("color = blue", lines[0]);
        Assert.Contains(lines[1], new[] { "owner claimed", "owner already set" });
        Assert.Equal("Put /app/config/color = green", lines[2]);
    }
}
