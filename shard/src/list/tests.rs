//! Unit tests of the list value: encoding conversions at Redis' sizes, and random operation
//! sequences checked against a `VecDeque` with the quicklist's invariants.

use super::*;
use crate::rng::Rng;
use std::collections::VecDeque;

fn limits(fill: i64) -> Limits {
    Limits {
        list_max_listpack_size: fill,
        ..Limits::default()
    }
}

fn items(l: &ListValue) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    l.for_each(|b| v.push(b.to_vec()));
    v
}

fn push_all(l: &mut ListValue, vals: &[&[u8]], front: bool, fill: i64) {
    let bytes = vals.iter().map(|v| v.len()).sum();
    l.grow(bytes, vals.len(), fill);
    for v in vals {
        l.push(v, front);
    }
}

fn node_counts(l: &ListValue) -> Vec<usize> {
    let (a, b) = l.node_slices();
    a.iter().chain(b).map(Node::count).collect()
}

#[test]
fn listpack_becomes_quicklist_past_one_node_of_bytes() {
    // Each 100-byte string takes 103 bytes: 2 header + 100 + 1 back-length. Pushing the 80th
    // would make 7 + 79 * 103 + 100 > 8192.
    let v = [b'x'; 100];
    let mut l = ListValue::default();
    for _ in 0..79 {
        push_all(&mut l, &[&v], false, -2);
    }
    assert_eq!(l.encoding(), "listpack");
    push_all(&mut l, &[&v], false, -2);
    assert_eq!(l.encoding(), "quicklist");
    // The old listpack is the first node; the new element starts a second one.
    assert_eq!(node_counts(&l), [79, 1]);
    // Back to a listpack once a single node of at most 4096 bytes remains.
    for _ in 0..40 {
        l.pop(false);
        l.settle(-2);
    }
    // 7 + 40 * 103 = 4127 bytes: over half the limit.
    assert_eq!((l.len(), l.encoding()), (40, "quicklist"));
    l.pop(false);
    l.settle(-2);
    assert_eq!((l.len(), l.encoding()), (39, "listpack"));
}

#[test]
fn count_limited_lists_convert_at_the_count_and_back_at_half() {
    let fill = 4;
    let mut l = ListValue::default();
    push_all(&mut l, &[b"a", b"b", b"c", b"d"], false, fill);
    assert_eq!(l.encoding(), "listpack");
    push_all(&mut l, &[b"e"], false, fill);
    assert_eq!(l.encoding(), "quicklist");
    assert_eq!(node_counts(&l), [4, 1]);
    l.pop(false);
    assert!(!l.settle(fill));
    assert_eq!(l.encoding(), "quicklist", "4 > 4 / 2");
    l.pop(false);
    l.settle(fill);
    assert_eq!(l.encoding(), "quicklist", "3 > 2");
    l.pop(false);
    l.settle(fill);
    assert_eq!(l.encoding(), "listpack");
    assert_eq!(items(&l), [b"a".to_vec(), b"b".to_vec()]);
}

#[test]
fn many_pushed_at_once_convert_before_the_push() {
    let mut l = ListValue::default();
    push_all(&mut l, &[b"1", b"2", b"3", b"4", b"5", b"6", b"7"], true, 3);
    assert_eq!(l.encoding(), "quicklist");
    assert_eq!(node_counts(&l), [1, 3, 3]);
    assert_eq!(
        items(&l),
        ["7", "6", "5", "4", "3", "2", "1"].map(|s| s.as_bytes().to_vec())
    );
}

#[test]
fn from_items_is_a_listpack_when_it_fits_one_node() {
    let small: Vec<Vec<u8>> = (0..10).map(|i| format!("e{i}").into_bytes()).collect();
    let l = ListValue::from_items(small.clone(), &Limits::default());
    assert_eq!((l.encoding(), items(&l)), ("listpack", small));
    let big: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("element{i}").into_bytes())
        .collect();
    let l = ListValue::from_items(big.clone(), &Limits::default());
    assert_eq!((l.encoding(), items(&l)), ("quicklist", big));
    let l = ListValue::from_items(vec![b"a".to_vec(); 5], &limits(4));
    assert_eq!(l.encoding(), "quicklist");
    let l = ListValue::from_items(vec![b"a".to_vec(); 4], &limits(4));
    assert_eq!(l.encoding(), "listpack", "the full limit, not half of it");
}

