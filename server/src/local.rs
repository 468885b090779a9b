//! What one executor (one core, one shard) owns, and what all of them share.

use crate::client::ClientInfo;
use crate::config::Config;
use crate::mesh::Mesh;
use crate::stats::ShardStats;
use futures_channel::oneshot;
use shard::locks::LockTable;
use shard::Shard;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Bytes one socket read may take at most.
const READ_SCRATCH: usize = 64 * 1024;

/// A wake-up for whoever waits on a lock (a transaction or a plain command).
pub type Waiter = oneshot::Sender<()>;

/// Process-wide state, shared by every executor thread.
pub struct Shared {
    pub config: RwLock<Config>,
    /// ACL users and log (see `acl`).
    pub acl: crate::acl::Acl,
    /// Clients in MONITOR mode, on all executors (checked before formatting a line).
    pub monitors: AtomicUsize,
    /// The next SLOWLOG entry id (one sequence for the whole server).
    pub slowlog_next_id: AtomicU64,
    /// Every connected client's address and name, for SLOWLOG entries recorded on the
    /// executor that ran the command (maybe not the connection's).
    pub client_meta: std::sync::Mutex<crate::client::MetaTable>,
    pub next_client_id: AtomicU64,
    pub connected_clients: AtomicUsize,
    /// Clients waiting in a blocking command (INFO `blocked_clients`).
    pub blocked_clients: AtomicUsize,
    pub started: Instant,
    pub run_id: String,
    pub shutdown: AtomicBool,
    /// Port actually bound (for INFO `tcp_port`).
    pub port: u16,
    /// CLIENT PAUSE: until (Unix ms) and whether only writes are paused.
    pub pause_until_ms: AtomicU64,
    pub pause_writes_only: AtomicBool,
    /// DEBUG PAUSE-CRON.
    pub cron_paused: AtomicBool,
    /// Scripts and functions: the cache, what runs now, -BUSY.
    pub scripts: crate::scripting::Scripts,
    /// The append-only file, when `appendonly` was on at start-up.
    pub aof: Option<Arc<crate::aof::Aof>>,
    /// Executors that have set themselves up (shard 0 loads the data set once all have,
    /// so the memory they need counts as start-up memory, not as data).
    pub initialized: AtomicUsize,
    /// The data set is loaded: the listeners may open.
    pub loaded: AtomicBool,
    /// The last effects group id handed out (see `Local::fx_group_begin`).
    pub next_fx_group: AtomicU64,
    /// Every shard's effects: how far they are drained (see `propagate`).
    pub propagation: crate::propagate::Propagation,
    /// The replication stream and the replicas (see `leader`).
    pub leader: crate::leader::Leader,
    /// The RDB snapshot running, if one does (see `snapshot`).
    pub snapshot: crate::snapshot::Slot,
    /// SAVE / BGSAVE (see `rdb_save`).
    pub saves: crate::rdb_save::Saves,
    /// Replication, the follower's side: REPLICAOF, the link, the replica's gates.
    pub follower: crate::follower::Follower,
    /// `maxmemory` and eviction (see `maxmemory`).
    pub maxmemory: crate::maxmemory::MaxMemory,
}

impl Shared {
    pub fn new(
        config: Config,
        port: u16,
        shards: usize,
        aof: Option<Arc<crate::aof::Aof>>,
        acl: crate::acl::Acl,
    ) -> Shared {
        let seed = unix_ms() ^ std::process::id() as u64;
        let mut rng = shard::rng::Rng::new(seed);
        let run_id = (0..40)
            .map(|_| char::from_digit(rng.below(16) as u32, 16).unwrap())
            .collect::<String>();
        let follower = crate::follower::Follower::new(&config, &run_id);
        // One history id for both sides: what a replica of ours continues, and what this
        // server asks to continue when it becomes a replica itself.
        let replid = follower.ids().replid;
        let backlog = config.repl_backlog_size;
        let maxmemory = crate::maxmemory::MaxMemory::new(&config, shards);
        Shared {
            config: RwLock::new(config),
            acl,
            monitors: AtomicUsize::new(0),
            slowlog_next_id: AtomicU64::new(0),
            client_meta: Default::default(),
            next_client_id: AtomicU64::new(1),
            connected_clients: AtomicUsize::new(0),
            blocked_clients: AtomicUsize::new(0),
            started: Instant::now(),
            run_id,
            shutdown: AtomicBool::new(false),
            port,
            pause_until_ms: AtomicU64::new(0),
            pause_writes_only: AtomicBool::new(false),
            cron_paused: AtomicBool::new(false),
            scripts: crate::scripting::Scripts::default(),
            aof,
            initialized: AtomicUsize::new(0),
            loaded: AtomicBool::new(false),
            next_fx_group: AtomicU64::new(0),
            propagation: crate::propagate::Propagation::new(shards),
            leader: crate::leader::Leader::new(replid, backlog),
            snapshot: Default::default(),
            saves: Default::default(),
            follower,
            maxmemory,
        }
    }

