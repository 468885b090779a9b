//! Unit tests of the stream value (nodes, trimming, deletion, radix tree size, groups'
//! bookkeeping) and of the handlers on one shard.

use super::*;
use crate::cmd::Cmd;
use crate::shard::Shard;

const NOW: u64 = 1_700_000_000_000;

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

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
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
    assert_eq!(rev.first(), Some(&id(10, 0)));
    assert_eq!(rev.last(), Some(&id(1, 0)));
    // Ranges that start or end inside a node, and across nodes.
    let mid: Vec<StreamId> = s.range(id(3, 0), id(7, 0), false).map(|e| e.id).collect();
    assert_eq!(mid, (3..=7).map(|i| id(i, 0)).collect::<Vec<_>>());
    let back: Vec<StreamId> = s.range(id(2, 5), id(5, 0), true).map(|e| e.id).collect();
    assert_eq!(back, [id(5, 0), id(4, 0), id(3, 0)]);
    assert_eq!(s.range(id(0, 0), id(0, 9), true).count(), 0);
    assert_eq!(s.range(id(11, 0), StreamId::MAX, false).count(), 0);
}

#[test]
fn nodes_split_at_the_listpack_size() {
    let l = Limits {
        stream_node_max_bytes: 100,
        ..Limits::default()
    };
    let mut s = StreamValue::new();
    let v = [b'x'; 20];
    let f: Fields = &[(b"f", &v)];
    // A first entry makes a 48-byte listpack; each further one adds 30 bytes.
    for i in 1..=4 {
        s.add(Some((id(i, 0), true)), f, 0, &l).unwrap();
    }
    assert_eq!(
        s.node_count(),
        2,
        "48 + 21 < 100, 78 + 21 < 100, 108 + 21 >= 100"
    );
    assert_eq!(s.nodes[0].lp_bytes(), 108);
}

#[test]
fn automatic_ids_never_go_backwards() {
    let l = limits(100);
    let mut s = StreamValue::new();
    let f: Fields = &[(b"f", b"v")];
    assert_eq!(s.add(None, f, 1000, &l), Ok(id(1000, 0)));
    assert_eq!(s.add(None, f, 1000, &l), Ok(id(1000, 1)));
    assert_eq!(
        s.add(None, f, 999, &l),
        Ok(id(1000, 2)),
        "the clock went back"
    );
    assert_eq!(s.add(Some((id(1000, 0), false)), f, 0, &l), Ok(id(1000, 3)));
    assert_eq!(
        s.add(Some((id(5, 0), false)), f, 0, &l),
        Err(AddError::NotGreater)
    );
    assert_eq!(
        s.add(Some((id(1000, 3), true)), f, 0, &l),
        Err(AddError::NotGreater)
    );
    s.last_id = id(7, u64::MAX);
    assert_eq!(
        s.add(Some((id(7, 0), false)), f, 0, &l),
        Err(AddError::NotGreater),
        "no sequence left in that millisecond"
    );
    assert_eq!(s.entries_added, 4);
}

#[test]
fn deleting_a_nodes_last_live_entry_removes_the_node() {
    let l = limits(2);
    let mut s = StreamValue::new();
    for i in 1..=5 {
        add(&mut s, i, 0, &l);
    }
    assert_eq!(s.node_count(), 3);
    assert!(s.delete(id(3, 0)));
    assert!(!s.delete(id(3, 0)));
    assert!(!s.delete(id(9, 9)));
    assert_eq!(s.node_count(), 3);
    assert!(s.delete(id(4, 0)));
    assert_eq!(s.node_count(), 2);
    s.after_delete(&[id(3, 0), id(4, 0)]);
    assert_eq!(s.max_deleted, id(4, 0));
    assert_eq!(ids(&s, false), [id(1, 0), id(2, 0), id(5, 0)]);
    assert!(s.delete(id(1, 0)));
    s.after_delete(&[id(1, 0)]);
    assert_eq!(s.first_id, id(2, 0));
    assert_eq!(s.max_deleted, id(4, 0), "only grows");
    assert_eq!(s.last_valid_id(), id(5, 0));
    assert!(s.delete(id(5, 0)));
    assert_eq!(s.last_valid_id(), id(2, 0));
    assert_eq!(s.last_id, id(5, 0));
}

