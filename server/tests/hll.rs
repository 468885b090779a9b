//! The HyperLogLog family over TCP with the `redis` crate, on a 2-shard server: every command,
//! the exact bytes of the sparse and dense representations, the cached cardinality, the
//! errors (Redis' exact texts), the sparse-to-dense promotion at `hll-sparse-max-bytes`,
//! multi-key forms with keys on one shard and on both, and, when Debian's `redis-server` is
//! on PATH, byte-for-byte interoperability with it (HLL strings did not change between Redis
//! 7.0 and 7.2) and a seeded randomized comparison against it.

mod common;

use common::{arity, cross, key_on, q, qb, qerr, start, Server};
use redis::Value;

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// The 16-byte header of a sparse HLL with the cache marked stale.
const SPARSE_STALE: &[u8] = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80";
/// The header of a dense HLL with the cache marked stale.
const DENSE_STALE: &[u8] = b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80";
const DENSE_SIZE: usize = 16 + 12288;

fn get_bytes(c: &mut redis::Connection, key: &str) -> Vec<u8> {
    q(c, &["GET", key])
}

fn set_bytes(c: &mut redis::Connection, key: &str, value: &[u8]) {
    let _: () = qb(c, &[b"SET", key.as_bytes(), value]);
}

/// PFADD of byte-string elements.
fn pfadd(c: &mut redis::Connection, key: &str, elements: &[Vec<u8>]) -> i64 {
    let mut cmd = redis::cmd("PFADD");
    cmd.arg(key);
    for e in elements {
        cmd.arg(e.as_slice());
    }
    cmd.query(c).unwrap()
}

fn elements(prefix: &str, range: std::ops::Range<u32>) -> Vec<Vec<u8>> {
    range.map(|i| format!("{prefix}{i}").into_bytes()).collect()
}

fn info_field(c: &mut redis::Connection, field: &str) -> i64 {
    let info: String = q(c, &["INFO", "all"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
        .trim()
        .parse()
        .unwrap()
}

/// A reply or error as text, to compare two servers.
fn outcome(c: &mut redis::Connection, args: &[&[u8]]) -> String {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<Value>(c) {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!(
            "error {} {}",
            e.code().unwrap_or(""),
            e.detail().unwrap_or("")
        ),
    }
}

/// Debian's redis-server on a free port, or None (with a message) when it is not installed.
fn reference() -> Option<Server> {
    if common::redis_server_binary().is_none() {
        println!("skipped: redis-server is not on PATH (the comparison needs Redis 7.x)");
        return None;
    }
    Some(common::start_reference_redis())
}

/// Whether the last sparse opcode of an HLL string is an XZERO cut to its first byte. Redis
/// reads such an opcode's second byte past the end of the string, from its NUL terminator;
/// but when PFADD splits that opcode, Redis' memcpy of the new opcodes writes one byte past
/// the new end, over the terminator, and later reads see that hidden byte instead of 0.
/// Shardis cannot keep a byte outside the string, so it reads 0 there as before: the tests
/// compare such strings through reads only (the one known divergence, on crafted input).
fn ends_with_cut_xzero(hll: &[u8]) -> bool {
    let mut p = 16;
    while p < hll.len() {
        p += if hll[p] & 0xc0 == 0x40 { 2 } else { 1 };
    }
    p > hll.len()
}

/// The randomized tests' seed: `HLL_SEED` explores other sequences.
fn seed_from_env(default: u64) -> u64 {
    std::env::var("HLL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// SplitMix64, for the randomized tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A random element: short text, binary, or empty.
    fn element(&mut self, universe: u64) -> Vec<u8> {
        let id = self.below(universe);
        match id % 4 {
            0 => id.to_le_bytes().to_vec(),
            1 if id % 16 == 1 => Vec::new(),
            _ => format!("el:{id}").into_bytes(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PFADD

#[test]
fn pfadd_creates_a_sparse_hll_and_reports_register_changes() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h"]), 1, "creation counts");
    assert_eq!(get_bytes(&mut c, "h"), [SPARSE_STALE, b"\x7f\xff"].concat());
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h", "a", "b", "c"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h", "c", "b", "a"]), 0);
    assert_eq!(
        q::<String>(&mut c, &["PFDEBUG", "DECODE", "h"]),
        "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
    );
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 3);
    assert_eq!(q::<String>(&mut c, &["TYPE", "h"]), "string");
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "h"]), "raw");
    assert_eq!(
        q::<i64>(&mut c, &["STRLEN", "h"]),
        16 + 11,
        "four XZERO, three VAL"
    );
    // Binary and empty elements hash like any other.
    assert_eq!(q::<i64>(&mut c, &["PFADD", "e", ""]), 1);
    assert_eq!(
        q::<String>(&mut c, &["PFDEBUG", "DECODE", "e"]),
        "Z:5938 v:2,1 Z:10445"
    );
    assert_eq!(qb::<i64>(&mut c, &[b"PFADD", b"e", b"\x00\xff\r\n"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "e"]), 2);
    assert_eq!(qerr(&mut c, &["PFADD"]), arity("pfadd"));
}

