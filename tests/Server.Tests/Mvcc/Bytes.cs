using Google.Protobuf;

namespace Coordination.Server.Tests.Mvcc;

/// <summary>Short helpers for byte-string keys and values in tests.</summary>
internal static class Bytes
{
    public static ByteString B(string text) => ByteString.CopyFromUtf8(text);

    public static string S(ByteString bytes) => bytes.ToStringUtf8();
}