#[test]
fn trimming_removes_whole_nodes_then_marks_entries() {
    let l = limits(4);
    let mut s = StreamValue::new();
    for i in 1..=10 {
        add(&mut s, i, 0, &l);
    }
    // Nodes: 1-4, 5-8, 9-10.
    assert_eq!(s.trim(Trim::MaxLen(7), true, 0), 0, "no whole node may go");
    assert_eq!(s.trim(Trim::MaxLen(6), true, 0), 4);
    assert_eq!(s.first_id, id(5, 0));
    assert_eq!(s.trim(Trim::MaxLen(5), false, 0), 1);
    assert_eq!(s.first_id, id(6, 0));
    assert_eq!(s.node_count(), 2);
    assert_eq!(s.trim(Trim::MinId(id(9, 0)), false, 0), 3);
    assert_eq!(s.node_count(), 1);
    assert_eq!(s.trim(Trim::MaxLen(0), true, 1), 0, "the limit stops it");
    assert_eq!(s.trim(Trim::MaxLen(0), false, 0), 2);
    assert!(s.is_empty());
    assert_eq!(s.first_id, StreamId::MIN);
    assert_eq!(s.last_id, id(10, 0));
}

#[test]
fn a_node_whose_last_entry_is_a_tombstone_survives_min_id_trimming() {
    let l = limits(3);
    let mut s = StreamValue::new();
    for i in 1..=4 {
        add(&mut s, i, 0, &l);
    }
    assert!(s.delete(id(3, 0)));
    // The first node's last entry (3-0, deleted) is not below 3-0: the node stays, its live
    // entries are marked, and it holds no live entry any more, as in Redis.
    assert_eq!(s.trim(Trim::MinId(id(3, 0)), false, 0), 2);
    assert_eq!(s.node_count(), 2);
    assert_eq!(ids(&s, false), [id(4, 0)]);
    assert_eq!(ids(&s, true), [id(4, 0)]);
    add(&mut s, 5, 0, &l);
    assert_eq!(s.trim(Trim::MaxLen(1), false, 0), 1);
    assert_eq!(ids(&s, false), [id(5, 0)]);
}

#[test]
fn radix_tree_node_counts_match_redis() {
    // Counts read from Redis' XINFO STREAM with one entry per node.
    let l = limits(1);
    let mut s = StreamValue::new();
    assert_eq!(s.radix_tree_nodes(), 1);
    let mut counts = Vec::new();
    for (ms, seq) in [(1, 0), (2, 0), (300, 0), (70000, 5)] {
        add(&mut s, ms, seq, &l);
        counts.push(s.radix_tree_nodes());
    }
    assert_eq!(counts, [2, 6, 9, 12]);
    s.delete(id(2, 0));
    assert_eq!(s.radix_tree_nodes(), 9);
}

#[test]
fn lag_and_read_counters() {
    let l = limits(100);
    let mut s = StreamValue::new();
    let g = Group::new(StreamId::MIN, 0);
    assert_eq!(s.lag(&g), Some(0), "nothing ever added");
    for i in 1..=5 {
        add(&mut s, i, 0, &l);
    }
    assert_eq!(s.lag(&g), Some(5));
    let unknown = Group::new(id(3, 0), INVALID_ENTRIES_READ);
    assert_eq!(
        s.lag(&unknown),
        None,
        "an ID inside the stream: not knowable"
    );
    let at_end = Group::new(id(5, 0), INVALID_ENTRIES_READ);
    assert_eq!(s.lag(&at_end), Some(0));
    let before = Group::new(id(0, 5), INVALID_ENTRIES_READ);
    assert_eq!(s.lag(&before), Some(5));
    s.delete(id(4, 0));
    s.after_delete(&[id(4, 0)]);
    let g3 = Group::new(id(3, 0), 3);
    assert_eq!(s.lag(&g3), None, "a tombstone ahead");
    let at_tombstone = Group::new(id(4, 0), 4);
    assert_eq!(
        s.lag(&at_tombstone),
        None,
        "a tombstone at the group's ID counts"
    );
    let past = Group::new(id(4, 5), 4);
    assert_eq!(s.lag(&past), Some(1), "the tombstone is behind");
}