#[test]
fn pfadd_and_pfmerge_keep_the_ttl() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["PFADD", "h", "a"]);
    q::<i64>(&mut c, &["EXPIRE", "h", "100"]);
    q::<i64>(&mut c, &["PFADD", "h", "b", "c"]);
    assert!(q::<i64>(&mut c, &["TTL", "h"]) > 90);
    q::<()>(&mut c, &["PFMERGE", "h", "other"]);
    assert!(q::<i64>(&mut c, &["TTL", "h"]) > 90);
    // An expired HLL is a missing one.
    q::<i64>(&mut c, &["PEXPIRE", "h", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h"]), 1);
    assert_eq!(q::<i64>(&mut c, &["TTL", "h"]), -1);
}

// ---------------------------------------------------------------------------------------------
// PFCOUNT and the cached cardinality

#[test]
fn pfcount_of_one_key_stores_the_cardinality_in_the_header() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "missing"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "missing"]), 0);
    pfadd(&mut c, "h", &elements("x", 0..50));
    let before = get_bytes(&mut c, "h");
    assert_eq!(before[15] & 0x80, 0x80, "PFADD marks the cache stale");
    let card = q::<i64>(&mut c, &["PFCOUNT", "h"]);
    assert_eq!(card, 50);
    let after = get_bytes(&mut c, "h");
    assert_eq!(&after[8..16], &(card as u64).to_le_bytes());
    assert_eq!(&after[16..], &before[16..], "only the header changes");

    // A valid cache is trusted as it is (Redis never recomputes it).
    let mut crafted = after.clone();
    crafted[8..16].copy_from_slice(&12345u64.to_le_bytes());
    set_bytes(&mut c, "h", &crafted);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 12345);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "h"]), "raw");
    // A PFADD that changes nothing keeps it; one that changes a register invalidates it.
    assert_eq!(pfadd(&mut c, "h", &elements("x", 0..50)), 0);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 12345);
    pfadd(&mut c, "h", &elements("y", 0..5));
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 55);

    // Short HLLs set by SET are embstr until a PF command touches them, as in Redis.
    set_bytes(&mut c, "small", &[SPARSE_STALE, b"\x7f\xff"].concat());
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "small"]),
        "embstr"
    );
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "small"]), 0);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "small"]), "raw");
}

#[test]
fn pfcount_counts_as_a_write_only_when_it_stores_the_cache() {
    let (s, mut c) = start();
    if s.is_reference() {
        return; // the reference's counter also moves with its own background work
    }
    let dirty = |c: &mut redis::Connection| info_field(c, "rdb_changes_since_last_save");
    let d0 = dirty(&mut c);
    q::<i64>(&mut c, &["PFADD", "h", "a", "b", "c"]);
    assert_eq!(dirty(&mut c), d0 + 4, "creation plus three registers");
    q::<i64>(&mut c, &["PFCOUNT", "h"]);
    assert_eq!(dirty(&mut c), d0 + 5);
    q::<i64>(&mut c, &["PFCOUNT", "h"]);
    q::<i64>(&mut c, &["PFCOUNT", "h", "missing"]);
    assert_eq!(dirty(&mut c), d0 + 5);
    q::<()>(&mut c, &["PFMERGE", "d", "h"]);
    assert_eq!(dirty(&mut c), d0 + 6);
}

