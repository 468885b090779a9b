//! SHA-256 for ACL password hashes: Redis stores and shows every password as the lowercase
//! hex of its SHA-256, and `#<hash>` rules take that form. The digest is RustCrypto's
//! `sha2` (audited, hardware-accelerated where the CPU has SHA extensions).

use sha2::{Digest, Sha256};

/// The SHA-256 digest of `data`.
pub fn digest(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The lowercase hex of the SHA-256 of `data`, as Redis' ACLHashPassword.
pub fn hex(data: &[u8]) -> String {
    shard::digest::hex(&digest(data))
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_digests() {
        // FIPS 180-4's examples (one block, two blocks), the empty string, and the hash
        // Redis shows for the password "p1".
        for (input, hash) in [
            (
                "",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                "abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ),
            (
                "p1",
                "f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a",
            ),
        ] {
            assert_eq!(super::hex(input.as_bytes()), hash, "{input}");
        }
    }
}
