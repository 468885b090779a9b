use super::*;
use crate::rng::Rng;

/// Vectors computed with Redis' C MurmurHash64A (`hyperloglog.c`), with Redis' HLL seed and
/// with seed 0.
const MURMUR: &[(&[u8], u64, u64)] = &[
    (b"", 0xd8dfea6585bc9732, 0x0000000000000000),
    (b"a", 0x53d2470a9b43b1a7, 0x071717d2d36b6b11),
    (b"foo", 0xe64609b8b0141cb4, 0xcdde38358fd25b01),
    (b"hello", 0x0f656f01eecfe400, 0x1e68d17c457bf117),
    (b"abcdefg", 0x22fe613bb08c9602, 0x241aa52b0a62005d),
    (b"abcdefgh", 0xf3a65df559914567, 0xafdb0257ff41aa98),
    (b"abcdefghi", 0x834fba4d9152daf7, 0xc9b9d84356146ac2),
    (
        b"The quick brown fox jumps over the lazy dog",
        0x51606c5c5b561ace,
        0x5589ca33042a861b,
    ),
];

#[test]
fn murmurhash64a_matches_redis() {
    for &(key, with_seed, seed0) in MURMUR {
        assert_eq!(murmurhash64a(key, SEED), with_seed, "{key:?}");
        assert_eq!(murmurhash64a(key, 0), seed0, "{key:?}");
    }
}

#[test]
fn pattern_length_and_register_come_from_the_hash() {
    // "hello": hash 0x0f656f01eecfe400 -> register 0x2400; bit 14 is set: no zero.
    assert_eq!(pat_len(b"hello"), (0x2400, 1));
    // "a": 0x53d2470a9b43b1a7: bits 14 and 15 are 0 and 1, so one zero, then a one.
    assert_eq!(pat_len(b"a"), (0x31a7, 2));
    for i in 0..10_000u32 {
        let (index, count) = pat_len(&i.to_le_bytes());
        assert!(index < REGISTERS);
        assert!((1..=51).contains(&count));
    }
}

#[test]
fn dense_registers_round_trip_without_disturbing_neighbours() {
    let mut rng = Rng::new(7);
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let mut model = vec![0u8; REGISTERS];
    for _ in 0..5 {
        for (i, m) in model.iter_mut().enumerate() {
            *m = rng.next_u64() as u8 & 63;
            dense_set(&mut regs, i, *m);
        }
        for (i, &m) in model.iter().enumerate() {
            assert_eq!(dense_get(&regs, i), m, "register {i}");
        }
    }
    // The layout: register 0 in the low 6 bits of byte 0, register 1 across bytes 0 and 1.
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    dense_set(&mut regs, 0, 63);
    assert_eq!(&regs[..2], &[0x3f, 0x00]);
    dense_set(&mut regs, 1, 0b10_1101);
    assert_eq!(&regs[..2], &[0x7f, 0x0b]);
    dense_set(&mut regs, REGISTERS - 1, 63);
    assert_eq!(regs[regs.len() - 1], 0xfc);
    assert_eq!(dense_get(&regs, REGISTERS - 1), 63);
    let mut histo = [0u32; 64];
    dense_histogram(&regs, &mut histo);
    assert_eq!(
        (histo[0], histo[63], histo[45]),
        (REGISTERS as u32 - 3, 2, 1)
    );
}

#[test]
fn a_new_hll_is_sparse_and_empty() {
    let s = new_sparse();
    assert_eq!(
        s,
        b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
    );
    assert!(is_hll(&s));
    assert_eq!(decode(&s), "Z:16384");
    assert_eq!(estimate(&histogram(&s).unwrap()), 0);
    assert_eq!(cached_card(&s), Some(0));
}

fn sparse_with(sets: &[(usize, u8)]) -> Vec<u8> {
    let mut s = new_sparse();
    for &(i, v) in sets {
        assert_eq!(sparse_set(&mut s, i, v, 3000), Ok(true));
    }
    s
}