#[test]
fn pfcount_of_several_keys_is_the_union_and_modifies_nothing() {
    let (_s, mut c) = start();
    let (a, b) = cross("u");
    let a2 = key_on(0, 2, "u2-");
    pfadd(&mut c, &a, &elements("e", 0..1000));
    pfadd(&mut c, &b, &elements("e", 500..1500));
    pfadd(&mut c, &a2, &elements("e", 1400..1600));
    let before: Vec<Vec<u8>> = [&a, &b, &a2].map(|k| get_bytes(&mut c, k)).to_vec();
    let union = q::<i64>(&mut c, &["PFCOUNT", &a, &b, &a2, "missing"]);
    assert!((1580..=1620).contains(&union), "{union}");
    // Same shard, other shard, repeated keys: the same union.
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", &a2, &a, &b, &a]), union);
    let same_shard = q::<i64>(&mut c, &["PFCOUNT", &a, &a2]);
    assert!((1180..=1220).contains(&same_shard), "{same_shard}");
    let after: Vec<Vec<u8>> = [&a, &b, &a2].map(|k| get_bytes(&mut c, k)).to_vec();
    assert_eq!(before, after, "a union leaves even the caches alone");
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "missing1", "missing2"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "missing1", "missing2"]), 0);
    assert_eq!(qerr(&mut c, &["PFCOUNT"]), arity("pfcount"));
}

// ---------------------------------------------------------------------------------------------
// PFMERGE

#[test]
fn pfmerge_creates_the_destination_even_without_sources() {
    let (_s, mut c) = start();
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "d"]), "OK");
    assert_eq!(get_bytes(&mut c, "d"), [SPARSE_STALE, b"\x7f\xff"].concat());
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "d2", "missing"]), "OK");
    assert_eq!(
        get_bytes(&mut c, "d2"),
        [SPARSE_STALE, b"\x7f\xff"].concat()
    );
    assert_eq!(qerr(&mut c, &["PFMERGE"]), arity("pfmerge"));
}

#[test]
fn pfmerge_stays_sparse_for_sparse_inputs_and_turns_dense_for_dense_ones() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["PFADD", "h", "a", "b", "c"]);
    q::<i64>(&mut c, &["PFADD", "h2", "x", "y", "z"]);
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "d", "h", "h2"]), "OK");
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "ENCODING", "d"]), "sparse");
    assert_eq!(
        q::<String>(&mut c, &["PFDEBUG", "DECODE", "d"]),
        "Z:8436 v:1,1 Z:144 v:1,1 Z:4129 v:2,1 Z:2220 v:3,1 Z:847 v:1,1 Z:593 v:2,1 z:9"
    );
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "d"]), 6);
    // The destination takes part in the union.
    q::<i64>(&mut c, &["PFADD", "d", "w"]);
    q::<()>(&mut c, &["PFMERGE", "d", "h"]);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "d"]), 7);
    // A dense input makes the destination dense.
    pfadd(&mut c, "big", &elements("b", 0..5000));
    assert_eq!(
        q::<String>(&mut c, &["PFDEBUG", "ENCODING", "big"]),
        "dense"
    );
    q::<()>(&mut c, &["PFMERGE", "d", "big"]);
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "ENCODING", "d"]), "dense");
    let d = get_bytes(&mut c, "d");
    assert_eq!(d.len(), DENSE_SIZE);
    assert_eq!(d[15] & 0x80, 0x80, "the merge invalidates the cache");
    let n = q::<i64>(&mut c, &["PFCOUNT", "d"]);
    assert_eq!(n, q::<i64>(&mut c, &["PFCOUNT", "big", "h", "h2", "d"]));
    // A dense destination stays dense whatever is merged into it.
    q::<()>(&mut c, &["PFMERGE", "d", "h"]);
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "ENCODING", "d"]), "dense");
}

#[test]
fn pfmerge_and_pfcount_across_shards() {
    let (_s, mut c) = start();
    let (a, b) = cross("m");
    let (d0, d1) = cross("dest");
    pfadd(&mut c, &a, &elements("e", 0..300));
    pfadd(&mut c, &b, &elements("e", 200..400));
    // Destination on either shard, sources on both.
    assert_eq!(q::<String>(&mut c, &["PFMERGE", &d1, &a, &b]), "OK");
    assert_eq!(q::<String>(&mut c, &["PFMERGE", &d0, &b, &a]), "OK");
    let union = q::<i64>(&mut c, &["PFCOUNT", &a, &b]);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", &d0]), union);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", &d1]), union);
    assert_eq!(get_bytes(&mut c, &d0), get_bytes(&mut c, &d1));
    assert!((390..=410).contains(&union), "{union}");
    // Errors from a key on the other shard leave the destination untouched.
    let other = key_on(1, 2, "str");
    q::<()>(&mut c, &["SET", &other, "plain"]);
    let before = get_bytes(&mut c, &d0);
    assert_eq!(qerr(&mut c, &["PFMERGE", &d0, &a, &other]), NOT_HLL);
    assert_eq!(qerr(&mut c, &["PFCOUNT", &d0, &other]), NOT_HLL);
    assert_eq!(get_bytes(&mut c, &d0), before);
    assert_eq!(qerr(&mut c, &["PFMERGE", &other, &a]), NOT_HLL);
    assert_eq!(q::<String>(&mut c, &["GET", &other]), "plain");
}

