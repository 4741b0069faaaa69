using System;
using System.Security.Cryptography;
using System.Net;
using System.Net.Http;

public class CryptoUse
{
    public byte[] Hash(byte[] data)
    {
        // ruleid: pb.csharp.weak-hash
        using (var md5 = MD5.Create()) { md5.ComputeHash(data); }
        // ruleid: pb.csharp.weak-hash
        var sha1 = new SHA1CryptoServiceProvider();
        // ok: pb.csharp.weak-hash
        using (var sha = SHA256.Create()) { return sha.ComputeHash(data); }
    }

    public void Ciphers()
    {
        // ruleid: pb.csharp.weak-cipher
        var des = new DESCryptoServiceProvider();
        // ruleid: pb.csharp.weak-cipher
        var tdes = TripleDES.Create();
        // ok: pb.csharp.weak-cipher
        var aes = Aes.Create();
        // ruleid: pb.csharp.ecb-mode
        aes.Mode = CipherMode.ECB;
        // ruleid: pb.csharp.unauthenticated-cipher-mode
        aes.Mode = CipherMode.CBC;
        // ok: pb.csharp.ecb-mode
        var gcm = new AesGcm(new byte[32]);
        // ok: pb.csharp.unauthenticated-cipher-mode
        var chacha = new ChaCha20Poly1305(new byte[32]);
    }

    public string Token()
    {
        // ruleid: pb.csharp.insecure-random
        var rnd = new Random();
        // ok: pb.csharp.insecure-random
        int n = RandomNumberGenerator.GetInt32(1000000);
        // ruleid: pb.csharp.insecure-random
        return (rnd.Next() + n).ToString();
    }

    public void Tls(HttpClientHandler handler)
    {
        // ruleid: pb.csharp.tls-validation-disabled
        ServicePointManager.ServerCertificateValidationCallback = (s, cert, chain, errors) => true;
        // ruleid: pb.csharp.tls-validation-disabled
        handler.ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator;
        // ok: pb.csharp.tls-validation-disabled
        handler.CheckCertificateRevocationList = true;
    }
}
