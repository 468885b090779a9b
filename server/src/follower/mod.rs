//! The follower: REPLICAOF / SLAVEOF, the link with the master and what being a replica
//! changes for everyone else (read-only, -MASTERDOWN, -LOADING, INFO, ROLE, HELLO).
//!
//! - **The link** (`link`) is one glommio task on executor 0, for the life of one REPLICAOF
//!   (an *epoch*): connect, handshake as Redis' replica does, PSYNC, then either a full
//!   synchronization (`load`: the RDB to a temporary file in `dir`, the whole data set
//!   replaced from it) or a continuation, then the command stream (`stream`), applied
//!   through the normal command path by a session of the master's own. A lost link is
//!   reconnected with backoff, continuing from the applied offset when the master still
//!   has it. Executor 0 because the stream's commands go through `dispatch::run_batch`,
//!   which needs an executor; a glommio socket on the same task avoids a thread hop per
//!   read (a std thread would have to hand every batch to an executor anyway).
//! - **Everyone else** sees one atomic `gate` (read-only, stale, loading) in the
//!   dispatcher's checks; the master's session (client id [`MASTER_CLIENT`]) passes it.
//!   Shards in replica mode (`Shard::set_replica`) keep expired keys for the master's DELs.
//! - **State** that INFO and ROLE read from any executor lives behind a mutex here; the
//!   link task publishes into it.

mod link;
mod report;
mod stream;

pub use report::{hello_role, info_fields, role};

use crate::client::Session;
use crate::command::meta::flag;
use crate::local::{unix_ms, Local, Shared};
use crate::log;
use atomic_waker::AtomicWaker;
use replication::follower::{random_replid, Cursor, LinkState};
use shard::{Cmd, Reply};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The client id of the master's session: its commands may write on a read-only replica
/// and see keys whatever their TTL. Never handed to a connection.
pub const MASTER_CLIENT: u64 = u64::MAX;

const READONLY: &str = "READONLY You can't write against a read only replica.";
const MASTERDOWN: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
const LOADING: &str = "LOADING Redis is loading the dataset in memory";
/// A script's `redis.call` of a command not flagged `stale`, on a stale replica.
const STALE_CALL: &str = "ERR Can not execute the command on a stale replica";

/// Bits of [`Follower::gate`].
mod gate {
    /// A replica with `replica-read-only yes`: writes are refused.
    pub const READ_ONLY: u8 = 1;
    /// A replica whose link is down with `replica-serve-stale-data no`.
    pub const STALE: u8 = 2;
    /// A full synchronization replaces the data set.
    pub const LOADING: u8 = 4;
}

/// The server's replication identity (INFO `master_replid`...): a replica takes its
/// master's; a promoted replica starts a new history and remembers the old one as the
/// second id.
#[derive(Clone, Debug)]
pub struct ReplIds {
    /// The current history's id (`master_replid`).
    pub replid: String,
    /// The previous history's id (`master_replid2`), zeros when there is none.
    pub replid2: String,
    /// Up to which offset `replid2` is valid (-1: none).
    pub second_offset: i64,
    /// The offset of the last byte of the history (`master_repl_offset`).
    pub offset: u64,
}

/// A full synchronization's transfer in progress (INFO `master_sync_*`).
#[derive(Clone, Copy, Debug)]
struct Transfer {
    /// The announced size: -1 before the header arrived, 0 for an EOF-marked payload.
    total: i64,
    read: u64,
    last_io: Instant,
}

/// What INFO and ROLE show, and what a reconnect continues from.
struct State {
    master: Option<(String, u16)>,
    link: LinkState,
    ids: ReplIds,
    /// A reconnect may ask to continue from `ids` (Redis' cached master).
    psync: bool,
    /// The database the master's stream has selected (kept across reconnects: the master
    /// does not repeat its SELECT after +CONTINUE).
    stream_db: usize,
    /// Bytes of the stream read (`slave_read_repl_offset`); `ids.offset` is what was applied.
    read_offset: u64,
    /// The stream is being applied: when the master last sent something.
    last_io: Option<Instant>,
    /// When a working link was lost (`master_link_down_since_seconds`).
    down_since: Option<Instant>,
    transfer: Option<Transfer>,
    loading: bool,
    /// `replica-read-only`, `replica-serve-stale-data` (copied from the config).
    read_only: bool,
    serve_stale: bool,
}

impl State {
    fn gate(&self) -> u8 {
        if self.master.is_none() {
            return 0;
        }
        let mut g = 0;
        if self.read_only {
            g |= gate::READ_ONLY;
        }
        if !self.serve_stale && self.link != LinkState::Connected {
            g |= gate::STALE;
        }
        if self.loading {
            g |= gate::LOADING;
        }
        g
    }