// ---------------------------------------------------------------------------------------------
// Encodings

#[test]
fn sparse_turns_dense_past_hll_sparse_max_bytes() {
    let (_s, mut c) = start();
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "hll-sparse-max-bytes"]),
        ["hll-sparse-max-bytes", "3000"]
    );
    q::<()>(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", "200"]);
    let mut n = 0;
    loop {
        pfadd(&mut c, "h", &elements("p", n..n + 1));
        n += 1;
        if q::<String>(&mut c, &["PFDEBUG", "ENCODING", "h"]) == "dense" {
            break;
        }
        assert!(get_bytes(&mut c, "h").len() <= 200);
        assert!(n < 200, "never promoted");
    }
    assert!(n > 40, "promoted after {n} elements");
    assert_eq!(get_bytes(&mut c, "h").len(), DENSE_SIZE);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), n as i64);
    // The limit applies to the next write; existing dense HLLs stay dense.
    q::<()>(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]);
    pfadd(&mut c, "h", &elements("q", 0..3));
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "ENCODING", "h"]), "dense");
    pfadd(&mut c, "h3", &elements("p", 0..n));
    assert_eq!(
        q::<String>(&mut c, &["PFDEBUG", "ENCODING", "h3"]),
        "sparse"
    );
}

#[test]
fn dense_bytes_hold_the_registers_in_six_bit_fields() {
    let (_s, mut c) = start();
    pfadd(&mut c, "h", &elements("r", 0..1000));
    assert_eq!(q::<i64>(&mut c, &["PFDEBUG", "TODENSE", "h"]), 1);
    let regs: Vec<i64> = q(&mut c, &["PFDEBUG", "GETREG", "h"]);
    assert_eq!(regs.len(), 16384);
    let bytes = get_bytes(&mut c, "h");
    assert_eq!(&bytes[..5], b"HYLL\x00");
    for (i, &r) in regs.iter().enumerate() {
        let bit = i * 6;
        let word =
            bytes[16 + bit / 8] as u16 | (*bytes.get(17 + bit / 8).unwrap_or(&0) as u16) << 8;
        assert_eq!(((word >> (bit % 8)) & 63) as i64, r, "register {i}");
    }
    assert!(regs.iter().all(|&r| (0..=51).contains(&r)));
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn strings_that_are_not_hlls_are_rejected_with_redis_error() {
    let (_s, mut c) = start();
    let valid = [SPARSE_STALE, b"\x7f\xff"].concat();
    let mut bad_magic = valid.clone();
    bad_magic[3] = b'X';
    let mut bad_encoding = valid.clone();
    bad_encoding[4] = 2;
    let mut dense_short = valid.clone();
    dense_short[4] = 0;
    let not_hlls: [(&str, Vec<u8>); 6] = [
        ("text", b"hello".to_vec()),
        ("int", b"12345".to_vec()),
        ("header-only-15", valid[..15].to_vec()),
        ("magic", bad_magic),
        ("encoding", bad_encoding),
        ("dense-length", dense_short),
    ];
    for (key, value) in &not_hlls {
        set_bytes(&mut c, key, value);
        for args in [
            vec!["PFADD", key, "a"],
            vec!["PFADD", key],
            vec!["PFCOUNT", key],
            vec!["PFCOUNT", key, "missing"],
            vec!["PFCOUNT", "missing", key],
            vec!["PFMERGE", key],
            vec!["PFMERGE", "dest", key],
            vec!["PFDEBUG", "GETREG", key],
            vec!["PFDEBUG", "nosuch", key],
        ] {
            assert_eq!(qerr(&mut c, &args), NOT_HLL, "{args:?}");
        }
        assert_eq!(&get_bytes(&mut c, key), value, "{key} untouched");
    }
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "int"]), "int");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "dest"]), 0);
}

