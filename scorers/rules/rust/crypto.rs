use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use rand::{rngs::StdRng, SeedableRng, rngs::OsRng};

fn fingerprint(data: &[u8]) -> Vec<u8> {
    // ruleid: pb.rust.weak-hash
    let mut h = Md5::new();
    h.update(data);
    // ruleid: pb.rust.weak-hash
    let mut s = Sha1::new();
    s.update(data);
    // ok: pb.rust.weak-hash
    let mut good = Sha256::new();
    good.update(data);
    good.finalize().to_vec()
}

fn legacy(data: &[u8]) -> String {
    // ruleid: pb.rust.weak-hash-function
    let d = md5::compute(data);
    // ok: pb.rust.weak-hash-function
    let e = blake3::hash(data);
    format!("{:x}{}", d, e)
}

fn cipher() {
    // ruleid: pb.rust.weak-cipher
    let c = openssl::symm::Cipher::des_ede3_cbc();
    // ok: pb.rust.weak-cipher
    let g = openssl::symm::Cipher::aes_256_gcm();
}

fn rng() {
    // ruleid: pb.rust.fixed-prng-seed
    let mut r = StdRng::seed_from_u64(42);
    // ok: pb.rust.fixed-prng-seed
    let mut o = StdRng::from_entropy();
}

fn client(skip_verify: bool) -> reqwest::Client {
    // ruleid: pb.rust.tls-verification-disabled
    let bad = reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap();
    // ok: pb.rust.tls-verification-disabled
    let good = reqwest::Client::builder().danger_accept_invalid_certs(false).build().unwrap();
    good
}