#[test]
fn groups_assign_ack_and_delete_consumers() {
    let mut g = Group::new(StreamId::MIN, 0);
    assert!(g.create_consumer(b"a", NOW));
    assert!(!g.create_consumer(b"a", NOW));
    g.touch_consumer(b"b", NOW + 5);
    g.assign(id(1, 0), b"a", NOW);
    g.assign(id(2, 0), b"a", NOW);
    let n = g.assign(id(1, 0), b"b", NOW);
    assert_eq!((&*n.consumer, n.delivery_count), (&b"b"[..], 1));
    assert_eq!(g.consumers[&b"a"[..]].pel.len(), 1);
    assert_eq!(g.consumers[&b"b"[..]].pel.len(), 1);
    assert!(g.ack(id(2, 0)));
    assert!(!g.ack(id(2, 0)));
    assert_eq!(g.delete_consumer(b"b"), Some(1));
    assert_eq!(g.delete_consumer(b"b"), None);
    assert!(g.pel.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Handlers on one shard

fn run(shard: &mut Shard, args: &[&str]) -> String {
    run_proto(shard, args, false)
}

fn run_proto(shard: &mut Shard, args: &[&str], resp3: bool) -> String {
    let cmd = Cmd::from_args(args);
    let mut out = Reply::new(resp3);
    let mut ctx = shard.ctx(0, NOW, &mut out);
    let h: crate::shard::Handler = match args[0] {
        "XADD" => xadd,
        "XRANGE" => xrange,
        "XREVRANGE" => xrevrange,
        "XREAD" => xread,
        "XREADGROUP" => xreadgroup,
        "XGROUP" => xgroup,
        "XPENDING" => xpending,
        "XINFO" => xinfo,
        other => panic!("{other}"),
    };
    h(&mut ctx, &cmd);
    String::from_utf8(out.buf).unwrap()
}

#[test]
fn handlers_reply_as_redis() {
    let mut sh = Shard::new(0, 1);
    assert_eq!(
        run(&mut sh, &["XADD", "s", "*", "f", "v"]),
        "$15\r\n1700000000000-0\r\n"
    );
    assert_eq!(
        run(&mut sh, &["XADD", "s", "*", "f", "v"]),
        "$15\r\n1700000000000-1\r\n"
    );
    assert_eq!(
        run(&mut sh, &["XRANGE", "s", "-", "+", "COUNT", "1"]),
        "*1\r\n*2\r\n$15\r\n1700000000000-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert_eq!(
        run(&mut sh, &["XREVRANGE", "s", "+", "-", "COUNT", "0"]),
        "*-1\r\n"
    );
    assert_eq!(
        run_proto(&mut sh, &["XRANGE", "s", "-", "+", "COUNT", "0"], true),
        "_\r\n"
    );
    // XREAD: nothing new without BLOCK is a null array; with BLOCK, no reply at all (the
    // server blocks the client).
    assert_eq!(run(&mut sh, &["XREAD", "STREAMS", "s", "$"]), "*-1\r\n");
    assert_eq!(
        run(&mut sh, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
        ""
    );
    assert_eq!(
        run(&mut sh, &["XREAD", "BLOCK", "0", "STREAMS", "none", "0"]),
        ""
    );
    assert_eq!(
        run(&mut sh, &["XREAD", "BLOCK", "x", "STREAMS", "s", "$"]),
        "-ERR timeout is not an integer or out of range\r\n"
    );
    assert_eq!(
        run(&mut sh, &["XGROUP", "CREATE", "s", "g", "$"]),
        "+OK\r\n"
    );
    assert_eq!(
        run(
            &mut sh,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "10",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        ""
    );
    assert_eq!(
        run(
            &mut sh,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "10",
                "STREAMS",
                "s",
                "0"
            ]
        ),
        "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n",
        "history never blocks"
    );
    assert_eq!(
        run_proto(&mut sh, &["XPENDING", "s", "g"], true),
        "*4\r\n:0\r\n_\r\n_\r\n_\r\n"
    );
    assert_eq!(
        run(&mut sh, &["XGROUP", "HELP"]).lines().nth(1),
        Some("+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
    assert!(run(&mut sh, &["XINFO", "STREAM", "s"]).starts_with("*20\r\n$6\r\nlength\r\n:2\r\n"));
    assert!(run_proto(&mut sh, &["XINFO", "STREAM", "s", "FULL"], true).starts_with("%9\r\n"));
}

#[test]
fn block_helpers_for_the_server() {
    let c = |a: &[&str]| Cmd::from_args(a);
    assert_eq!(
        block_deadline(&c(&["XREAD", "BLOCK", "100", "STREAMS", "s", "$"]), NOW),
        Some(NOW + 100)
    );
    assert_eq!(
        block_deadline(&c(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]), NOW),
        Some(0)
    );
    assert_eq!(
        block_deadline(&c(&["XREAD", "STREAMS", "s", "$"]), NOW),
        None
    );
    assert_eq!(
        block_deadline(
            &c(&[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "5",
                "STREAMS",
                "s",
                ">"
            ]),
            NOW
        ),
        Some(NOW + 5)
    );
    assert_eq!(
        dollar_ids(&c(&["XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "0"])),
        [(4, 6)]
    );
    assert!(
        dollar_ids(&c(&["XREAD", "STREAMS", "a", "$"])).is_empty(),
        "no BLOCK"
    );
    assert!(dollar_ids(&c(&["XREAD", "BLOCK", "0", "STREAMS", "a"])).is_empty());
    assert_eq!(
        script_block_error(&c(&[
            "xread", "COUNT", "1", "BLOCK", "0", "STREAMS", "a", "$"
        ])),
        Some("ERR xread command is not allowed with BLOCK option from scripts".into())
    );
    assert_eq!(
        script_block_error(&c(&[
            "XREAD", "COUNT", "x", "BLOCK", "0", "STREAMS", "a", "$"
        ])),
        None,
        "an earlier error wins"
    );
    assert_eq!(
        script_block_error(&c(&["XREAD", "STREAMS", "a", "0"])),
        None
    );
}