#[test]
fn corrupted_sparse_hlls_answer_invalidobj() {
    let (_s, mut c) = start();
    // 16383 registers only.
    set_bytes(&mut c, "short", &[SPARSE_STALE, b"\x7f\xfe"].concat());
    assert_eq!(qerr(&mut c, &["PFCOUNT", "short"]), CORRUPT);
    assert_eq!(qerr(&mut c, &["PFCOUNT", "short", "missing"]), CORRUPT);
    assert_eq!(qerr(&mut c, &["PFMERGE", "d", "short"]), CORRUPT);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);
    assert_eq!(qerr(&mut c, &["PFDEBUG", "GETREG", "short"]), CORRUPT);
    assert_eq!(qerr(&mut c, &["PFDEBUG", "TODENSE", "short"]), CORRUPT);
    assert_eq!(
        q::<String>(&mut c, &["PFDEBUG", "DECODE", "short"]),
        "Z:16383"
    );
    // An element whose register lies past the described ones fails; Redis finds nothing
    // wrong with elements landing inside ("hello" hashes to register 9216, "a" to 12711).
    assert_eq!(q::<i64>(&mut c, &["PFADD", "short", "hello"]), 1);
    set_bytes(&mut c, "short2", &[SPARSE_STALE, b"\x40\x0f"].concat());
    assert_eq!(qerr(&mut c, &["PFADD", "short2", "a"]), CORRUPT);
    // A valid cache hides the corruption from a single-key PFCOUNT, as in Redis.
    set_bytes(
        &mut c,
        "cached",
        &[&SPARSE_STALE[..15], b"\x00\x7f\xfe"].concat(),
    );
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "cached"]), 0);
    assert_eq!(qerr(&mut c, &["PFCOUNT", "cached", "cached"]), CORRUPT);
    // Too many registers, and a header alone.
    set_bytes(&mut c, "long", &[SPARSE_STALE, b"\x7f\xff\x00"].concat());
    assert_eq!(qerr(&mut c, &["PFCOUNT", "long"]), CORRUPT);
    set_bytes(&mut c, "bare", SPARSE_STALE);
    assert_eq!(qerr(&mut c, &["PFADD", "bare", "a"]), CORRUPT);
    assert_eq!(qerr(&mut c, &["PFCOUNT", "bare"]), CORRUPT);
}

// ---------------------------------------------------------------------------------------------
// PFDEBUG and PFSELFTEST

#[test]
fn pfdebug_subcommands() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["PFADD", "h", "a", "b", "c"]);
    assert_eq!(q::<String>(&mut c, &["pfdebug", "encoding", "h"]), "sparse");
    let regs: Vec<i64> = q(&mut c, &["PFDEBUG", "GETREG", "h"]);
    assert_eq!(regs.len(), 16384);
    assert_eq!(
        regs.iter()
            .enumerate()
            .filter(|(_, &r)| r != 0)
            .map(|(i, &r)| (i, r))
            .collect::<Vec<_>>(),
        [(8436, 1), (12711, 2), (15780, 1)]
    );
    // GETREG converts to dense, as in Redis.
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "ENCODING", "h"]), "dense");
    assert_eq!(
        qerr(&mut c, &["PFDEBUG", "DECODE", "h"]),
        "ERR HLL encoding is not sparse"
    );
    assert_eq!(q::<i64>(&mut c, &["PFDEBUG", "TODENSE", "h"]), 0);
    q::<i64>(&mut c, &["PFADD", "s", "a"]);
    assert_eq!(q::<i64>(&mut c, &["PFDEBUG", "todense", "s"]), 1);
    assert_eq!(get_bytes(&mut c, "s").len(), DENSE_SIZE);
    assert_eq!(&get_bytes(&mut c, "s")[..16], DENSE_STALE);
    assert_eq!(
        qerr(&mut c, &["PFDEBUG", "GETREG", "missing"]),
        "ERR The specified key does not exist"
    );
    assert_eq!(
        qerr(&mut c, &["PFDEBUG", "Nope", "h"]),
        "ERR Unknown PFDEBUG subcommand 'Nope'"
    );
    assert_eq!(
        qerr(&mut c, &["PFDEBUG", "Nope", "missing"]),
        "ERR The specified key does not exist"
    );
    assert_eq!(qerr(&mut c, &["PFDEBUG", "GETREG"]), arity("pfdebug"));
    assert_eq!(
        qerr(&mut c, &["PFDEBUG", "GETREG", "h", "x"]),
        arity("pfdebug")
    );
}

#[test]
fn pfselftest_passes() {
    let (_s, mut c) = start();
    assert_eq!(q::<String>(&mut c, &["PFSELFTEST"]), "OK");
    assert_eq!(qerr(&mut c, &["PFSELFTEST", "x"]), arity("pfselftest"));
}

