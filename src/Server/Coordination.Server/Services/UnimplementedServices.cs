namespace Coordination.Server.Services;

/// <summary>
/// Services registered so their methods exist on the wire but not implemented yet: every call
/// answers gRPC Unimplemented (the generated base classes' behaviour) until its issue lands.
/// </summary>
internal static class UnimplementedServices
{
    internal sealed class Auth : Etcdserverpb.Auth.AuthBase;
}
