using Grpc.Core;

namespace Coordination.Server.Errors;

/// <summary>etcd's error catalogue: the code and message pairs its clients depend on.</summary>
internal static class EtcdErrors
{
    // KV
    public static readonly EtcdError EmptyKey = new(StatusCode.InvalidArgument, "etcdserver: key is not provided");
    public static readonly EtcdError KeyNotFound = new(StatusCode.InvalidArgument, "etcdserver: key not found");
    public static readonly EtcdError ValueProvided = new(StatusCode.InvalidArgument, "etcdserver: value is provided");
    public static readonly EtcdError LeaseProvided = new(StatusCode.InvalidArgument, "etcdserver: lease is provided");
    public static readonly EtcdError TooManyOps = new(StatusCode.InvalidArgument, "etcdserver: too many operations in txn request");
    public static readonly EtcdError DuplicateKey = new(StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request");
    public static readonly EtcdError InvalidSortOption = new(StatusCode.InvalidArgument, "etcdserver: invalid sort option");
    public static readonly EtcdError Compacted = new(StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted");
    public static readonly EtcdError FutureRevision = new(StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision");
    public static readonly EtcdError NoSpace = new(StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded");

    // Lease
    public static readonly EtcdError LeaseNotFound = new(StatusCode.NotFound, "etcdserver: requested lease not found");
    public static readonly EtcdError LeaseExists = new(StatusCode.FailedPrecondition, "etcdserver: lease already exists");
    public static readonly EtcdError LeaseTtlTooLarge = new(StatusCode.OutOfRange, "etcdserver: too large lease TTL");

    // Membership
    public static readonly EtcdError MemberExists = new(StatusCode.FailedPrecondition, "etcdserver: member ID already exist");
    public static readonly EtcdError PeerUrlExists = new(StatusCode.FailedPrecondition, "etcdserver: Peer URLs already exists");
    public static readonly EtcdError MemberBadUrls = new(StatusCode.InvalidArgument, "etcdserver: given member URLs are invalid");
    public static readonly EtcdError MemberNotFound = new(StatusCode.NotFound, "etcdserver: member not found");
    public static readonly EtcdError MemberNotLearner = new(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member");
    public static readonly EtcdError LearnerNotReady = new(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member which is in sync with leader");
    public static readonly EtcdError NotEnoughStartedMembers = new(StatusCode.FailedPrecondition, "etcdserver: re-configuration failed due to not enough started members");
    public static readonly EtcdError TooManyLearners = new(StatusCode.FailedPrecondition, "etcdserver: too many learner members in cluster");

    // Request handling
    public static readonly EtcdError RequestTooLarge = new(StatusCode.InvalidArgument, "etcdserver: request is too large");
    public static readonly EtcdError TooManyRequests = new(StatusCode.ResourceExhausted, "etcdserver: too many requests");

    // Auth
    public static readonly EtcdError RootUserNotExist = new(StatusCode.FailedPrecondition, "etcdserver: root user does not exist");
    public static readonly EtcdError RootRoleNotExist = new(StatusCode.FailedPrecondition, "etcdserver: root user does not have root role");
    public static readonly EtcdError UserAlreadyExist = new(StatusCode.FailedPrecondition, "etcdserver: user name already exists");
    public static readonly EtcdError UserEmpty = new(StatusCode.InvalidArgument, "etcdserver: user name is empty");
    public static readonly EtcdError UserNotFound = new(StatusCode.FailedPrecondition, "etcdserver: user name not found");
    public static readonly EtcdError RoleAlreadyExist = new(StatusCode.FailedPrecondition, "etcdserver: role name already exists");
    public static readonly EtcdError RoleNotFound = new(StatusCode.FailedPrecondition, "etcdserver: role name not found");
    public static readonly EtcdError RoleEmpty = new(StatusCode.InvalidArgument, "etcdserver: role name is empty");
    public static readonly EtcdError AuthFailed = new(StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password");
    public static readonly EtcdError PermissionNotGiven = new(StatusCode.InvalidArgument, "etcdserver: permission not given");
    public static readonly EtcdError PermissionDenied = new(StatusCode.PermissionDenied, "etcdserver: permission denied");
    public static readonly EtcdError RoleNotGranted = new(StatusCode.FailedPrecondition, "etcdserver: role is not granted to the user");
    public static readonly EtcdError PermissionNotGranted = new(StatusCode.FailedPrecondition, "etcdserver: permission is not granted to the role");
    public static readonly EtcdError AuthNotEnabled = new(StatusCode.FailedPrecondition, "etcdserver: authentication is not enabled");
    public static readonly EtcdError InvalidAuthToken = new(StatusCode.Unauthenticated, "etcdserver: invalid auth token");
    public static readonly EtcdError InvalidAuthManagement = new(StatusCode.InvalidArgument, "etcdserver: invalid auth management");
    public static readonly EtcdError AuthOldRevision = new(StatusCode.InvalidArgument, "etcdserver: revision of auth store is old");

    // Cluster state
    public static readonly EtcdError NoLeader = new(StatusCode.Unavailable, "etcdserver: no leader");
    public static readonly EtcdError NotLeader = new(StatusCode.FailedPrecondition, "etcdserver: not leader");
    public static readonly EtcdError LeaderChanged = new(StatusCode.Unavailable, "etcdserver: leader changed");
    public static readonly EtcdError NotCapable = new(StatusCode.Unavailable, "etcdserver: not capable");
    public static readonly EtcdError Stopped = new(StatusCode.Unavailable, "etcdserver: server stopped");
    public static readonly EtcdError Timeout = new(StatusCode.Unavailable, "etcdserver: request timed out");
    public static readonly EtcdError Unhealthy = new(StatusCode.Unavailable, "etcdserver: unhealthy cluster");
    public static readonly EtcdError Corrupt = new(StatusCode.DataLoss, "etcdserver: corrupt cluster");
    public static readonly EtcdError NotSupportedForLearner = new(StatusCode.Unavailable, "etcdserver: rpc not supported for learner");
    public static readonly EtcdError LeaderTransferTimeout = new(StatusCode.DeadlineExceeded, "etcdserver: request timed out, leader transfer took too long");
    public static readonly EtcdError BadLeaderTransferee = new(StatusCode.FailedPrecondition, "etcdserver: bad leader transferee");

    // Context
    public static readonly EtcdError Canceled = new(StatusCode.Cancelled, "etcdserver: request canceled");
    public static readonly EtcdError DeadlineExceeded = new(StatusCode.DeadlineExceeded, "etcdserver: context deadline exceeded");
}
