using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Coordination.Client.Transport;

/// <summary>Builds one <see cref="GrpcChannel"/> per endpoint: HTTP/2 keep-alive pings, connect timeout, TLS with an optional private CA and client certificate.</summary>
internal sealed class ChannelFactory(CoordinationClientOptions options, ILoggerFactory loggerFactory)
{
    private readonly X509Certificate2? _trustedCa = options.TrustedCaFile is { Length: > 0 } ca ? X509CertificateLoader.LoadCertificateFromFile(ca) : null;

    private readonly X509Certificate2? _clientCertificate = options.ClientCertificateFile is { Length: > 0 } cert
        ? X509Certificate2.CreateFromPemFile(cert, options.ClientKeyFile)
        : null;

    public EndpointChannel Create(string address)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        if (options.KeepAlivePingDelay > TimeSpan.Zero)
        {
            handler.KeepAlivePingDelay = options.KeepAlivePingDelay;
            handler.KeepAlivePingTimeout = options.KeepAlivePingTimeout;
            handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always;
        }

        if (address.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            handler.SslOptions = SslOptions();
        }

        var channel = GrpcChannel.ForAddress(Normalize(address), new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            LoggerFactory = loggerFactory,
            MaxReceiveMessageSize = options.MaxReceiveMessageBytes,
            MaxSendMessageSize = null,
            // Not true: that option also turns an exceeded deadline into OperationCanceledException,
            // which would hide a write's unknown outcome. Cancellation by the caller is translated in CallRunner.
            ThrowOperationCanceledOnCancellation = false,
        });
        return new EndpointChannel(address, channel);
    }

    /// <summary>"host:port" without a scheme means plain http, as etcdctl's --endpoints does.</summary>
    public static string Normalize(string address) =>
        address.Contains("://", StringComparison.Ordinal) ? address.TrimEnd('/') : "http://" + address.TrimEnd('/');

    private SslClientAuthenticationOptions SslOptions()
    {
        var ssl = new SslClientAuthenticationOptions();
        if (_clientCertificate is not null)
        {
            ssl.ClientCertificates = [_clientCertificate];
        }

        if (_trustedCa is not null)
        {
            var ca = _trustedCa;
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (errors == SslPolicyErrors.None)
                {
                    return true;
                }

                if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }

        return ssl;
    }
}
