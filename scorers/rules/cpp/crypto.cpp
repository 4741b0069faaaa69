#include <stdlib.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/ssl.h>
#include <sys/random.h>

int make_token(unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        // ruleid: pb.cpp.insecure-rand
        out[i] = rand() & 0xff;
    // ok: pb.cpp.insecure-rand
    return getrandom(out, n, 0) == (ssize_t)n;
}

void seed(void)
{
    // ruleid: pb.cpp.fixed-prng-seed
    srand(42);
    // ruleid: pb.cpp.fixed-prng-seed
    srand((unsigned)time(NULL));
    unsigned int s;
    getrandom(&s, sizeof(s), 0);
    // ok: pb.cpp.fixed-prng-seed
    srand(s);
}

void digest(const unsigned char *d, size_t n, unsigned char *out)
{
    MD5_CTX ctx;
    // ruleid: pb.cpp.weak-hash
    MD5_Init(&ctx);
    // ruleid: pb.cpp.weak-hash
    const EVP_MD *md = EVP_sha1();
    // ok: pb.cpp.weak-hash
    const EVP_MD *good = EVP_sha256();
    (void)md; (void)good;
}

void ciphers(void)
{
    // ruleid: pb.cpp.weak-cipher, pb.cpp.unauthenticated-cipher-mode
    const EVP_CIPHER *c1 = EVP_des_ede3_cbc();
    // ok: pb.cpp.weak-cipher
    const EVP_CIPHER *c2 = EVP_aes_256_gcm();
    // ruleid: pb.cpp.ecb-mode
    const EVP_CIPHER *c3 = EVP_aes_128_ecb();
    // ok: pb.cpp.ecb-mode
    const EVP_CIPHER *c4 = EVP_chacha20_poly1305();
    (void)c1; (void)c2; (void)c3; (void)c4;
}

int encrypt_cbc(EVP_CIPHER_CTX *ctx, const unsigned char *key, const unsigned char *iv)
{
    // ruleid: pb.cpp.unauthenticated-cipher-mode
    return EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv);
}

int encrypt_gcm(EVP_CIPHER_CTX *ctx, const unsigned char *key, const unsigned char *iv)
{
    // ok: pb.cpp.unauthenticated-cipher-mode
    return EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv);
}

void tls(SSL_CTX *ctx)
{
    // ruleid: pb.cpp.tls-verify-disabled
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    // ok: pb.cpp.tls-verify-disabled
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
}

#include <random>
#include <cstdlib>

int roll()
{
    // ruleid: pb.cpp.fixed-prng-seed
    std::mt19937 gen(42);
    // ok: pb.cpp.fixed-prng-seed
    std::mt19937 seeded(std::random_device{}());
    // ruleid: pb.cpp.insecure-rand
    int r = std::rand() % 6;
    std::uniform_int_distribution<int> d(1, 6);
    return d(gen) + d(seeded) + r;
}
