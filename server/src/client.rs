//! Per-connection client state: what CLIENT LIST shows and CLIENT KILL/SETNAME change.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::task::Waker;
use std::time::Instant;

/// The part of a client other commands can see (CLIENT LIST, KILL, INFO). Shared between the
/// connection task and its executor's client registry; touched only on that executor.
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub fd: i32,
    pub created: Instant,
    pub name: RefCell<Vec<u8>>,
    pub lib_name: RefCell<Vec<u8>>,
    pub lib_ver: RefCell<Vec<u8>>,
    pub db: Cell<usize>,
    pub resp: Cell<u8>,
    pub last_interaction: Cell<Instant>,
    pub last_cmd: Cell<&'static str>,
    pub qbuf: Cell<usize>,
    pub no_evict: Cell<bool>,
    pub no_touch: Cell<bool>,
    /// In MONITOR mode: every command the server runs comes through the mailbox (CLIENT
    /// LIST flag `O`).
    pub monitoring: Cell<bool>,
    /// Channel, pattern and shard-channel subscriptions (CLIENT LIST `sub=`, `psub=`, `ssub=`).
    pub subscriptions: Cell<(usize, usize, usize)>,
    /// Commands queued since MULTI; -1 outside a transaction (CLIENT LIST `multi=`).
    pub multi: Cell<i64>,
    /// The wait of a blocking command in progress (CLIENT UNBLOCK reaches it here).
    pub blocked: RefCell<Option<std::sync::Arc<crate::blocking::Waiter>>>,
    /// The connection's mailbox, once it has one (pub/sub, tracking invalidations): how
    /// other clients' invalidations reach it as a REDIRECT target.
    pub mailbox: RefCell<std::rc::Weak<crate::pubsub::Mailbox>>,
    /// The ACL user it is authenticated as (CLIENT LIST `user=`, CLIENT KILL USER).
    pub user: RefCell<String>,
    killed: Cell<bool>,
    kill_waker: RefCell<Option<Waker>>,
}