#[test]
fn digest_is_ordered() {
    let d = |v: Vec<&str>| {
        let l = ListValue::from_items(
            v.iter().map(|s| s.as_bytes().to_vec()).collect(),
            &Limits::default(),
        );
        crate::digest::value_digest(&crate::value::Value::List(Box::new(l)))
    };
    assert_ne!(d(vec!["a", "b"]), d(vec!["b", "a"]));
    assert_ne!(d(vec!["ab", ""]), d(vec!["a", "b"]));
    assert_eq!(d(vec!["1", "x"]), d(vec!["1", "x"]));
}

/// Random operations on a list and a `VecDeque`, with small values and small nodes so
/// splits and merges happen; checks contents and the quicklist's invariants after each step.
fn model_run(fill: i64, seed: u64, steps: usize) {
    let mut rng = Rng::new(seed);
    let mut r = |n: u64| rng.next_u64() % n;
    let mut list = ListValue::default();
    let mut model: VecDeque<Vec<u8>> = VecDeque::new();
    let values: Vec<Vec<u8>> = ["a", "b", "c", "1", "-7", "300", "long-value-xyz", ""]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .chain([vec![b'z'; 70]])
        .collect();
    for step in 0..steps {
        let v = values[r(values.len() as u64) as usize].clone();
        let len = model.len() as i64;
        let idx = r(len as u64 * 2 + 3) as i64 - len - 1;
        match r(9) {
            0 | 1 => {
                let front = r(2) == 0;
                let n = 1 + r(5) as usize;
                let vals: Vec<&[u8]> = (0..n).map(|_| v.as_slice()).collect();
                push_all(&mut list, &vals, front, fill);
                for _ in 0..n {
                    if front {
                        model.push_front(v.clone());
                    } else {
                        model.push_back(v.clone());
                    }
                }
            }
            2 => {
                let front = r(2) == 0;
                let got = list.pop(front).map(Owned::into_bytes);
                let want = if front {
                    model.pop_front()
                } else {
                    model.pop_back()
                };
                assert_eq!(got, want, "step {step}");
                list.settle(fill);
            }
            3 => {
                let start = r(model.len() as u64 + 2) as usize;
                let n = r(6) as usize;
                list.remove_range(start, n);
                let s = start.min(model.len());
                let e = (s + n).min(model.len());
                model.drain(s..e);
                list.settle(fill);
            }
            4 => {
                let ok = list.replace(idx, &v);
                let i = if idx < 0 { len + idx } else { idx };
                assert_eq!(ok, (0..len).contains(&i), "step {step}");
                if ok {
                    model[i as usize] = v.clone();
                    list.listpack_if_fits(fill, true);
                }
            }
            5 => {
                let pivot = values[r(values.len() as u64) as usize].clone();
                let after = r(2) == 0;
                list.grow(v.len(), 1, fill);
                let ok = list.insert_at(&Pattern::new(&pivot), &v, after);
                let pos = model.iter().position(|x| *x == pivot);
                assert_eq!(ok, pos.is_some(), "step {step}");
                if let Some(p) = pos {
                    model.insert(if after { p + 1 } else { p }, v.clone());
                }
            }
            6 => {
                let count = r(7) as i64 - 3;
                let removed = list.remove_matching(&Pattern::new(&v), count);
                let mut want = 0;
                let limit = if count == 0 {
                    usize::MAX
                } else {
                    count.unsigned_abs() as usize
                };
                if count >= 0 {
                    let mut i = 0;
                    while i < model.len() && want < limit {
                        if model[i] == v {
                            model.remove(i);
                            want += 1;
                        } else {
                            i += 1;
                        }
                    }
                } else {
                    let mut i = model.len();
                    while i > 0 && want < limit {
                        i -= 1;
                        if model[i] == v {
                            model.remove(i);
                            want += 1;
                        }
                    }
                }
                assert_eq!(removed, want, "step {step}");
                list.settle(fill);
            }
            7 => {
                let got = list.get(idx).map(|e| e.to_owned().into_bytes());
                let i = if idx < 0 { len + idx } else { idx };
                let want = (0..len).contains(&i).then(|| model[i as usize].clone());
                assert_eq!(got, want, "step {step}");
            }
            _ => {
                let rank = 1 + r(3);
                let reverse = r(2) == 0;
                let pat = Pattern::new(&v);
                let got = list.positions(&pat, rank, 0, 0, reverse);
                let mut want: Vec<i64> = Vec::new();
                let order: Vec<usize> = if reverse {
                    (0..model.len()).rev().collect()
                } else {
                    (0..model.len()).collect()
                };
                let mut matches = 0;
                for i in order {
                    if model[i] == v {
                        matches += 1;
                        if matches >= rank {
                            want.push(i as i64);
                        }
                    }
                }
                assert_eq!(got, want, "step {step}");
            }
        }
        assert_eq!(list.len(), model.len(), "step {step}");
        assert_eq!(items(&list), Vec::from(model.clone()), "step {step}");
        if let Repr::Quicklist(q) = &list.0 {
            assert!(
                q.nodes.iter().all(|n| n.count() > 0),
                "step {step}: empty node"
            );
            assert_eq!(q.nodes.iter().map(Node::count).sum::<usize>(), q.len());
        }
        if list.is_empty() {
            list = ListValue::default();
        }
    }
}

