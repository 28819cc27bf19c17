using Coordination.Server.Storage.Snapshots;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Server.Tests.Storage.Snapshots;

/// <summary>The snapshot writer rests between chunks so that it takes a set share of a core.</summary>
public sealed class WritePacerTests
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(2);
    private readonly FakeTimeProvider _time = new();
    private readonly List<TimeSpan> _rests = [];

    private WritePacer Pacer(double share) => new(_time, Slice, share, _rests.Add);

    [Fact]
    public void Work_shorter_than_a_slice_goes_on_without_rest()
    {
        var pacer = Pacer(0.25);
        _time.Advance(TimeSpan.FromMilliseconds(1.9));
        pacer.Pace();

        Assert.Empty(_rests);
        Assert.Equal(TimeSpan.Zero, pacer.Rested);
    }

    [Fact]
    public void After_a_slice_of_work_a_quarter_share_rests_three_times_as_long_and_starts_a_new_slice()
    {
        var pacer = Pacer(0.25);
        _time.Advance(TimeSpan.FromMilliseconds(2.5));
        pacer.Pace();
        Assert.Equal([TimeSpan.FromMilliseconds(7.5)], _rests);

        // The slice restarted at the rest: another 1.5 ms of work is not yet a slice.
        _time.Advance(TimeSpan.FromMilliseconds(1.5));
        pacer.Pace();
        Assert.Single(_rests);

        _time.Advance(TimeSpan.FromMilliseconds(0.5));
        pacer.Pace();
        Assert.Equal([TimeSpan.FromMilliseconds(7.5), TimeSpan.FromMilliseconds(6)], _rests);
        Assert.Equal(TimeSpan.FromMilliseconds(13.5), pacer.Rested);
    }

    [Fact]
    public void A_whole_core_never_rests()
    {
        var pacer = Pacer(1);
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(10));
            pacer.Pace();
        }

        Assert.Empty(_rests);
    }

    [Fact]
    public void A_long_gap_counts_as_four_slices_at_most()
    {
        var pacer = Pacer(0.5);
        _time.Advance(TimeSpan.FromSeconds(10));
        pacer.Pace();

        Assert.Equal([TimeSpan.FromMilliseconds(8)], _rests);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void A_share_outside_zero_to_one_is_refused(double share) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Pacer(share));

    [Fact]
    public void A_slice_must_be_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new WritePacer(_time, TimeSpan.Zero, 0.5));
}
