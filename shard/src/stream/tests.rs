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

// ---------------------------------------------------------------------------------------------
// Effects: what the AOF records, and replaying it

use crate::effects::testing::{effects_of, handler, recording_shard};

/// A day after the commands ran: replay must not depend on the time.
const LATER: u64 = NOW + 86_400_000;

/// A recording shard and every effect it logged.
struct Recorded {
    sh: Shard,
    log: Vec<String>,
}

impl Recorded {
    fn new(node_max_entries: u64) -> Recorded {
        let mut sh = recording_shard();
        sh.limits.stream_node_max_entries = node_max_entries;
        Recorded {
            sh,
            log: Vec::new(),
        }
    }

    /// Runs `args` at `now`; returns its effects (database 0's SELECT left out).
    fn fx(&mut self, now: u64, args: &[&str]) -> Vec<String> {
        let fx = effects_of(&mut self.sh, 0, now, handler(args[0]), args);
        let fx: Vec<String> = crate::effects::testing::unwrapped(fx)
            .into_iter()
            .filter(|c| c != "SELECT 0")
            .collect();
        assert!(fx.iter().all(|c| !c.starts_with("SELECT")), "{fx:?}");
        self.log.extend(fx.iter().cloned());
        fx
    }

    /// A fresh shard with `node_max_entries` after replaying the log at time `now`.
    fn replay(&self, node_max_entries: u64, now: u64) -> Shard {
        let mut sh = recording_shard();
        sh.limits.stream_node_max_entries = node_max_entries;
        for c in &self.log {
            let args: Vec<&str> = c.split(' ').collect();
            effects_of(&mut sh, 0, now, handler(args[0]), &args);
        }
        sh
    }
}

fn read_at(sh: &mut Shard, now: u64, args: &[&str]) -> String {
    let cmd = Cmd::from_args(args);
    let mut out = Reply::new(false);
    handler(args[0])(&mut sh.ctx(0, now, &mut out), &cmd);
    String::from_utf8_lossy(&out.buf).into_owned()
}

/// What the read commands show of stream `s` at `now`, and its consumers with their PELs
/// (their seen and active times are those of the replay: not compared).
fn observe(sh: &mut Shard, now: u64) -> Vec<String> {
    let mut seen = vec![
        read_at(sh, now, &["XRANGE", "s", "-", "+"]),
        read_at(sh, now, &["XINFO", "STREAM", "s"]),
        read_at(sh, now, &["XINFO", "GROUPS", "s"]),
    ];
    let Some(Value::Stream(s)) = sh.dbs[0].get(b"s", now).map(|e| &e.value) else {
        return seen;
    };
    let mut groups = Vec::new();
    for (name, g) in s.groups() {
        let name = String::from_utf8_lossy(name).into_owned();
        for c in g.consumers.values() {
            let pel: Vec<String> = c.pel.iter().map(|id| id.to_string()).collect();
            seen.push(format!(
                "{name}/{}: {pel:?}",
                String::from_utf8_lossy(&c.name)
            ));
        }
        for (id, n) in &g.pel {
            seen.push(format!("{name} {id}: {n:?}"));
        }
        groups.push(name);
    }
    for g in groups {
        seen.push(read_at(sh, now, &["XPENDING", "s", &g, "-", "+", "100"]));
    }
    seen
}

/// Replaying `r`'s effects a day later on a fresh shard gives the same stream.
fn assert_replays(r: &mut Recorded, node_max_entries: u64) {
    let mut replayed = r.replay(node_max_entries, LATER);
    assert_eq!(observe(&mut replayed, LATER), observe(&mut r.sh, LATER));
    assert!(
        r.log.iter().all(|c| !c.starts_with("XREADGROUP")
            && !c.starts_with("XAUTOCLAIM")
            && !c.contains('~')
            && !c.contains('*')),
        "{:?}",
        r.log
    );
}