impl ClientInfo {
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, fd: i32) -> ClientInfo {
        let now = Instant::now();
        ClientInfo {
            id,
            addr,
            laddr,
            fd,
            created: now,
            name: RefCell::default(),
            lib_name: RefCell::default(),
            lib_ver: RefCell::default(),
            db: Cell::new(0),
            resp: Cell::new(2),
            last_interaction: Cell::new(now),
            last_cmd: Cell::new("NULL"),
            qbuf: Cell::new(0),
            no_evict: Cell::new(false),
            no_touch: Cell::new(false),
            monitoring: Cell::new(false),
            subscriptions: Cell::new((0, 0, 0)),
            multi: Cell::new(-1),
            blocked: RefCell::default(),
            mailbox: RefCell::default(),
            user: RefCell::new("default".into()),
            killed: Cell::new(false),
            kill_waker: RefCell::default(),
        }
    }

    /// Whether the client connects from this machine (Redis' connIsLocal), for the
    /// `local` setting of `enable-debug-command` and `enable-module-command`.
    pub fn is_local(&self) -> bool {
        self.addr.ip().is_loopback()
    }

    /// Asks the connection to close (CLIENT KILL): it stops after its current batch.
    pub fn kill(&self) {
        self.killed.set(true);
        if let Some(w) = self.kill_waker.borrow_mut().take() {
            w.wake();
        }
    }

    pub fn is_killed(&self) -> bool {
        self.killed.get()
    }

    /// Resolves when the client is killed (raced against the socket read).
    pub async fn killed(&self) {
        std::future::poll_fn(|cx| {
            if self.killed.get() {
                std::task::Poll::Ready(())
            } else {
                *self.kill_waker.borrow_mut() = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
        .await
    }

    /// One CLIENT LIST / CLIENT INFO line (without the trailing newline), in Redis 7.2's
    /// field order.
    pub fn describe(&self, out: &mut String) {
        use std::fmt::Write;
        let now = Instant::now();
        let cmd = self.last_cmd.get();
        let _ = write!(
            out,
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} \
             ssub={} multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 \
             oll=0 omem=0 tot-mem=0 events=r cmd={} user={} redir=-1 resp={} lib-name={} \
             lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            String::from_utf8_lossy(&self.name.borrow()),
            now.duration_since(self.created).as_secs(),
            now.duration_since(self.last_interaction.get()).as_secs(),
            if self.blocked.borrow().is_some() {
                "b"
            } else if self.multi.get() >= 0 {
                "x"
            } else if self.subscriptions.get() != (0, 0, 0) {
                "P"
            } else if self.monitoring.get() {
                "O"
            } else {
                "N"
            },
            self.db.get(),
            self.subscriptions.get().0,
            self.subscriptions.get().1,
            self.subscriptions.get().2,
            self.multi.get(),
            self.qbuf.get(),
            cmd,
            self.user.borrow(),
            self.resp.get(),
            String::from_utf8_lossy(&self.lib_name.borrow()),
            String::from_utf8_lossy(&self.lib_ver.borrow()),
        );
    }
}

/// What a connection knows about its own session beyond [`ClientInfo`].
pub struct Session {
    pub info: std::rc::Rc<ClientInfo>,
    pub db: usize,
    pub resp3: bool,
    pub authenticated: bool,
    /// The ACL user its commands are checked against; None for the server's own sessions
    /// (the master's stream, loading), which may run anything (Redis' NULL user).
    pub user: Option<std::sync::Arc<crate::acl::User>>,
    /// The ACL table's version `user` was read at (see `acl`).
    pub acl_version: u64,
    /// Set by QUIT: close after replying.
    pub closing: bool,
    /// Inside MULTI: the commands queued so far.
    pub multi: Option<crate::multi::Queued>,
    /// The keys WATCHed since the last EXEC / DISCARD / UNWATCH.
    pub watching: Option<crate::multi::Watching>,
    /// Channels, patterns and shard channels this connection subscribed to.
    pub pubsub: crate::pubsub::Subscriptions,
    /// Where frames pushed to this connection wait (see [`Session::mailbox`]).
    pub mailbox: Option<std::rc::Rc<crate::pubsub::Mailbox>>,
    /// CLIENT TRACKING, when on.
    pub tracking: Option<std::rc::Rc<crate::tracking::Tracker>>,
    /// Set while EXEC runs holding every database's lock on every shard: FLUSHDB and
    /// friends inside it must not wait for locks their own transaction holds.
    pub holds_db_locks: bool,
    /// Set while a transaction or script runs as several messages with the AOF on: the
    /// effects group its commands record into on every shard (see `shard::effects`).
    pub fx_group: Option<u64>,
    /// What REPLCONF told about a replica on this connection.
    pub replconf: crate::leader::ReplConf,
    /// SYNC / PSYNC asked: the connection becomes the replica's once its replies are out.
    pub sync_request: Option<crate::leader::SyncRequest>,
}

impl Session {
    /// A session on database 0 in RESP2, outside any transaction or subscription.
    pub fn new(info: std::rc::Rc<ClientInfo>, authenticated: bool) -> Session {
        Session {
            info,
            db: 0,
            resp3: false,
            authenticated,
            user: None,
            acl_version: 0,
            closing: false,
            multi: None,
            watching: None,
            pubsub: Default::default(),
            mailbox: None,
            tracking: None,
            holds_db_locks: false,
            fx_group: None,
            replconf: Default::default(),
            sync_request: None,
        }
    }

    pub fn set_db(&mut self, db: usize) {
        self.db = db;
        self.info.db.set(db);
    }

    pub fn set_resp(&mut self, resp3: bool) {
        self.resp3 = resp3;
        self.info.resp.set(if resp3 { 3 } else { 2 });
        if let Some(mb) = &self.mailbox {
            mb.resp3.set(resp3);
        }
        if resp3 {
            // Any client may name it as REDIRECT target: its pushes need a mailbox.
            self.mailbox();
        }
    }

    /// The connection's mailbox for pushed frames (published messages, invalidations),
    /// made on first use.
    pub fn mailbox(&mut self) -> std::rc::Rc<crate::pubsub::Mailbox> {
        let info = &self.info;
        let resp3 = self.resp3;
        self.mailbox
            .get_or_insert_with(|| {
                let mb = std::rc::Rc::new(crate::pubsub::Mailbox::new(info.clone(), resp3));
                *info.mailbox.borrow_mut() = std::rc::Rc::downgrade(&mb);
                mb
            })
            .clone()
    }
}

/// Makes a client's address and current name known to every executor (SLOWLOG entries are
/// recorded where the command ran). Called when it connects and whenever its name changes.
pub fn publish_meta(local: &crate::local::Local, info: &ClientInfo) {
    meta_table(local).insert(info.id, (info.addr, info.name.borrow().clone()));
}

/// Removes a disconnected client from what [`publish_meta`] made known.
pub fn forget_meta(local: &crate::local::Local, id: u64) {
    meta_table(local).remove(&id);
}

/// The address and current name of a connected client, whichever executor serves it.
pub fn meta_of(local: &crate::local::Local, id: u64) -> Option<(SocketAddr, Vec<u8>)> {
    meta_table(local).get(&id).cloned()
}

/// Client id -> its address and name (see [`publish_meta`]).
pub type MetaTable = ahash::AHashMap<u64, (SocketAddr, Vec<u8>)>;

fn meta_table(local: &crate::local::Local) -> std::sync::MutexGuard<'_, MetaTable> {
    local
        .shared
        .client_meta
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}