#[test]
fn estimates_stay_within_two_percent() {
    let (_s, mut c) = start();
    let mut total = 0;
    for batch in 0..100 {
        let els = elements("k", batch * 1000..(batch + 1) * 1000);
        pfadd(&mut c, "h", &els);
        total += 1000;
        if [1, 10, 100].contains(&(batch + 1)) {
            let n = q::<i64>(&mut c, &["PFCOUNT", "h"]);
            let err = (n - total).abs() as f64 / total as f64;
            assert!(err < 0.02, "{n} for {total}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Interoperability with Redis

#[test]
fn bytes_are_the_same_as_redis_in_both_directions() {
    let Some(redis) = reference() else { return };
    let mut r = redis.client();
    let shardis = Server::start(2, &[]);
    let mut s = shardis.client();
    for (key, n) in [("h10", 10u32), ("h1000", 1000), ("h100000", 100_000)] {
        for chunk in (0..n).collect::<Vec<_>>().chunks(2000) {
            let els = elements("i", chunk[0]..chunk[chunk.len() - 1] + 1);
            assert_eq!(pfadd(&mut r, key, &els), pfadd(&mut s, key, &els), "{key}");
        }
        let rb = get_bytes(&mut r, key);
        assert_eq!(rb, get_bytes(&mut s, key), "{key} after PFADD");
        let count = q::<i64>(&mut r, &["PFCOUNT", key]);
        assert_eq!(count, q::<i64>(&mut s, &["PFCOUNT", key]), "{key}");
        assert_eq!(
            get_bytes(&mut r, key),
            get_bytes(&mut s, key),
            "{key} cache"
        );
        if n == 100_000 {
            let err = (count - n as i64).abs() as f64 / n as f64;
            assert!(err < 0.02, "{count}");
        }
        // Redis' bytes loaded here count the same, and ours loaded there too.
        set_bytes(&mut s, "from-redis", &rb);
        set_bytes(&mut r, "from-shardis", &get_bytes(&mut s, key));
        assert_eq!(q::<i64>(&mut s, &["PFCOUNT", "from-redis"]), count);
        assert_eq!(q::<i64>(&mut r, &["PFCOUNT", "from-shardis"]), count);
        pfadd(&mut s, "from-redis", &elements("more", 0..50));
        pfadd(&mut r, "from-shardis", &elements("more", 0..50));
        assert_eq!(
            get_bytes(&mut s, "from-redis"),
            get_bytes(&mut r, "from-shardis")
        );
    }
    // Unions and merges: sparse + sparse stays sparse, anything + dense is dense.
    let (a, b) = cross("x");
    for c in [&mut r, &mut s] {
        pfadd(c, &a, &elements("j", 0..700));
        pfadd(c, &b, &elements("j", 300..900));
    }
    for args in [
        vec!["PFCOUNT", "h10", "h1000", "h100000"],
        vec!["PFCOUNT", a.as_str(), b.as_str()],
        vec!["PFMERGE", "m1", a.as_str(), b.as_str()],
        vec!["PFMERGE", "m2", "h10", "h1000"],
        vec!["PFMERGE", "m3", "h100000", a.as_str()],
        vec!["PFMERGE", "h10", "h1000"],
        vec!["PFMERGE", "m4"],
        vec!["PFCOUNT", "m1"],
        vec!["PFCOUNT", "m2"],
        vec!["PFCOUNT", "m3"],
        vec!["PFDEBUG", "GETREG", "m1"],
    ] {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        assert_eq!(outcome(&mut r, &args), outcome(&mut s, &args), "{args:?}");
    }
    for key in ["m1", "m2", "m3", "m4", "h10"] {
        assert_eq!(get_bytes(&mut r, key), get_bytes(&mut s, key), "{key}");
    }
}

#[test]
fn crafted_and_corrupted_strings_behave_as_in_redis() {
    let Some(redis) = reference() else { return };
    let mut r = redis.client();
    let shardis = Server::start(2, &[]);
    let mut s = shardis.client();
    let fill = |reg: u8| -> Vec<u8> {
        let (b0, b1, b2) = (reg | reg << 6, reg >> 2 | reg << 4, reg >> 4 | reg << 2);
        [DENSE_STALE.to_vec(), [b0, b1, b2].repeat(4096)].concat()
    };
    let payloads: Vec<(&str, Vec<u8>)> = vec![
        ("short", [SPARSE_STALE, b"\x7f\xfe"].concat()),
        ("long", [SPARSE_STALE, b"\x7f\xff\x00"].concat()),
        ("cut", [SPARSE_STALE, b"\x7f"].concat()),
        ("cut-small", [SPARSE_STALE, b"\x40"].concat()),
        ("bare", SPARSE_STALE.to_vec()),
        ("val-overflow", [SPARSE_STALE, b"\x7f\xfe\x81"].concat()),
        ("zero-overflow", [SPARSE_STALE, b"\x7f\xfe\x01"].concat()),
        ("vals", [SPARSE_STALE, b"\xfc\xfc\xfc\x7f\xfc"].concat()),
        ("cached", [&SPARSE_STALE[..15], b"\x11\x7f\xfe"].concat()),
        ("dense-63", fill(63)),
        ("dense-51", fill(51)),
        ("dense-40", fill(40)),
        ("dense-wrong", fill(3)[..100].to_vec()),
        ("text", b"not an hll at all".to_vec()),
    ];
    for (key, value) in &payloads {
        set_bytes(&mut r, key, value);
        set_bytes(&mut s, key, value);
    }
    let elements: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
    for (key, _) in &payloads {
        let mut cmds: Vec<Vec<&str>> = vec![
            vec!["PFCOUNT", key],
            vec!["PFCOUNT", key, "short"],
            vec!["PFCOUNT", key, "vals"],
            vec!["PFDEBUG", "DECODE", key],
            vec!["PFMERGE", "dst", key],
            vec!["PFMERGE", key, "vals"],
            vec!["PFCOUNT", key],
            vec!["PFDEBUG", "ENCODING", key],
        ];
        // See `ends_with_cut_xzero` for why those strings are not written to.
        let value = &payloads.iter().find(|(k, _)| k == key).unwrap().1;
        if !ends_with_cut_xzero(value) {
            for e in &elements {
                cmds.push(vec!["PFADD", key, e]);
            }
        }
        cmds.push(vec!["PFCOUNT", key]);
        cmds.push(vec!["PFDEBUG", "TODENSE", key]);
        cmds.push(vec!["PFDEBUG", "GETREG", key]);
        for args in cmds {
            let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            assert_eq!(outcome(&mut r, &args), outcome(&mut s, &args), "{args:?}");
            let args = [b"GET".as_slice(), key.as_bytes()];
            assert_eq!(outcome(&mut r, &args), outcome(&mut s, &args), "{key}");
        }
        for k in ["dst", "vals"] {
            assert_eq!(get_bytes(&mut r, k), get_bytes(&mut s, k), "{key}: {k}");
        }
    }
}

/// Random PFADD batches (and now and then PFCOUNT, PFMERGE, a new sparse limit) on several
/// keys, on Redis and here: every reply and every HLL's bytes agree after each step.
#[test]
fn randomized_against_redis() {
    let Some(redis) = reference() else { return };
    let mut r = redis.client();
    let shardis = Server::start(2, &[]);
    let mut s = shardis.client();
    let mut rng = Rng(seed_from_env(0x5eed_4411));
    let keys: Vec<String> = (0..3)
        .flat_map(|i| {
            [
                key_on(0, 2, &format!("k{i}-")),
                key_on(1, 2, &format!("k{i}-")),
            ]
        })
        .collect();
    let (mut seen_sparse, mut seen_dense) = (false, false);
    for step in 0..400 {
        let key = &keys[rng.below(keys.len() as u64) as usize];
        let args: Vec<Vec<u8>> = match rng.below(20) {
            0 => {
                let limit = [300, 1000, 3000][rng.below(3) as usize].to_string();
                vec![
                    b"CONFIG".to_vec(),
                    b"SET".to_vec(),
                    b"hll-sparse-max-bytes".to_vec(),
                    limit.into_bytes(),
                ]
            }
            1 | 2 => {
                let mut a = vec![b"PFCOUNT".to_vec(), key.as_bytes().to_vec()];
                for _ in 0..rng.below(3) {
                    a.push(
                        keys[rng.below(keys.len() as u64) as usize]
                            .as_bytes()
                            .to_vec(),
                    );
                }
                a
            }
            3 => {
                let mut a = vec![b"PFMERGE".to_vec(), key.as_bytes().to_vec()];
                for _ in 0..rng.below(3) {
                    a.push(
                        keys[rng.below(keys.len() as u64) as usize]
                            .as_bytes()
                            .to_vec(),
                    );
                }
                a
            }
            _ => {
                // Small universes repeat elements; big batches push towards dense.
                let universe = [50, 5000, 1_000_000][rng.below(3) as usize];
                let n = [1, 5, 50, 400][rng.below(4) as usize];
                let mut a = vec![b"PFADD".to_vec(), key.as_bytes().to_vec()];
                a.extend((0..n).map(|_| rng.element(universe)));
                a
            }
        };
        let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let (want, got) = (outcome(&mut r, &argv), outcome(&mut s, &argv));
        assert_eq!(
            want,
            got,
            "step {step}: {:?}",
            String::from_utf8_lossy(&args[0])
        );
        for k in &keys {
            let want: Option<Vec<u8>> = q(&mut r, &["GET", k]);
            let got: Option<Vec<u8>> = q(&mut s, &["GET", k]);
            assert_eq!(want, got, "step {step}: {k}");
            match want.as_deref().map(|b| b[4]) {
                Some(0) => seen_dense = true,
                Some(_) => seen_sparse = true,
                None => {}
            }
        }
    }
    assert!(seen_sparse && seen_dense, "both encodings exercised");
}

#[test]
fn replies_are_the_same_in_resp3() {
    let (s, _c) = start();
    let mut c = redis::Client::open(format!("{}?protocol=resp3", s.url()))
        .unwrap()
        .get_connection()
        .unwrap();
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h", "x"]), 1);
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "h"]), "OK");
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "ENCODING", "h"]), "sparse");
    assert_eq!(
        qerr(&mut c, &["PFDEBUG", "DECODE", "nope"]),
        "ERR The specified key does not exist"
    );
}