#[test]
fn random_operations_agree_with_a_deque() {
    for (fill, seed) in [(4, 1), (2, 2), (1, 3), (-1, 4), (-2, 5), (0, 6)] {
        model_run(fill, seed, 3000);
    }
}

// ---------------------------------------------------------------------------------------------
// Effects

mod effects {
    use crate::effects::testing::{recording_shard, replay, run};
    use crate::Shard;

    fn digest(s: &Shard) -> crate::digest::Digest {
        crate::digest::db_digest(&s.dbs[0], 1000)
    }

    #[test]
    fn blocking_and_multi_key_pops_propagate_their_plain_forms() {
        let mut s = recording_shard();
        let mut all = run(&mut s, &["RPUSH", "b", "1", "2", "3", "4", "5", "6"]);
        assert_eq!(all, ["SELECT 0", "RPUSH b 1 2 3 4 5 6"]);
        let cases: [(&[&str], &[&str]); 8] = [
            (&["BLPOP", "a", "b", "0"], &["LPOP b"]),
            (&["BRPOP", "a", "b", "1.5"], &["RPOP b"]),
            (
                &["BLMOVE", "b", "c", "right", "LEFT", "0"],
                &["LMOVE b c right LEFT"],
            ),
            (&["BRPOPLPUSH", "b", "c", "0"], &["RPOPLPUSH b c"]),
            (
                &["LMPOP", "2", "a", "c", "RIGHT", "COUNT", "9"],
                &["RPOP c 2"],
            ),
            (&["BLMPOP", "0", "2", "a", "b", "LEFT"], &["LPOP b 1"]),
            // Nothing to pop: the blocking forms block, nothing is recorded.
            (&["BLPOP", "a", "c", "0"], &[]),
            (&["BLMOVE", "a", "b", "LEFT", "LEFT", "0"], &[]),
        ];
        for (args, want) in cases {
            let fx = run(&mut s, args);
            assert_eq!(fx, want, "{args:?}");
            all.extend(fx);
        }
        assert!(run(&mut s, &["BLMPOP", "0", "1", "a", "LEFT"]).is_empty());
        // The last elements of a key: the key goes, on replay too.
        let fx = run(&mut s, &["LMPOP", "1", "b", "LEFT", "COUNT", "100"]);
        assert_eq!(fx, ["LPOP b 1"]);
        all.extend(fx);
        let fx = run(&mut s, &["RPUSH", "c", "x"]);
        all.extend(fx);
        assert_eq!(run(&mut s, &["BRPOP", "c", "0"]), ["RPOP c"]);
        all.push("RPOP c".into());
        assert_eq!(s.keys(), 0);
        assert_eq!(digest(&replay(9_000_000, &all)), digest(&s));
    }

    #[test]
    fn replayed_moves_rebuild_the_same_lists() {
        let mut s = recording_shard();
        let mut all = run(&mut s, &["RPUSH", "src", "a", "b", "c", "d"]);
        for args in [
            &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"][..],
            &["BRPOPLPUSH", "src", "dst", "0"],
            &["BLMOVE", "src", "src", "LEFT", "RIGHT", "0"],
            &["BLMPOP", "0", "1", "dst", "RIGHT", "COUNT", "1"],
        ] {
            all.extend(run(&mut s, args));
        }
        assert_eq!(s.keys(), 2);
        assert_eq!(digest(&replay(9_000_000, &all)), digest(&s));
    }
}
