//! Unit tests of the stream value: entries, nodes, trimming, groups' bookkeeping.

use super::*;

fn limits(max_entries: u64) -> Limits {
    Limits {
        stream_node_max_entries: max_entries,
        ..Limits::default()
    }
}

fn add(s: &mut StreamValue, ms: u64, seq: u64, l: &Limits) {
    let f: Fields = &[(b"f", b"v")];
    s.add(Some((StreamId::new(ms, seq), true)), f, 0, l)
        .unwrap();
}

fn ids(s: &StreamValue, rev: bool) -> Vec<StreamId> {
    s.range(StreamId::MIN, StreamId::MAX, rev)
        .map(|e| e.id)
        .collect()
}

#[test]
fn nodes_split_at_the_entry_limit() {
    let l = limits(3);
    let mut s = StreamValue::new();
    for i in 1..=10 {
        add(&mut s, i, 0, &l);
    }
    assert_eq!(s.node_count(), 4);
    assert_eq!(s.len(), 10);
    assert_eq!(ids(&s, false).len(), 10);
    let rev = ids(&s, true);
    assert_eq!(rev.first(), Some(&StreamId::new(10, 0)));
    assert_eq!(rev.last(), Some(&StreamId::new(1, 0)));
}