/// Random sparse opcode strings, valid or slightly off (truncated, overlong, cut XZERO,
/// unmerged VALs), go through PFADD, PFCOUNT, PFMERGE and PFDEBUG on Redis and here: replies
/// and resulting bytes agree, corruption included.
#[test]
fn random_sparse_strings_against_redis() {
    let Some(redis) = reference() else { return };
    let mut r = redis.client();
    let shardis = Server::start(2, &[]);
    let mut s = shardis.client();
    let mut rng = Rng(seed_from_env(0x0bad_5eed));
    for round in 0..150 {
        let mut body = Vec::new();
        let mut covered = 0u64;
        while covered < 16384 && body.len() < 60 {
            match rng.below(4) {
                0 => {
                    let n = 1 + rng.below(64);
                    body.push((n - 1) as u8);
                    covered += n;
                }
                1 => {
                    let n = 1 + rng.below(1500);
                    body.extend_from_slice(&[0x40 | ((n - 1) >> 8) as u8, (n - 1) as u8]);
                    covered += n;
                }
                _ => {
                    let (v, n) = (1 + rng.below(32), 1 + rng.below(4));
                    body.push(0x80 | ((v - 1) << 2) as u8 | (n - 1) as u8);
                    covered += n;
                }
            }
        }
        // Mostly exact coverage; sometimes one register short or over, or a cut XZERO.
        let rest = 16384i64 - covered as i64 + [0, 0, 0, -1, 1][rng.below(5) as usize];
        if rest > 0 {
            let mut left = rest as u64;
            while left > 0 {
                let n = left.min(16384);
                body.extend_from_slice(&[0x40 | ((n - 1) >> 8) as u8, (n - 1) as u8]);
                left -= n;
            }
        }
        if rng.below(8) == 0 {
            body.pop();
        }
        let mut header = SPARSE_STALE.to_vec();
        if rng.below(4) == 0 {
            header[15] = 0;
        }
        let value = [header, body].concat();
        let key = format!("r{round}");
        set_bytes(&mut r, &key, &value);
        set_bytes(&mut s, &key, &value);
        let els: Vec<String> = (0..1 + rng.below(30))
            .map(|i| format!("{round}:{i}"))
            .collect();
        let mut cmds: Vec<Vec<&str>> =
            vec![vec!["PFDEBUG", "DECODE", &key], vec!["PFCOUNT", &key, "r0"]];
        if !ends_with_cut_xzero(&value) {
            let mut add = vec!["PFADD", key.as_str()];
            add.extend(els.iter().map(String::as_str));
            cmds.push(add);
        }
        cmds.push(vec!["PFCOUNT", &key]);
        // Sparse sources merge into a sparse destination, one register at a time.
        let (dst, prev) = (format!("d{round}"), format!("r{}", round.max(1) - 1));
        cmds.push(vec!["PFMERGE", &dst, &key, &prev]);
        cmds.push(vec!["PFDEBUG", "DECODE", &key]);
        for args in cmds {
            let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            assert_eq!(outcome(&mut r, &args), outcome(&mut s, &args), "{args:?}");
        }
        for k in [key.as_str(), dst.as_str()] {
            let want: Option<Vec<u8>> = q(&mut r, &["GET", k]);
            let got: Option<Vec<u8>> = q(&mut s, &["GET", k]);
            assert_eq!(want, got, "round {round}: {k}");
        }
    }
}
