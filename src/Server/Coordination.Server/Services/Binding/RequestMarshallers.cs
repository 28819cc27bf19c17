using Google.Protobuf;
using Grpc.Core;

namespace Coordination.Server.Services.Binding;

/// <summary>Request marshallers with etcd's (grpc-go's) answer to a message that cannot be decoded.</summary>
internal static class RequestMarshallers
{
    /// <summary>etcd's prefix for a request body that is not a valid message of the method's type.</summary>
    public const string UnmarshalErrorPrefix = "grpc: error unmarshalling request: ";

    /// <summary>Wraps <paramref name="inner"/> so a decoding failure becomes Internal with etcd's message.</summary>
    public static Marshaller<T> ReportingUndecodable<T>(Marshaller<T> inner) => Marshallers.Create(
        inner.ContextualSerializer,
        context =>
        {
            try
            {
                return inner.ContextualDeserializer(context);
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw new RpcException(new Status(StatusCode.Internal, UnmarshalErrorPrefix + ex.Message));
            }
        });
}