#[test]
fn sparse_opcodes_split_and_merge_like_redis() {
    // The example of hyperloglog.c's introduction.
    let s = sparse_with(&[(1000, 2), (1020, 3), (1021, 3)]);
    assert_eq!(decode(&s), "Z:1000 v:2,1 z:19 v:3,2 Z:15362");
    assert_eq!(&s[HDR_SIZE..], &[0x43, 0xe7, 0x84, 0x12, 0x89, 0x7c, 0x01]);
    assert_eq!(s[15] & 0x80, 0x80, "the cache is invalidated");
    // Edges: the first and the last register, and a value that only grows.
    let mut s = sparse_with(&[(0, 1), (REGISTERS - 1, 32)]);
    assert_eq!(decode(&s), "v:1,1 Z:16382 v:32,1");
    assert_eq!(sparse_set(&mut s, 0, 1, 3000), Ok(false));
    assert_eq!(sparse_set(&mut s, 1, 1, 3000), Ok(true));
    assert_eq!(decode(&s), "v:1,2 Z:16381 v:32,1");
    // Splitting a VAL run keeps its neighbours' value; equal runs merge up to 4.
    let mut s = sparse_with(&[(10, 5), (11, 5), (12, 5), (13, 5)]);
    assert_eq!(decode(&s), "z:10 v:5,4 Z:16370");
    sparse_set(&mut s, 12, 7, 3000).unwrap();
    assert_eq!(decode(&s), "z:10 v:5,2 v:7,1 v:5,1 Z:16370");
    sparse_set(&mut s, 14, 5, 3000).unwrap();
    assert_eq!(decode(&s), "z:10 v:5,2 v:7,1 v:5,2 Z:16369");
    // A zero run of one register becomes a VAL in place.
    let mut s = sparse_with(&[(5, 1), (7, 1)]);
    assert_eq!(decode(&s), "z:5 v:1,1 z:1 v:1,1 Z:16376");
    sparse_set(&mut s, 6, 1, 3000).unwrap();
    assert_eq!(decode(&s), "z:5 v:1,3 Z:16376");
}

/// Random register updates applied to a sparse HLL and to a plain array agree at every step,
/// through the promotion to dense.
#[test]
fn sparse_and_dense_agree_with_a_plain_model() {
    let mut rng = Rng::new(42);
    for round in 0..20 {
        let max_bytes = [300, 3000, 16000][round % 3];
        let mut s = new_sparse();
        let mut model = vec![0u8; REGISTERS];
        let steps = 50 + rng.below(3000) as usize;
        for _ in 0..steps {
            // Clustered indexes exercise the VAL merging; rare big values force promotion.
            let index = if rng.below(2) == 0 {
                rng.below(REGISTERS as u64) as usize
            } else {
                (rng.below(64) * 7) as usize
            };
            let count = if rng.below(500) == 0 {
                33 + rng.below(18) as u8
            } else {
                1 + rng.below(6) as u8
            };
            let changed = model[index] < count;
            model[index] = model[index].max(count);
            assert_eq!(set_register(&mut s, index, count, max_bytes), Ok(changed));
            assert!(encoding(&s) == DENSE || s.len() <= max_bytes);
        }
        assert_eq!(histogram(&s).unwrap(), raw_histogram(&model));
        let mut merged = vec![0u8; REGISTERS];
        merge_into(&mut merged, &s).unwrap();
        assert_eq!(merged, model);
        let mut dense = s.clone();
        sparse_to_dense(&mut dense).unwrap();
        assert_eq!(dense.len(), DENSE_SIZE);
        assert_eq!(&dense[..4], b"HYLL");
        assert_eq!(dense[4], DENSE);
        assert_eq!(&dense[5..16], &s[5..16], "the header is kept");
        for (i, &m) in model.iter().enumerate() {
            assert_eq!(dense_get(&dense[HDR_SIZE..], i), m);
        }
    }
}

