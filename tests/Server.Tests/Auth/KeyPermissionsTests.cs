using Authpb;
using Coordination.Server.Auth;
using Google.Protobuf;
using PermType = Authpb.Permission.Types.Type;

namespace Coordination.Server.Tests.Auth;

public sealed class KeyPermissionsTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static Permission P(PermType type, string key, string end = "") => new() { PermType = type, Key = B(key), RangeEnd = B(end) };

    private static bool Covers(PermType needed, string key, string end, params Permission[] granted) => KeyPermissions.Covers(granted, needed, B(key), B(end));

    [Fact]
    public void A_single_key_permission_covers_that_key_only()
    {
        Assert.True(Covers(PermType.Read, "a", "", P(PermType.Read, "a")));
        Assert.False(Covers(PermType.Read, "ab", "", P(PermType.Read, "a")));
        Assert.False(Covers(PermType.Read, "a", "b", P(PermType.Read, "a")));
    }

    [Fact]
    public void A_range_must_be_covered_by_the_union_of_granted_ranges()
    {
        Assert.True(Covers(PermType.Read, "b", "f", P(PermType.Read, "a", "d"), P(PermType.Read, "d", "g")));
        Assert.False(Covers(PermType.Read, "b", "f", P(PermType.Read, "a", "c"), P(PermType.Read, "d", "g")));
        Assert.True(Covers(PermType.Read, "b", "f", P(PermType.Read, "a", "c"), P(PermType.Read, "c", "z")));
    }

    [Fact]
    public void A_range_end_of_zero_byte_means_to_the_end_of_the_key_space()
    {
        var toTheEnd = new Permission { PermType = PermType.Read, Key = B("m"), RangeEnd = ByteString.CopyFrom(0) };
        Assert.True(KeyPermissions.Covers([toTheEnd], PermType.Read, B("x"), ByteString.CopyFrom(0)));
        Assert.False(KeyPermissions.Covers([toTheEnd], PermType.Read, B("a"), ByteString.CopyFrom(0)));
        Assert.False(KeyPermissions.Covers([P(PermType.Read, "m", "y")], PermType.Read, B("x"), ByteString.CopyFrom(0)));
    }

    [Fact]
    public void Readwrite_counts_for_both_and_the_other_type_for_neither()
    {
        Assert.True(Covers(PermType.Write, "k", "", P(PermType.Readwrite, "k")));
        Assert.True(Covers(PermType.Read, "k", "", P(PermType.Readwrite, "k")));
        Assert.False(Covers(PermType.Write, "k", "", P(PermType.Read, "k")));
        Assert.False(Covers(PermType.Read, "k", "", P(PermType.Write, "k")));
    }
}
