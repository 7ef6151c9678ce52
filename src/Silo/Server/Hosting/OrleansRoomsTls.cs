using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Orleans.Connections.Security;

namespace Orleans.Hosting;

/// <summary>
/// Mutual TLS on the silo-to-silo port, from configuration (section <c>Orleans:Tls</c>): every silo of the cluster
/// presents its certificate and accepts only a peer whose certificate it trusts. Without the section the silo port
/// speaks plain TCP, which is only safe on a private network.
/// <list type="bullet">
/// <item><c>CertificatePath</c>: the silo's certificate, a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>, with
/// <c>CertificatePassword</c> if it has one) or a PEM file (with <c>KeyPath</c>, its private key).</item>
/// <item><c>CertificateAuthorityPath</c>: a PEM certificate authority; a peer is trusted when its certificate chains to
/// it. Without it, a peer is trusted only when it presents the very same certificate (one certificate shared by the
/// cluster).</item>
/// </list>
/// </summary>
public static class OrleansRoomsTls
{
    /// <summary>The configuration section, under <c>Orleans</c>.</summary>
    public const string SectionName = "Tls";

    internal static void Configure(ISiloBuilder silo, IConfigurationSection section)
    {
        if (section["CertificatePath"] is not { Length: > 0 } path)
        {
            return;
        }

        var certificate = Load(section.Path, path, section["KeyPath"], section["CertificatePassword"]);
        var authority = section["CertificateAuthorityPath"] is { Length: > 0 } caPath
            ? X509CertificateLoader.LoadCertificateFromFile(Existing(section.Path + ":CertificateAuthorityPath", caPath))
            : null;
        silo.UseTls(certificate, options =>
        {
            options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            // The cluster's own trust, not the machine's: a peer's certificate is no public web server's.
            options.RemoteCertificateValidation = (remote, _, _) => remote is not null && IsTrusted(remote, certificate, authority);
        });
    }

    private static bool IsTrusted(X509Certificate2 remote, X509Certificate2 local, X509Certificate2? authority)
    {
        if (authority is null)
        {
            return remote.RawDataMemory.Span.SequenceEqual(local.RawDataMemory.Span);
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(remote);
    }

    private static X509Certificate2 Load(string sectionPath, string path, string? keyPath, string? password)
    {
        Existing(sectionPath + ":CertificatePath", path);
        var extension = Path.GetExtension(path);
        if (extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }

        if (keyPath is not { Length: > 0 })
        {
            throw new InvalidOperationException($"{sectionPath}:KeyPath is required with the PEM certificate {path}: the file of its private key.");
        }

        // A key loaded from PEM is ephemeral, which SslStream cannot use on Linux: round-trip it through PKCS#12.
        using var pem = X509Certificate2.CreateFromPemFile(path, Existing(sectionPath + ":KeyPath", keyPath));
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private static string Existing(string setting, string path) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{setting}: no file at {path}.");
}