#[test]
fn xadd_records_the_id_it_chose() {
    let mut r = Recorded::new(100);
    assert_eq!(
        r.fx(NOW, &["XADD", "s", "*", "a", "1"]),
        ["XADD s 1700000000000-0 a 1"]
    );
    assert_eq!(
        r.fx(NOW, &["XADD", "s", "1700000000000-*", "b", "2"]),
        ["XADD s 1700000000000-1 b 2"]
    );
    assert_eq!(
        r.fx(NOW, &["XADD", "s", "1700000000005-3", "c", "3"]),
        ["XADD s 1700000000005-3 c 3"],
        "an ID given in full: the request itself"
    );
    assert_eq!(
        r.fx(NOW, &["XADD", "s", "NOMKSTREAM", "*", "d", "4"]),
        ["XADD s NOMKSTREAM 1700000000005-4 d 4"],
        "the clock is behind the stream: the ID after the last one"
    );
    assert!(r
        .fx(NOW, &["XADD", "none", "NOMKSTREAM", "*", "d", "4"])
        .is_empty());
    assert!(r.fx(NOW, &["XADD", "s", "1-1", "x", "y"]).is_empty());
    assert_replays(&mut r, 100);

    // Nothing is recorded with the log off.
    let mut off = Shard::new(0, 1);
    run(&mut off, &["XADD", "s", "*", "f", "v"]);
    assert_eq!(off.effects.produced(), 0);
}