    pub fn config(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// One executor's state. Lives on its thread; other shards reach it only through the mesh.
pub struct Local {
    pub id: usize,
    pub mesh: Arc<Mesh>,
    pub shared: Arc<Shared>,
    /// The shard's data: reach it through [`Local::shard`], which publishes what a
    /// borrow recorded (keyspace events, tracking invalidations) when it ends.
    shard_cell: RefCell<Shard>,
    pub locks: RefCell<LockTable<Waiter>>,
    pub stats: RefCell<ShardStats>,
    /// Connections served by this executor, by client id (CLIENT LIST/KILL).
    pub clients: RefCell<BTreeMap<u64, Rc<ClientInfo>>>,
    /// This executor's pub/sub subscribers.
    pub pubsub: RefCell<crate::pubsub::Registry>,
    /// Clients blocked on this shard's keys (BLPOP...).
    pub blocked: RefCell<crate::blocking::BlockedKeys>,
    /// This executor's clients with CLIENT TRACKING on.
    pub tracking: RefCell<crate::tracking::Clients>,
    /// The executor's socket read buffer, shared by its connections (see `conn::read_into`).
    pub read_scratch: RefCell<Vec<u8>>,
    /// The commands this executor ran slowly (SLOWLOG).
    pub slowlog: RefCell<crate::slowlog::SlowLog>,
    /// The latency monitor's samples of what ran on this executor (LATENCY).
    pub latency: crate::latency::Monitor,
    /// This executor's clients in MONITOR mode.
    pub monitors: RefCell<Vec<Rc<crate::pubsub::Mailbox>>>,
    /// This shard's AOF file writer.
    pub aof: RefCell<crate::aof::Writer>,
    /// The ring serving this executor's client sockets (none: glommio's sockets serve them).
    pub ring: Option<Rc<crate::ring::Ring>>,
}

impl Local {
    pub fn new(id: usize, mesh: Arc<Mesh>, shared: Arc<Shared>) -> Local {
        let (databases, max_string_len, limits, notify, slowlog, client_ring, ring_buffers, clock) = {
            let c = shared.config();
            (
                c.databases,
                c.proto_max_bulk_len,
                c.limits,
                c.notify_keyspace_events,
                crate::slowlog::SlowLog::new(c.slowlog_log_slower_than, c.slowlog_max_len),
                c.client_ring,
                c.client_ring_buffers,
                crate::maxmemory::clock(&c),
            )
        };
        let (latency, latency_tracking) = {
            let c = shared.config();
            (
                crate::latency::Monitor::new(c.latency_monitor_threshold),
                c.latency_tracking,
            )
        };
        let ring = match client_ring.then(|| crate::ring::Ring::new(ring_buffers)) {
            Some(Ok(r)) => Some(r),
            Some(Err(e)) => {
                if id == 0 {
                    crate::log::notice(&format!(
                        "Client sockets are served through glommio: no io_uring of our own \
                         ({e}; DEFER_TASKRUN needs Linux 6.1)"
                    ));
                }
                None
            }
            None => None,
        };
        let mut shard = Shard::new(id, databases);
        shard.max_string_len = max_string_len;
        shard.limits = limits;
        shard.set_notify_flags(notify);
        shard.set_clock(clock);
        Local {
            id,
            mesh,
            shared,
            shard_cell: RefCell::new(shard),
            locks: RefCell::new(LockTable::default()),
            stats: RefCell::new(ShardStats {
                latency_tracking,
                ..ShardStats::default()
            }),
            clients: RefCell::new(BTreeMap::new()),
            pubsub: RefCell::default(),
            blocked: RefCell::default(),
            tracking: RefCell::default(),
            read_scratch: RefCell::new(vec![0; READ_SCRATCH]),
            slowlog: RefCell::new(slowlog),
            latency,
            monitors: RefCell::default(),
            aof: RefCell::default(),
            ring,
        }
    }

    pub fn shards(&self) -> usize {
        self.mesh.shards()
    }

    /// Opens an effects group on this shard for a transaction or script that runs here in
    /// one go (see `shard::effects`); [`fx_group_end`](Local::fx_group_end) commits it.
    pub fn fx_group_begin(&self) -> u64 {
        let id = self.shared.next_fx_group.fetch_add(1, Ordering::Relaxed) + 1;
        self.shard().effects.enter(id);
        id
    }

    /// A group id for a transaction or script that runs as several messages over shards,
    /// when effects are recorded (None otherwise: nothing to group).
    pub fn fx_group_open(&self) -> Option<u64> {
        crate::propagate::on(self)
            .then(|| self.shared.next_fx_group.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Commits the group on every shard (a no-op where it recorded nothing). Call while the
    /// transaction still holds its locks.
    pub async fn fx_group_commit(self: &Rc<Self>, group: Option<u64>) {
        if let Some(g) = group {
            let parts = self
                .call_all(move |l| crate::propagate::commit_group(l, g))
                .await;
            self.shared.leader.append_group(parts);
        }
    }

    pub fn fx_group_end(&self, id: u64) {
        let mut shard = self.shard();
        shard.effects.leave();
        shard.effects.commit(id);
    }

    /// Borrows this executor's shard. When the borrow ends, the keyspace events and
    /// tracking invalidations the commands run under it recorded are sent on their way.
    pub fn shard(&self) -> ShardMut<'_> {
        ShardMut {
            shard: self.shard_cell.borrow_mut(),
            local: self,
        }
    }

    /// Reads the shard (INFO): nothing is recorded through a shared borrow.
    pub fn shard_ref(&self) -> std::cell::Ref<'_, Shard> {
        self.shard_cell.borrow()
    }

    /// Sends `f` to run on another shard now and returns the receiver of its result.
    pub fn send_call<R, F>(&self, shard: usize, f: F) -> oneshot::Receiver<R>
    where
        R: Send + 'static,
        F: FnOnce(&Rc<Local>) -> R + Send + 'static,
    {
        debug_assert_ne!(shard, self.id);
        self.stats.borrow_mut().cross_shard_hops += 1;
        let (tx, rx) = oneshot::channel();
        self.mesh.send(
            shard,
            Box::new(move |l| {
                let _ = tx.send(f(l));
            }),
        );
        rx
    }

    /// Runs `f` on `shard` and returns its result: inline when it is this shard, otherwise
    /// one message there and one back.
    pub async fn call<R, F>(self: &Rc<Self>, shard: usize, f: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(&Rc<Local>) -> R + Send + 'static,
    {
        if shard == self.id {
            return f(self);
        }
        // A shard never drops a job without running it while the process lives.
        self.send_call(shard, f)
            .await
            .expect("shard mailbox dropped a job")
    }

    /// Runs `f` on every executor without waiting for it: on this one now, on each other one
    /// through the mesh, in order with what this executor sent it before.
    pub fn tell_all<F>(&self, f: F)
    where
        F: Fn(&Local) + Send + Clone + 'static,
    {
        for s in (0..self.shards()).filter(|&s| s != self.id) {
            let f = f.clone();
            self.mesh.send(s, Box::new(move |l| f(l)));
        }
        f(self);
    }

    /// Runs `f` on every shard concurrently and returns the results in shard order.
    pub async fn call_all<R, F>(self: &Rc<Self>, f: F) -> Vec<R>
    where
        R: Send + 'static,
        F: Fn(&Rc<Local>) -> R + Send + Clone + 'static,
    {
        let pending: Vec<_> = (0..self.shards())
            .map(|s| (s != self.id).then(|| self.send_call(s, f.clone())))
            .collect();
        let mut mine = Some(f(self));
        let mut out = Vec::with_capacity(pending.len());
        for p in pending {
            out.push(match p {
                Some(rx) => rx.await.expect("shard mailbox dropped a job"),
                None => mine.take().expect("one result per shard"),
            });
        }
        out
    }

    /// Wakes the waiters a lock release returned.
    pub fn wake(waiters: Vec<Waiter>) {
        for w in waiters {
            let _ = w.send(());
        }
    }
}

/// A borrow of the shard that publishes what it recorded when it ends (see
/// [`Local::shard`]).
pub struct ShardMut<'a> {
    shard: std::cell::RefMut<'a, Shard>,
    local: &'a Local,
}

impl std::ops::Deref for ShardMut<'_> {
    type Target = Shard;
    fn deref(&self) -> &Shard {
        &self.shard
    }
}

impl std::ops::DerefMut for ShardMut<'_> {
    fn deref_mut(&mut self) -> &mut Shard {
        &mut self.shard
    }
}

impl Drop for ShardMut<'_> {
    fn drop(&mut self) {
        let shard = &mut *self.shard;
        if shard.notify_flags() != 0 {
            crate::notify::publish_recorded(self.local, shard);
        }
        if shard.tracking.is_active() || shard.dbs[0].changed.on {
            crate::tracking::send_recorded(self.local, shard);
        }
    }
}

pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