#[test]
fn promotion_happens_past_the_size_limit_or_above_32() {
    let mut s = new_sparse();
    assert_eq!(sparse_set(&mut s, 100, 33, 3000), Ok(true));
    assert_eq!(encoding(&s), DENSE);
    assert_eq!(dense_get(&s[HDR_SIZE..], 100), 33);

    // Each isolated register costs up to 3 bytes (XZERO split into XZERO-VAL-XZERO, then
    // ZERO-VAL-ZERO runs): the string grows until the limit forbids it.
    let mut s = new_sparse();
    let mut i = 0;
    while encoding(&s) == SPARSE {
        let before = s.len();
        sparse_set(&mut s, i, 1, 60).unwrap();
        assert!(encoding(&s) == DENSE || (s.len() <= 60 && s.len() >= before));
        i += 100;
    }
    for j in (0..i).step_by(100) {
        assert_eq!(dense_get(&s[HDR_SIZE..], j), 1);
    }
}

#[test]
fn corrupted_sparse_strings_are_detected_where_redis_detects_them() {
    // Too few registers.
    let mut short = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xfe".to_vec();
    assert!(is_hll(&short));
    assert_eq!(histogram(&short), Err(Corrupt));
    assert_eq!(merge_into(&mut [0; REGISTERS], &short), Err(Corrupt));
    assert_eq!(sparse_to_dense(&mut short.clone()), Err(Corrupt));
    // Setting a register inside the described part still works (Redis checks nothing
    // more there); past it is an error.
    assert_eq!(sparse_set(&mut short, 5, 1, 3000), Ok(true));
    assert_eq!(sparse_set(&mut short, REGISTERS - 1, 1, 3000), Err(Corrupt));
    // Too many registers.
    let long = [new_sparse(), vec![0x00]].concat();
    assert_eq!(histogram(&long), Err(Corrupt));
    // Only a header.
    let mut bare = new_sparse()[..HDR_SIZE].to_vec();
    assert_eq!(sparse_set(&mut bare, 0, 1, 3000), Err(Corrupt));
    // An XZERO cut short reads a zero second byte, as Redis reads the string's NUL.
    let cut = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f".to_vec();
    assert_eq!(decode(&cut), "Z:16129");
    assert_eq!(histogram(&cut), Err(Corrupt));
    // Not HLLs at all.
    assert!(!is_hll(b"HYLL\x01"));
    assert!(!is_hll(
        b"HYLX\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
    ));
    assert!(!is_hll(
        b"HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
    ));
    assert!(!is_hll(
        b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
    ));
}

#[test]
fn estimates_are_close_for_small_and_large_sets() {
    let mut s = new_sparse();
    let mut dense = vec![0u8; DENSE_SIZE];
    for n in 1..=20_000u32 {
        let ele = format!("element:{n}");
        add(&mut s, ele.as_bytes(), 3000).unwrap();
        let (index, count) = pat_len(ele.as_bytes());
        dense_raise(&mut dense[HDR_SIZE..], index, count);
        if [1, 10, 100, 1000, 20_000].contains(&n) {
            let est = estimate(&histogram(&s).unwrap());
            let err = (est as f64 - n as f64).abs() / n as f64;
            assert!(err < 0.02 || est.abs_diff(n as u64) <= 1, "{n}: {est}");
            dense[4] = DENSE;
            assert_eq!(est, estimate(&histogram(&dense).unwrap()));
        }
    }
    assert_eq!(encoding(&s), DENSE);
}

#[test]
fn crafted_registers_above_51_estimate_as_redis_does() {
    // Registers of 40 give a finite, huge estimate; registers above 51 make the estimator's
    // denominator 0 and Redis' llroundl answer LLONG_MIN (Redis 7.0.15 replies
    // 12994641697113596 and -9223372036854775808 for these).
    let mut histo = [0u32; 64];
    histo[40] = REGISTERS as u32;
    assert_eq!(estimate(&histo), 12994641697113596);
    for r in [51, 63] {
        let mut histo = [0u32; 64];
        histo[r] = REGISTERS as u32;
        assert_eq!(estimate(&histo) as i64, i64::MIN);
    }
}

