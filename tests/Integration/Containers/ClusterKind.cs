namespace Coordination.Integration.Tests.Containers;

/// <summary>Which server a container cluster runs.</summary>
public enum ClusterKind
{
    /// <summary>Our server (image <see cref="TestImages.Server"/>).</summary>
    Coordination,

    /// <summary>A real etcd 3.4, the reference (image <see cref="TestImages.Etcd"/>).</summary>
    Etcd,
}
