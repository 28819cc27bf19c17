using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Coordination.Client.Tests.Fixtures;

/// <summary>A throw-away CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files in a temp directory.</summary>
internal sealed class TlsMaterial : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"client-tls-{Guid.NewGuid():N}");

    public TlsMaterial()
    {
        Directory.CreateDirectory(_dir);
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=coordination-test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        File.WriteAllText(CaFile, ca.ExportCertificatePem());

        Issue(ca, "CN=127.0.0.1", server: true, ServerCertificateFile, ServerKeyFile, now);
        Issue(ca, "CN=client", server: false, ClientCertificateFile, ClientKeyFile, now);
    }

    public string CaFile => Path.Combine(_dir, "ca.pem");

    public string ServerCertificateFile => Path.Combine(_dir, "server.pem");

    public string ServerKeyFile => Path.Combine(_dir, "server-key.pem");

    public string ClientCertificateFile => Path.Combine(_dir, "client.pem");

    public string ClientKeyFile => Path.Combine(_dir, "client-key.pem");

    /// <summary>A handler that trusts the CA and presents the client certificate (for the fixture's health checks).</summary>
    public HttpClientHandler CreateHandler()
    {
        var ca = X509CertificateLoader.LoadCertificateFromFile(CaFile);
        var handler = new HttpClientHandler();
        handler.ClientCertificates.Add(X509Certificate2.CreateFromPemFile(ClientCertificateFile, ClientKeyFile));
        handler.ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is not null && chain.Build(certificate);
        };
        return handler;
    }

    private static void Issue(X509Certificate2 ca, string subject, bool server, string certFile, string keyFile, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client auth
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }

        using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
