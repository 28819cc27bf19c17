using Coordination.Server.Hosting;

namespace Coordination.Server.Tests.Hosting;

public class WatchProgressIntervalFlagTests
{
    [Fact]
    public void The_default_is_etcds_ten_minutes()
    {
        Assert.Equal(TimeSpan.FromMinutes(10), CommandLine.Parse([], new Dictionary<string, string>()).WatchProgressNotifyInterval);
    }

    [Theory]
    [InlineData("5s", 5_000)]
    [InlineData("250ms", 250)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5h", 5_400_000)]
    public void The_flag_takes_go_durations(string value, long milliseconds)
    {
        var o = CommandLine.Parse(["--experimental-watch-progress-notify-interval", value], new Dictionary<string, string>());
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), o.WatchProgressNotifyInterval);
    }

    [Fact]
    public void The_environment_variable_works_and_the_flag_wins()
    {
        var env = new Dictionary<string, string> { ["ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL"] = "2s" };
        Assert.Equal(TimeSpan.FromSeconds(2), CommandLine.Parse([], env).WatchProgressNotifyInterval);
        Assert.Equal(TimeSpan.FromSeconds(3), CommandLine.Parse(["--experimental-watch-progress-notify-interval=3s"], env).WatchProgressNotifyInterval);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("abc")]
    [InlineData("5x")]
    [InlineData("0s")]
    public void Bad_durations_are_refused(string value)
    {
        var error = Assert.Throws<ArgumentException>(() => CommandLine.Parse(["--experimental-watch-progress-notify-interval", value], new Dictionary<string, string>()));
        Assert.Contains("experimental-watch-progress-notify-interval", error.Message, StringComparison.Ordinal);
    }
}
