using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansRooms.Deploy;

/// <summary>
/// docs/production.md, "TLS": with <c>Orleans:Tls</c> the gateways' silos talk to each other over mutual TLS. Two
/// gateways form one cluster (the second becomes active only once it reached the first), their silo port speaks TLS
/// with the cluster's certificate, and a peer with a certificate the cluster does not trust is turned away.
/// </summary>
public sealed class SiloTlsTests
{
    [Fact]
    public async Task Gateways_form_a_cluster_over_mutual_TLS_and_turn_away_an_untrusted_peer()
    {
        var dir = Directory.CreateTempSubdirectory("orleansrooms-tls-").FullName;
        try
        {
            using var cluster = SelfSigned("orleansrooms-cluster");
            var pfx = Path.Combine(dir, "cluster.pfx");
            await File.WriteAllBytesAsync(pfx, cluster.Export(X509ContentType.Pkcs12, "secret"));

            await using var nodes = await LocalCluster.StartAsync(gateways: 2, nginx: false, new Dictionary<string, string>
            {
                ["Orleans__Tls__CertificatePath"] = pfx,
                ["Orleans__Tls__CertificatePassword"] = "secret",
            });

            await using (var trusted = await HandshakeAsync(nodes.OrleansPorts[1], cluster, cluster))
            {
                Assert.Equal(cluster.Thumbprint, new X509Certificate2(trusted.RemoteCertificate!).Thumbprint);
            }

            using var stranger = SelfSigned("stranger");
            Assert.True(await IsTurnedAwayAsync(nodes.OrleansPorts[0], stranger, cluster), "a peer with an untrusted certificate was let in");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // A TLS handshake with the silo port as a peer presenting `certificate`, expecting the silo to present the cluster's.
    private static async Task<SslStream> HandshakeAsync(int port, X509Certificate2 certificate, X509Certificate2 cluster)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "orleansrooms-cluster",
            ClientCertificates = [certificate],
            RemoteCertificateValidationCallback = (_, served, _, _) => served is not null && served.GetRawCertData().AsSpan().SequenceEqual(cluster.RawData),
        }, timeout.Token);
        return tls;
    }

    // The silo refuses the peer: the handshake fails, or (with TLS 1.3, where the server judges the client's certificate
    // after the client's side of the handshake) the connection ends instead of waiting for Orleans' preamble.
    private static async Task<bool> IsTurnedAwayAsync(int port, X509Certificate2 certificate, X509Certificate2 cluster)
    {
        try
        {
            await using var tls = await HandshakeAsync(port, certificate, cluster);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return await tls.ReadAsync(new byte[1], timeout.Token) == 0;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
        {
            return true;
        }
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