#[test]
fn approximate_trimming_replays_as_exact_trimming() {
    // Nodes of 3 entries: 1-3, 4-6, 7-9, 10-...
    let mut r = Recorded::new(3);
    for i in 1..=10 {
        let id = format!("{i}-0");
        r.fx(NOW, &["XADD", "s", &id, "f", "v"]);
    }
    assert_eq!(
        r.fx(NOW, &["XADD", "s", "MAXLEN", "~", "5", "*", "f", "v"]),
        ["XADD s MAXLEN = 5 1700000000000-0 f v"],
        "two whole nodes went, five entries stay"
    );
    assert_eq!(
        r.fx(NOW, &["XTRIM", "s", "MINID", "~", "10-0", "LIMIT", "100"]),
        ["XTRIM s MINID = 10-0"],
        "the first entry kept; LIMIT dropped"
    );
    assert!(
        r.fx(NOW, &["XTRIM", "s", "MAXLEN", "~", "1"]).is_empty(),
        "no whole node may go: nothing trimmed, nothing recorded"
    );
    assert_eq!(
        r.fx(NOW, &["XADD", "s", "MINID", "~", "1", "*", "f", "v"]),
        ["XADD s MINID = 10-0 1700000000000-1 f v"],
        "rewritten even when nothing was trimmed"
    );
    assert_eq!(
        r.fx(NOW, &["XTRIM", "s", "MAXLEN", "1"]),
        ["XTRIM s MAXLEN 1"],
        "exact trimming: the request itself"
    );
    assert_replays(&mut r, 3);

    // Tombstones: the first entry of what is kept may be a deleted one, as Redis reads it.
    let mut r = Recorded::new(3);
    for i in 1..=9 {
        let id = format!("{i}-0");
        r.fx(NOW, &["XADD", "s", &id, "f", "v"]);
    }
    r.fx(NOW, &["XDEL", "s", "4-0"]);
    assert_eq!(
        r.fx(NOW, &["XTRIM", "s", "MINID", "~", "5-0"]),
        ["XTRIM s MINID = 4-0"]
    );
    assert_eq!(
        r.fx(
            NOW,
            &["XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "9", "limit", "4"]
        ),
        ["XTRIM s MAXLEN = 3"],
        "LIMIT stopped it: the length kept"
    );
    assert_eq!(
        r.fx(
            NOW,
            &["XADD", "limit", "LIMIT", "5", "MINID", "~", "0", "*", "limit", "1"]
        ),
        ["XADD limit MINID = 1700000000000-0 1700000000000-0 limit 1"]
    );
    assert_replays(&mut r, 3);
    // Other node sizes keep the same entries.
    let mut other = r.replay(100, LATER);
    assert_eq!(
        read_at(&mut other, LATER, &["XRANGE", "s", "-", "+"]),
        read_at(&mut r.sh, LATER, &["XRANGE", "s", "-", "+"])
    );
}

#[test]
fn xreadgroup_is_recorded_as_claims_and_group_moves() {
    let mut r = Recorded::new(100);
    assert_eq!(
        r.fx(NOW, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        ["XGROUP CREATE s g $ MKSTREAM"]
    );
    for i in 1..=3 {
        let id = format!("{i}-0");
        r.fx(NOW, &["XADD", "s", &id, "f", "v"]);
    }
    let read = |consumer: &'static str, opts: &[&'static str], id: &'static str| {
        let mut a = vec!["XREADGROUP", "GROUP", "g", consumer];
        a.extend_from_slice(opts);
        a.extend_from_slice(&["STREAMS", "s", id]);
        a
    };
    let claim = |consumer: &str, id: &str, time: u64, count: u32, last: &str| {
        format!("XCLAIM s g {consumer} 0 {id} TIME {time} RETRYCOUNT {count} FORCE JUSTID LASTID {last}")
    };
    assert_eq!(
        r.fx(NOW, &read("alice", &["COUNT", "2"], ">")),
        [
            claim("alice", "1-0", NOW, 1, "1-0"),
            claim("alice", "2-0", NOW, 1, "2-0"),
            "XGROUP SETID s g 2-0 ENTRIESREAD 2".into(),
        ],
        "the claims create alice"
    );
    assert_eq!(
        r.fx(NOW + 1, &read("bob", &["NOACK"], ">")),
        [
            "XGROUP SETID s g 3-0 ENTRIESREAD 3",
            "XGROUP CREATECONSUMER s g bob"
        ]
    );
    assert_eq!(
        r.fx(NOW + 2, &read("carol", &[], ">")),
        ["XGROUP CREATECONSUMER s g carol"],
        "nothing to read, but carol exists now"
    );
    assert!(r
        .fx(NOW + 2, &read("carol", &["BLOCK", "10"], ">"))
        .is_empty());
    assert_eq!(
        r.fx(NOW + 2, &read("dave", &["BLOCK", "10"], ">")),
        ["XGROUP CREATECONSUMER s g dave"],
        "blocking, dave exists"
    );
    assert_eq!(
        r.fx(NOW + 3, &read("alice", &[], "0")),
        [
            claim("alice", "1-0", NOW + 3, 2, "3-0"),
            claim("alice", "2-0", NOW + 3, 2, "3-0"),
        ],
        "its history delivered again"
    );
    r.fx(NOW + 4, &["XDEL", "s", "1-0"]);
    assert_eq!(
        r.fx(NOW + 4, &read("alice", &[], "0")),
        [claim("alice", "2-0", NOW + 4, 3, "3-0")],
        "a deleted entry is not delivered"
    );
    // The blocked dave is served when an entry comes: the server runs the handler again.
    r.fx(NOW + 5, &["XADD", "s", "4-0", "f", "v"]);
    assert_eq!(
        r.fx(NOW + 5, &read("dave", &["BLOCK", "10"], ">")),
        [
            claim("dave", "4-0", NOW + 5, 1, "4-0"),
            "XGROUP SETID s g 4-0 ENTRIESREAD 4".into(),
        ]
    );
    assert_eq!(
        r.fx(NOW + 6, &["XACK", "s", "g", "2-0", "9-0"]),
        ["XACK s g 2-0 9-0"]
    );
    assert_replays(&mut r, 100);
}