    fn cursor(&self) -> Option<Cursor> {
        self.psync.then(|| Cursor {
            replid: self.ids.replid.clone(),
            offset: self.ids.offset,
        })
    }
}

/// The follower's server-wide state (in `Shared`).
pub struct Follower {
    gate: AtomicU8,
    /// Bumped by every change of master: the link task of an older epoch stops.
    epoch: AtomicU64,
    /// The link task waits on this; a change of master wakes it.
    link_waker: AtomicWaker,
    link_running: AtomicBool,
    /// REPLICAOF commands take turns.
    switching: AtomicBool,
    state: Mutex<State>,
}

impl Follower {
    /// The state of a server that is a master (`replicaof` is applied by [`start`] once the
    /// data set is loaded); `run_id` is its first replication id.
    pub fn new(config: &crate::config::Config, run_id: &str) -> Follower {
        Follower {
            gate: AtomicU8::new(0),
            epoch: AtomicU64::new(0),
            link_waker: AtomicWaker::new(),
            link_running: AtomicBool::new(false),
            switching: AtomicBool::new(false),
            state: Mutex::new(State {
                master: None,
                link: LinkState::Connect,
                ids: ReplIds {
                    replid: run_id.to_string(),
                    replid2: "0".repeat(40),
                    second_offset: -1,
                    offset: 0,
                },
                psync: false,
                stream_db: 0,
                read_offset: 0,
                last_io: None,
                down_since: None,
                transfer: None,
                loading: false,
                read_only: config.replica_read_only,
                serve_stale: config.replica_serve_stale_data,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the state and recomputes the gate.
    fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut st = self.state();
        let r = f(&mut st);
        self.gate.store(st.gate(), Ordering::Release);
        r
    }

    /// Like [`update`](Self::update), only while `epoch` is the current one (a link task
    /// being stopped must not touch its successor's state). Returns whether it did.
    fn update_if(&self, epoch: u64, f: impl FnOnce(&mut State)) -> bool {
        let mut st = self.state();
        if self.epoch.load(Ordering::Acquire) != epoch {
            return false;
        }
        f(&mut st);
        self.gate.store(st.gate(), Ordering::Release);
        true
    }

    /// Whether the link of `epoch` must stop.
    fn cancelled(&self, epoch: u64) -> bool {
        self.epoch.load(Ordering::Acquire) != epoch
    }

    /// Whether the server is a replica.
    pub fn is_replica(&self) -> bool {
        self.state().master.is_some()
    }

    /// The error a command with these flags gets from `client` on this replica, if any:
    /// `-READONLY` for writes, `-MASTERDOWN` while the link is down and stale data must
    /// not be served, `-LOADING` during a full synchronization. One atomic load on a master.
    #[inline]
    pub fn refusal(&self, client: u64, flags: u64) -> Option<&'static str> {
        let g = self.gate.load(Ordering::Acquire);
        if g == 0 || client == MASTER_CLIENT {
            return None;
        }
        if g & gate::READ_ONLY != 0 && flags & flag::WRITE != 0 {
            return Some(READONLY);
        }
        if g & gate::STALE != 0 && flags & flag::STALE == 0 {
            return Some(MASTERDOWN);
        }
        if g & gate::LOADING != 0 && flags & flag::LOADING == 0 {
            return Some(LOADING);
        }
        None
    }

    /// The error a script's `redis.call` of a command with these flags gets, if any: a
    /// write on a read-only replica, a command not flagged `stale` on a stale one.
    pub fn call_refusal(&self, client: u64, flags: u64) -> Option<&'static str> {
        let g = self.gate.load(Ordering::Acquire);
        if g == 0 || client == MASTER_CLIENT {
            return None;
        }
        if g & gate::READ_ONLY != 0 && flags & flag::WRITE != 0 {
            return Some(READONLY);
        }
        (g & gate::STALE != 0 && flags & flag::STALE == 0).then_some(STALE_CALL)
    }

    /// The error EVAL / FCALL (and their _RO forms) get before the script runs. A script
    /// with declared flags is checked as a command with the flags they imply (Redis'
    /// `scriptFlagsToCmdFlags`: a write unless `no-writes`, stale-safe only with
    /// `allow-stale`); one without (`compat`, plain EVAL) may not run on a stale replica.
    pub fn script_refusal(
        &self,
        client: u64,
        compat: bool,
        may_write: bool,
        allow_stale: bool,
    ) -> Option<&'static str> {
        let g = self.gate.load(Ordering::Acquire);
        if g == 0 || client == MASTER_CLIENT {
            return None;
        }
        let stale = g & gate::STALE != 0;
        if compat {
            return stale.then_some(MASTERDOWN);
        }
        if g & gate::READ_ONLY != 0 && may_write {
            return Some(READONLY);
        }
        (stale && !allow_stale).then_some(MASTERDOWN)
    }

