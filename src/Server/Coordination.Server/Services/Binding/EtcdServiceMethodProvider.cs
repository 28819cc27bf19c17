using System.Reflection;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace Coordination.Server.Services.Binding;

/// <summary>
/// Discovers a service's gRPC methods from its generated <c>BindService</c>, as Grpc.AspNetCore's
/// default provider does, but binds each method with a request marshaller that reports an
/// undecodable message the way etcd (grpc-go) does: Internal, "grpc: error unmarshalling
/// request: ...". The default provider lets such a failure surface as Unknown, because the
/// request is decoded before any interceptor runs. Registered in place of the default provider
/// (see <see cref="EtcdServiceBinding"/>).
/// </summary>
internal sealed class EtcdServiceMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        var bindMethod = FindBindMethod(typeof(TService));
        if (bindMethod is null) return;
        bindMethod.Invoke(null, [new Binder(context), null]);
    }

    private static MethodInfo? FindBindMethod(Type serviceType)
    {
        for (var type = serviceType; type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>() is { } attribute)
            {
                return attribute.BindType.GetMethods(BindingFlags.Public | BindingFlags.Static)
                    .FirstOrDefault(m => m.Name == attribute.BindMethodName && m.GetParameters() is [var first, _] && first.ParameterType == typeof(ServiceBinderBase));
            }
        }
        return null;
    }

    /// <summary>Receives the generated method descriptors and adds them to the endpoint model.</summary>
    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Rebind(method), Metadata(method), Invoker<Grpc.AspNetCore.Server.Model.UnaryServerMethod<TService, TRequest, TResponse>>(method));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Rebind(method), Metadata(method), Invoker<Grpc.AspNetCore.Server.Model.ServerStreamingServerMethod<TService, TRequest, TResponse>>(method));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Rebind(method), Metadata(method), Invoker<Grpc.AspNetCore.Server.Model.ClientStreamingServerMethod<TService, TRequest, TResponse>>(method));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Rebind(method), Metadata(method), Invoker<Grpc.AspNetCore.Server.Model.DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method));

        private static Method<TRequest, TResponse> Rebind<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class where TResponse : class =>
            new(method.Type, method.ServiceName, method.Name, RequestMarshallers.ReportingUndecodable(method.RequestMarshaller), method.ResponseMarshaller);

        /// <summary>The service class's override of the generated base method, as an open-instance delegate.</summary>
        private static TDelegate Invoker<TDelegate>(IMethod method) where TDelegate : Delegate
        {
            var parameters = typeof(TDelegate).GetMethod("Invoke")!.GetParameters().Skip(1).Select(p => p.ParameterType).ToArray();
            var target = typeof(TService).GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance, parameters)
                ?? throw new InvalidOperationException($"{typeof(TService).Name} has no method {method.Name}");
            return target.CreateDelegate<TDelegate>();
        }

        private static List<object> Metadata(IMethod method)
        {
            var metadata = new List<object>(typeof(TService).GetCustomAttributes(inherit: true));
            var parameters = typeof(TService).GetMethods(BindingFlags.Public | BindingFlags.Instance).FirstOrDefault(m => m.Name == method.Name);
            if (parameters is not null) metadata.AddRange(parameters.GetCustomAttributes(inherit: true));
            return metadata;
        }
    }
}
