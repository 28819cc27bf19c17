using System.Net.Http;
using Coordination.Client.Errors;
using Grpc.Core;

namespace Coordination.Client.Tests.Unit;

public sealed class ErrorMapperTests
{
    [Theory]
    [InlineData(StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted", typeof(EtcdCompactedException))]
    [InlineData(StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision", typeof(EtcdFutureRevisionException))]
    [InlineData(StatusCode.NotFound, "etcdserver: requested lease not found", typeof(EtcdLeaseNotFoundException))]
    [InlineData(StatusCode.Unavailable, "etcdserver: no leader", typeof(EtcdClusterUnavailableException))]
    [InlineData(StatusCode.Unavailable, "etcdserver: request timed out", typeof(EtcdClusterUnavailableException))]
    [InlineData(StatusCode.Unavailable, "etcdserver: request timed out, possibly due to previous leader failure", typeof(EtcdClusterUnavailableException))]
    [InlineData(StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password", typeof(EtcdAuthenticationFailedException))]
    [InlineData(StatusCode.Unauthenticated, "etcdserver: invalid auth token", typeof(EtcdInvalidAuthTokenException))]
    [InlineData(StatusCode.InvalidArgument, "etcdserver: revision of auth store is old", typeof(EtcdInvalidAuthTokenException))]
    [InlineData(StatusCode.PermissionDenied, "etcdserver: permission denied", typeof(EtcdPermissionDeniedException))]
    [InlineData(StatusCode.InvalidArgument, "etcdserver: user name is empty", typeof(EtcdPermissionDeniedException))]
    [InlineData(StatusCode.InvalidArgument, "etcdserver: request is too large", typeof(EtcdRequestTooLargeException))]
    [InlineData(StatusCode.ResourceExhausted, "grpc: received message larger than max (5 vs. 4)", typeof(EtcdRequestTooLargeException))]
    [InlineData(StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded", typeof(EtcdNoSpaceException))]
    [InlineData(StatusCode.InvalidArgument, "etcdserver: key is not provided", typeof(EtcdInvalidRequestException))]
    [InlineData(StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request", typeof(EtcdInvalidRequestException))]
    [InlineData(StatusCode.NotFound, "etcdserver: member not found", typeof(EtcdMembershipException))]
    [InlineData(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member", typeof(EtcdMembershipException))]
    [InlineData(StatusCode.FailedPrecondition, "etcdserver: root user does not exist", typeof(EtcdAuthManagementException))]
    [InlineData(StatusCode.FailedPrecondition, "etcdserver: authentication is not enabled", typeof(EtcdAuthManagementException))]
    [InlineData(StatusCode.Unavailable, "Error connecting to subchannel.", typeof(EtcdEndpointUnavailableException))]
    [InlineData(StatusCode.FailedPrecondition, "etcdserver: something new", typeof(EtcdException))]
    public void Maps_code_and_message_to_the_typed_error(StatusCode code, string message, Type expected)
    {
        var mapped = ErrorMapper.Map(new RpcException(new Status(code, message)));

        Assert.Equal(expected, mapped.GetType());
        Assert.Equal(message, mapped.Message);
        Assert.Equal(code, mapped.StatusCode);
    }

    [Fact]
    public void Only_a_connection_that_was_never_established_counts_as_never_sent()
    {
        var refused = new RpcException(new Status(StatusCode.Unavailable, "connect failed",
            new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused")));
        var broken = new RpcException(new Status(StatusCode.Unavailable, "response ended",
            new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely")));
        var tls = new RpcException(new Status(StatusCode.Internal, "Error starting gRPC call.",
            new HttpRequestException(HttpRequestError.SecureConnectionError, "The SSL connection could not be established")));
        var bare = new RpcException(new Status(StatusCode.Unavailable, "unavailable"));
        var timeout = new RpcException(new Status(StatusCode.DeadlineExceeded, "deadline",
            new HttpRequestException(HttpRequestError.ConnectionError, "would not matter")));

        Assert.True(ErrorMapper.NeverSent(refused));
        Assert.True(ErrorMapper.NeverSent(tls));
        Assert.IsType<EtcdEndpointUnavailableException>(ErrorMapper.Map(tls));
        Assert.False(ErrorMapper.NeverSent(broken));
        Assert.False(ErrorMapper.NeverSent(bare));
        Assert.False(ErrorMapper.NeverSent(timeout));
    }
}