    /// The replication ids and offset (INFO's `master_replid`... in either role).
    pub fn ids(&self) -> ReplIds {
        self.state().ids.clone()
    }

    /// Waits for the other REPLICAOF commands to finish.
    async fn turn(&self) -> Turn<'_> {
        while self.switching.swap(true, Ordering::AcqRel) {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        Turn(&self.switching)
    }

    /// Stops the link task (if one runs) and waits until it has: nothing of the old
    /// master's stream is applied after this returns.
    async fn stop_link(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.link_waker.wake();
        while self.link_running.load(Ordering::Acquire) {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// One REPLICAOF at a time; dropping it lets the next one go.
struct Turn<'a>(&'a AtomicBool);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

/// REPLICAOF / SLAVEOF host port | NO ONE.
pub async fn replicaof(local: &Rc<Local>, sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let f = &local.shared.follower;
    if cmd[1].eq_ignore_ascii_case(b"no") && cmd[2].eq_ignore_ascii_case(b"one") {
        if f.is_replica() {
            switch(local, None).await;
            log::notice(&format!(
                "MASTER MODE enabled (user request from '{}')",
                client_line(sess)
            ));
        }
        return out.ok();
    }
    let port = shard::num::parse_i64(&cmd[2]).filter(|p| (0..=65535).contains(p));
    let Some(port) = port else {
        return out.error("ERR Invalid master port");
    };
    let host = String::from_utf8_lossy(&cmd[1]).into_owned();
    let same = f
        .state()
        .master
        .as_ref()
        .is_some_and(|(h, p)| h.eq_ignore_ascii_case(&host) && *p as i64 == port);
    if same {
        log::notice(
            "REPLICAOF would result into synchronization with the master we are already \
             connected with. No operation performed.",
        );
        return out.simple("OK Already connected to specified master");
    }
    switch(local, Some((host.clone(), port as u16))).await;
    log::notice(&format!(
        "REPLICAOF {host}:{port} enabled (user request from '{}')",
        client_line(sess)
    ));
    out.ok();
}

/// The client's CLIENT LIST line, for the log.
fn client_line(sess: &Session) -> String {
    let mut line = String::new();
    sess.info.describe(&mut line);
    line
}

/// CONFIG SET changed `replica-read-only` or `replica-serve-stale-data`.
pub fn config_changed(shared: &Shared) {
    let (ro, stale) = {
        let c = shared.config();
        (c.replica_read_only, c.replica_serve_stale_data)
    };
    shared.follower.update(|s| {
        s.read_only = ro;
        s.serve_stale = stale;
    });
}

/// At start-up, once the data set is loaded (executor 0): follows the master named by
/// `replicaof`, if any.
pub async fn start(local: &Rc<Local>) {
    let master = local.shared.config().replicaof.clone();
    if master.is_some() {
        switch(local, master).await;
    }
}

/// Becomes a replica of `master`, or a master (`None`): stops the current link, changes
/// the role everywhere it shows, and starts the new link.
async fn switch(local: &Rc<Local>, master: Option<(String, u16)>) {
    let shared = &local.shared;
    let f = &shared.follower;
    let _turn = f.turn().await;
    let was_connected = f.state().link == LinkState::Connected;
    f.stop_link().await;
    let replica = master.is_some();
    shared
        .config
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .replicaof = master.clone();
    f.update(|s| {
        let was_replica = s.master.is_some();
        match &master {
            None => {
                // A new history from here on; the master's is the second id, valid up to
                // here (Redis' shiftReplicationId). Partial resynchronization of other
                // replicas across this failover is not offered.
                s.ids.replid2 = std::mem::replace(
                    &mut s.ids.replid,
                    random_replid(unix_ms() ^ ((std::process::id() as u64) << 32)),
                );
                s.ids.second_offset = s.ids.offset as i64 + 1;
                s.psync = false;
            }
            Some(_) => {
                if !was_replica {
                    // Ask to continue our own history, as Redis does (a master that is
                    // not its continuation answers with a full synchronization).
                    s.psync = true;
                }
                s.read_offset = s.ids.offset;
            }
        }
        s.master = master.clone();
        s.link = LinkState::Connect;
        s.last_io = None;
        s.transfer = None;
        s.loading = false;
        // A link that worked goes down now; one that was down stays down since then.
        if !replica {
            s.down_since = None;
        } else if was_connected {
            s.down_since = Some(Instant::now());
        }
    });
    if replica {
        shared.leader.disconnect_replicas();
    } else {
        shared.leader.set_replid(f.ids().replid);
    }
    let mode = replica.then_some(MASTER_CLIENT);
    local.call_all(move |l| l.shard().set_replica(mode)).await;
    if replica {
        let epoch = f.epoch.load(Ordering::Acquire);
        f.link_running.store(true, Ordering::Release);
        local
            .call(0, move |l| {
                glommio::spawn_local(link::run(l.clone(), epoch)).detach();
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: u64 = 9;

    fn replica(read_only: bool, serve_stale: bool, link: LinkState) -> Follower {
        let f = Follower::new(&crate::config::Config::default(), &"a".repeat(40));
        f.update(|s| {
            s.master = Some(("h".into(), 1));
            s.read_only = read_only;
            s.serve_stale = serve_stale;
            s.link = link;
        });
        f
    }

    #[test]
    fn a_master_refuses_nothing() {
        let f = Follower::new(&crate::config::Config::default(), &"a".repeat(40));
        assert_eq!(f.refusal(CLIENT, flag::WRITE), None);
        assert_eq!(f.call_refusal(CLIENT, flag::WRITE), None);
        assert_eq!(f.script_refusal(CLIENT, true, true, false), None);
        assert!(!f.is_replica());
    }

    #[test]
    fn a_read_only_replica_refuses_writes_but_not_its_master() {
        let f = replica(true, true, LinkState::Connect);
        assert_eq!(f.refusal(CLIENT, flag::WRITE), Some(READONLY));
        assert_eq!(f.refusal(CLIENT, flag::READONLY), None);
        assert_eq!(f.refusal(MASTER_CLIENT, flag::WRITE), None);
        assert_eq!(f.call_refusal(CLIENT, flag::WRITE), Some(READONLY));
        assert_eq!(f.call_refusal(MASTER_CLIENT, flag::WRITE), None);
        // Scripts: as the flags they declare imply; without any, they run.
        assert_eq!(f.script_refusal(CLIENT, false, true, false), Some(READONLY));
        assert_eq!(f.script_refusal(CLIENT, false, false, false), None);
        assert_eq!(f.script_refusal(CLIENT, true, true, false), None);
        let writable = replica(false, true, LinkState::Connect);
        assert_eq!(writable.refusal(CLIENT, flag::WRITE), None);
    }

    #[test]
    fn a_stale_replica_serves_only_stale_commands() {
        let f = replica(false, false, LinkState::Handshake);
        assert_eq!(f.refusal(CLIENT, flag::READONLY), Some(MASTERDOWN));
        assert_eq!(f.refusal(CLIENT, flag::STALE), None);
        assert_eq!(f.call_refusal(CLIENT, flag::READONLY), Some(STALE_CALL));
        assert_eq!(
            f.script_refusal(CLIENT, true, false, false),
            Some(MASTERDOWN)
        );
        assert_eq!(
            f.script_refusal(CLIENT, false, false, false),
            Some(MASTERDOWN)
        );
        assert_eq!(f.script_refusal(CLIENT, false, false, true), None);
        f.update(|s| s.link = LinkState::Connected);
        assert_eq!(f.refusal(CLIENT, flag::READONLY), None);
    }

    #[test]
    fn loading_refuses_what_is_not_flagged_loading() {
        let f = replica(false, true, LinkState::Transfer);
        f.update(|s| s.loading = true);
        assert_eq!(f.refusal(CLIENT, flag::READONLY), Some(LOADING));
        assert_eq!(f.refusal(CLIENT, flag::LOADING | flag::STALE), None);
        assert_eq!(f.refusal(MASTER_CLIENT, flag::WRITE), None);
    }

    #[test]
    fn a_stopped_link_does_not_touch_its_successors_state() {
        let f = replica(true, true, LinkState::Connect);
        let epoch = f.epoch.load(Ordering::Acquire);
        assert!(f.update_if(epoch, |s| s.link = LinkState::Connecting));
        f.epoch.fetch_add(1, Ordering::AcqRel);
        assert!(f.cancelled(epoch));
        assert!(!f.update_if(epoch, |s| s.link = LinkState::Connected));
        assert_eq!(f.state().link, LinkState::Connecting);
    }
}