#[test]
fn the_self_test_passes() {
    assert_eq!(selftest(&mut Rng::new(1), 3000), Ok(()));
}

/// Runs a PF command on database 0 of `shard` and returns the RESP2 reply.
fn run(shard: &mut crate::Shard, args: &[&str]) -> String {
    let mut out = crate::Reply::new(false);
    let cmd = Cmd::from_args(args);
    let handler: crate::Handler = match args[0] {
        "PFADD" => pfadd,
        "PFCOUNT" => pfcount,
        "PFMERGE" => pfmerge,
        "PFDEBUG" => pfdebug,
        other => panic!("{other}"),
    };
    handler(&mut shard.ctx(0, 1_000_000, &mut out), &cmd);
    String::from_utf8(out.buf).unwrap()
}

#[test]
fn other_types_get_the_plain_wrongtype_error() {
    let mut shard = crate::Shard::new(0, 1);
    let list = crate::list::ListValue::from_items(vec![b"x".to_vec()], &shard.limits);
    shard.dbs[0].set(b"l", Value::List(Box::new(list)), 0, 1_000_000);
    let wrongtype = format!("-{}\r\n", err::WRONGTYPE);
    for args in [
        &["PFADD", "l", "a"][..],
        &["PFCOUNT", "l"],
        &["PFCOUNT", "missing", "l"],
        &["PFMERGE", "l"],
        &["PFMERGE", "d", "l"],
        &["PFDEBUG", "ENCODING", "l"],
    ] {
        assert_eq!(run(&mut shard, args), wrongtype, "{args:?}");
    }
    assert!(!shard.dbs[0].contains(b"d", 1_000_000));
    assert_eq!(shard.dirty, 0);
}

#[test]
fn writes_are_counted_as_redis_counts_them() {
    let mut shard = crate::Shard::new(0, 1);
    // Creation plus one per changed register.
    assert_eq!(run(&mut shard, &["PFADD", "h", "a", "b", "c"]), ":1\r\n");
    assert_eq!(shard.dirty, 4);
    assert_eq!(run(&mut shard, &["PFADD", "h", "a"]), ":0\r\n");
    assert_eq!(shard.dirty, 4);
    // Storing the cache is a write; serving it is not; a union never writes.
    assert_eq!(run(&mut shard, &["PFCOUNT", "h"]), ":3\r\n");
    assert_eq!(shard.dirty, 5);
    assert_eq!(run(&mut shard, &["PFCOUNT", "h"]), ":3\r\n");
    assert_eq!(run(&mut shard, &["PFCOUNT", "h", "h2"]), ":3\r\n");
    assert_eq!(shard.dirty, 5);
    assert_eq!(run(&mut shard, &["PFMERGE", "h2", "h"]), "+OK\r\n");
    assert_eq!(shard.dirty, 6);
    assert_eq!(run(&mut shard, &["PFDEBUG", "TODENSE", "h2"]), ":1\r\n");
    assert_eq!(run(&mut shard, &["PFDEBUG", "TODENSE", "h2"]), ":0\r\n");
    assert_eq!(
        run(&mut shard, &["PFDEBUG", "ENCODING", "h2"]),
        "+dense\r\n"
    );
    assert_eq!(shard.dirty, 7);
}

#[test]
fn pf_writes_are_their_own_effect() {
    use crate::string::testkit::assert_own_effects;
    let script: &[&[&str]] = &[
        &["PFADD", "h", "a", "b", "c"],
        &["PFADD", "h", "a"],
        // Computing the cardinality stores it in the HLL: a write, replayed as itself.
        &["PFCOUNT", "h"],
        &["PFCOUNT", "h"],
        &["PFADD", "g", "x"],
        &["PFCOUNT", "h", "g"],
        &["PFMERGE", "m", "h", "g"],
        &["PFADD", "e"],
        &["PFCOUNT", "m"],
    ];
    // The PFADD that changed no register, the cached count, the union count.
    assert_own_effects(script, &[1, 3, 5]);
}