#[test]
fn xclaim_and_xautoclaim_are_recorded_as_claims() {
    let mut r = Recorded::new(100);
    r.fx(NOW, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    for i in 1..=4 {
        let id = format!("{i}-0");
        r.fx(NOW, &["XADD", "s", &id, "f", "v"]);
    }
    r.fx(
        NOW,
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"],
    );
    let claim = |consumer: &str, id: &str, time: u64, count: u32, last: &str| {
        format!("XCLAIM s g {consumer} 0 {id} TIME {time} RETRYCOUNT {count} FORCE JUSTID LASTID {last}")
    };
    let t = NOW + 100;
    assert_eq!(
        r.fx(t, &["XCLAIM", "s", "g", "bob", "10", "1-0", "2-0"]),
        [
            claim("bob", "1-0", t, 2, "4-0"),
            claim("bob", "2-0", t, 2, "4-0")
        ]
    );
    assert_eq!(
        r.fx(
            t,
            &["XCLAIM", "s", "g", "bob", "0", "3", "JUSTID", "IDLE", "50"]
        ),
        [claim("bob", "3", t - 50, 1, "4-0")],
        "the ID as given; JUSTID keeps the count"
    );
    assert!(
        r.fx(t, &["XCLAIM", "s", "g", "bob", "1000", "4-0"])
            .is_empty(),
        "not idle enough"
    );
    r.fx(t, &["XDEL", "s", "2-0"]);
    assert_eq!(
        r.fx(t + 100, &["XCLAIM", "s", "g", "carol", "0", "2-0"]),
        [
            claim("bob", "2-0", t, 2, "4-0"),
            "XGROUP CREATECONSUMER s g carol".into(),
        ],
        "a deleted entry leaves the PEL as its owner's claim; carol claimed nothing"
    );
    assert_eq!(
        r.fx(
            t + 100,
            &["XCLAIM", "s", "g", "carol", "0", "9-9", "LASTID", "9-0"]
        ),
        ["XGROUP SETID s g 9-0 ENTRIESREAD 4"],
        "only the group moved"
    );
    r.fx(t + 100, &["XDEL", "s", "4-0"]);
    let t2 = t + 200;
    assert_eq!(
        r.fx(
            t2,
            &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "10"]
        ),
        [
            claim("dave", "1-0", t2, 3, "9-0"),
            claim("dave", "3-0", t2, 2, "9-0"),
            claim("alice", "4-0", NOW, 1, "9-0"),
        ]
    );
    assert_eq!(
        r.fx(t2, &["XAUTOCLAIM", "s", "g", "erin", "1000000", "0"]),
        ["XGROUP CREATECONSUMER s g erin"]
    );
    assert_eq!(
        r.fx(
            t2 + 1,
            &["XAUTOCLAIM", "s", "g", "erin", "0", "(1-0", "JUSTID"]
        ),
        [claim("erin", "3-0", t2 + 1, 2, "9-0")]
    );
    assert!(
        r.fx(t2 + 1, &["XAUTOCLAIM", "s", "g", "erin", "0", "5-0"])
            .is_empty(),
        "erin exists, nothing to claim"
    );
    assert_replays(&mut r, 100);
}

#[test]
fn the_other_writes_are_recorded_as_sent() {
    let mut r = Recorded::new(100);
    for i in 1..=5 {
        let id = format!("{i}-0");
        r.fx(NOW, &["XADD", "s", &id, "f", "v"]);
    }
    for c in [
        &["XGROUP", "CREATE", "s", "g", "$"][..],
        &["XGROUP", "CREATE", "s", "h", "2-0", "ENTRIESREAD", "2"],
        &["XGROUP", "CREATECONSUMER", "s", "h", "c"],
        &["XGROUP", "SETID", "s", "g", "$"],
        &["XGROUP", "SETID", "s", "h", "0", "ENTRIESREAD", "0"],
        &["XDEL", "s", "2-0", "7-0"],
        &[
            "XSETID",
            "s",
            "9-0",
            "ENTRIESADDED",
            "12",
            "MAXDELETEDID",
            "8-0",
        ],
        &["XGROUP", "DELCONSUMER", "s", "h", "c"],
        &["XGROUP", "CREATE", "s", "k", "$"],
        &["XGROUP", "DESTROY", "s", "k"],
    ] {
        assert_eq!(r.fx(NOW, c), [c.join(" ")]);
    }
    r.fx(NOW, &["XGROUP", "CREATECONSUMER", "s", "g", "nobody"]);
    for c in [
        &["XDEL", "s", "2-0"][..],
        &["XGROUP", "DELCONSUMER", "s", "g", "ghost"],
        &["XACK", "s", "g", "1-0"],
        &["XGROUP", "DESTROY", "s", "k"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "nobody"],
        &["XTRIM", "s", "MAXLEN", "100"],
    ] {
        assert!(r.fx(NOW, c).is_empty(), "{c:?} changed nothing");
    }
    assert_replays(&mut r, 100);
}
