//! What the server says about its replication role: INFO's `# Replication` fields about
//! the master, ROLE, HELLO's `role`.

use super::{ReplIds, State};
use crate::local::{Local, Shared};
use replication::follower::LinkState;
use shard::Reply;
use std::fmt::Write;
use std::time::Instant;

/// ROLE: `master offset [replicas]`, or `slave host port state offset`.
pub fn role(local: &Local, out: &mut Reply) {
    let st = local.shared.follower.state();
    match &st.master {
        None => {
            let replicas = crate::leader::role_replicas(local);
            out.array(3);
            out.bulk(b"master");
            out.int(local.shared.leader.offset() as i64);
            out.array(replicas.len());
            for (ip, port, acked) in replicas {
                out.array(3);
                out.bulk(ip.as_bytes());
                out.bulk(port.to_string().as_bytes());
                out.bulk(acked.to_string().as_bytes());
            }
        }
        Some((host, port)) => {
            out.array(5);
            out.bulk(b"slave");
            out.bulk(host.as_bytes());
            out.int(*port as i64);
            out.bulk(st.link.role_name().as_bytes());
            let offset = if st.link == LinkState::Connected {
                st.ids.offset as i64
            } else {
                -1
            };
            out.int(offset);
        }
    }
}

/// HELLO's `role` field.
pub fn hello_role(shared: &Shared) -> &'static [u8] {
    if shared.follower.is_replica() {
        b"replica"
    } else {
        b"master"
    }
}

/// The start of INFO's `# Replication` section: `role`, and on a replica the fields about
/// its master (Redis 7's names and order, up to `replica_announced`). Returns the ids and
/// offset the section's common tail shows.
pub fn info_fields(local: &Local, out: &mut String) -> ReplIds {
    let (priority, announced) = {
        let c = local.shared.config();
        (c.replica_priority, c.replica_announced)
    };
    let st = local.shared.follower.state();
    write_fields(&st, priority, announced, Instant::now(), out);
    st.ids.clone()
}

/// [`info_fields`] for a given state, at `now`.
fn write_fields(st: &State, priority: u64, announced: bool, now: Instant, out: &mut String) {
    let Some((host, port)) = &st.master else {
        out.push_str("role:master\r\n");
        return;
    };
    let secs = |t: Instant| now.saturating_duration_since(t).as_secs() as i64;
    let connected = st.link == LinkState::Connected;
    let _ = write!(
        out,
        "role:slave\r\nmaster_host:{host}\r\nmaster_port:{port}\r\nmaster_link_status:{}\r\n\
         master_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\n\
         slave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
        if connected { "up" } else { "down" },
        st.last_io.map_or(-1, secs),
        (st.link == LinkState::Transfer) as u8,
        st.read_offset,
        st.ids.offset,
    );
    if let (LinkState::Transfer, Some(t)) = (st.link, st.transfer) {
        let perc = if t.total != 0 {
            t.read as f64 / t.total as f64 * 100.0
        } else {
            0.0
        };
        let _ = write!(
            out,
            "master_sync_total_bytes:{}\r\nmaster_sync_read_bytes:{}\r\n\
             master_sync_left_bytes:{}\r\nmaster_sync_perc:{perc:.2}\r\n\
             master_sync_last_io_seconds_ago:{}\r\n",
            t.total,
            t.read,
            t.total - t.read as i64,
            secs(t.last_io),
        );
    }
    if !connected {
        let _ = write!(
            out,
            "master_link_down_since_seconds:{}\r\n",
            st.down_since.map_or(-1, secs)
        );
    }
    let _ = write!(
        out,
        "slave_priority:{priority}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
        st.read_only as u8, announced as u8
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::follower::{Follower, Transfer};
    use std::time::Duration;

    fn fields(st: &State, now: Instant) -> Vec<String> {
        let mut out = String::new();
        write_fields(st, 100, true, now, &mut out);
        out.split("\r\n")
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    fn replica_state() -> State {
        let f = Follower::new(&crate::config::Config::default(), &"a".repeat(40));
        let mut st = f.state.into_inner().unwrap();
        st.master = Some(("10.0.0.1".into(), 6380));
        st
    }

    #[test]
    fn a_master_says_only_its_role() {
        let f = Follower::new(&crate::config::Config::default(), &"a".repeat(40));
        let st = f.state.into_inner().unwrap();
        assert_eq!(fields(&st, Instant::now()), ["role:master"]);
    }

    #[test]
    fn a_replica_while_syncing() {
        let now = Instant::now();
        let mut st = replica_state();
        st.link = LinkState::Transfer;
        st.down_since = Some(now - Duration::from_secs(7));
        st.transfer = Some(Transfer {
            total: 1000,
            read: 250,
            last_io: now - Duration::from_secs(2),
        });
        assert_eq!(
            fields(&st, now),
            [
                "role:slave",
                "master_host:10.0.0.1",
                "master_port:6380",
                "master_link_status:down",
                "master_last_io_seconds_ago:-1",
                "master_sync_in_progress:1",
                "slave_read_repl_offset:0",
                "slave_repl_offset:0",
                "master_sync_total_bytes:1000",
                "master_sync_read_bytes:250",
                "master_sync_left_bytes:750",
                "master_sync_perc:25.00",
                "master_sync_last_io_seconds_ago:2",
                "master_link_down_since_seconds:7",
                "slave_priority:100",
                "slave_read_only:1",
                "replica_announced:1",
            ]
        );
        // Before the payload's header: the size is not known yet (-1), as Redis shows it.
        st.transfer = Some(Transfer {
            total: -1,
            read: 0,
            last_io: now,
        });
        let f = fields(&st, now);
        assert!(f.contains(&"master_sync_left_bytes:-1".to_string()));
        assert!(f.contains(&"master_sync_perc:-0.00".to_string()));
    }

    #[test]
    fn a_connected_replica() {
        let now = Instant::now();
        let mut st = replica_state();
        st.link = LinkState::Connected;
        st.last_io = Some(now - Duration::from_secs(3));
        st.ids.offset = 500;
        st.read_offset = 520;
        let f = fields(&st, now);
        assert!(f.contains(&"master_link_status:up".to_string()));
        assert!(f.contains(&"master_last_io_seconds_ago:3".to_string()));
        assert!(f.contains(&"slave_read_repl_offset:520".to_string()));
        assert!(f.contains(&"slave_repl_offset:500".to_string()));
        assert!(!f.iter().any(|l| l.starts_with("master_link_down_since")));
        assert!(!f.iter().any(|l| l.starts_with("master_sync_total")));
    }
}
