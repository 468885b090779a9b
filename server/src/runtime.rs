//! Start-up: the environment checks glommio needs, one executor per shard, the listeners.
//!
//! Everything that touches the runtime or sockets directly lives here, in `listener` and in
//! `conn`, so the socket path can be tuned without touching command code.

use crate::config::Config;
use crate::local::{Local, Shared};
use crate::mesh::{self, Mesh};
use crate::{cron, listener, log};
use glommio::{LocalExecutorBuilder, Placement};
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// glommio refuses to start an executor below this much locked memory.
const MIN_MEMLOCK: u64 = 512 * 1024;
/// io_uring registered buffers per executor: we do little storage I/O through glommio's DMA
/// path, so a small pool is plenty and keeps many shards within common memlock limits.
const IO_MEMORY: u64 = 512 * 1024;

/// A start-up failure with the one line to print (exit code 1, no backtrace).
pub struct Fatal(pub String);

pub fn start(config: Config) -> Result<(), Fatal> {
    apply_process_settings(&config)?;
    if config.disable_thp {
        disable_transparent_huge_pages();
    }
    let memlock = raise_memlock()?;
    probe_io_uring()?;
    let cpus = allowed_cpus();
    let shards = if config.shards == 0 {
        cpus.len().max(1)
    } else {
        config.shards
    };
    let io_memory = io_memory_per_shard(memlock, shards)?;
    let addrs = listen_addrs(&config)?;
    // The users (`user` directives, `aclfile`) before anything else starts, as Redis.
    let acl = crate::acl::Acl::new(&config).map_err(Fatal)?;
    let port = config.port;
    let pin = cpus.len() >= shards;
    // Spinning is for replies from other shards; one shard has none to wait for, and at
    // pipeline 1 the spin is most of its CPU above Redis' (BENCHMARKS "The client ring").
    let spin = match shards {
        1 => std::time::Duration::ZERO,
        _ => std::time::Duration::from_micros(config.spin_before_park_us),
    };
    log::notice(&format!(
        "Shardis {} starting: {} shard(s){}, port {}",
        env!("CARGO_PKG_VERSION"),
        shards,
        if pin { ", pinned to cores" } else { "" },
        port
    ));
    let mesh = Arc::new(Mesh::new(shards));
    let mut config = config;
    config.started = true;
    let aof = if config.appendonly {
        let aof = Arc::new(crate::aof::Aof::open(&config, shards).map_err(Fatal)?);
        crate::aof::start_flusher(aof.clone());
        Some(aof)
    } else {
        None
    };
    let shared = Arc::new(Shared::new(config, port, shards, aof, acl));
    let mut handles = Vec::with_capacity(shards);
    for id in 0..shards {
        let placement = match cpus.get(id) {
            Some(&cpu) if pin => Placement::Fixed(cpu),
            _ => Placement::Unbound,
        };
        let (mesh, shared, addrs) = (mesh.clone(), shared.clone(), addrs.clone());
        let h = LocalExecutorBuilder::new(placement)
            .name(&format!("shard-{id}"))
            .io_memory(io_memory as usize)
            .spin_before_park(spin)
            .spawn(move || shard_main(id, mesh, shared, addrs))
            .map_err(|e| Fatal(format!("could not start shard {id}: {e}")))?;
        handles.push(h);
    }
    for h in handles {
        if let Err(e) = h.join() {
            return Err(Fatal(format!("a shard stopped: {e}")));
        }
    }
    Ok(())
}

async fn shard_main(id: usize, mesh: Arc<Mesh>, shared: Arc<Shared>, addrs: Vec<SocketAddr>) {
    let backlog = shared.config().tcp_backlog;
    let local = Rc::new(Local::new(id, mesh, shared.clone()));
    if let Some(ring) = &local.ring {
        glommio::spawn_local(crate::ring::drive(ring.clone())).detach();
    }
    glommio::spawn_local(mesh::serve_mailbox(local.clone())).detach();
    shared.initialized.fetch_add(1, Ordering::AcqRel);
    // The data set is loaded before anyone connects: shard 0 replays the AOF (the other
    // shards run what it sends them), the others wait.
    if id == 0 {
        while shared.initialized.load(Ordering::Acquire) < local.shards() {
            glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        }
        // What the server holds before any data (MEMORY STATS `startup.allocated`).
        crate::memory::mark_startup();
        if let Err(e) = crate::aof::load_and_start(&local).await {
            log::warning(&e);
            std::process::exit(1);
        }
        if let Err(e) = crate::rdb_load::load_at_start(&local).await {
            log::warning(&e);
            std::process::exit(1);
        }
        // `replicaof`: a replica from the start (read-only before anyone connects).
        crate::follower::start(&local).await;
        shared.loaded.store(true, Ordering::Release);
    } else {
        while !shared.loaded.load(Ordering::Acquire) {
            glommio::timer::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
    for addr in addrs {
        match listener::bind(addr, backlog) {
            Ok(l) => {
                glommio::spawn_local(listener::accept_loop(local.clone(), l)).detach();
            }
            Err(e) => log::warning(&format!("shard {id}: could not listen on {addr}: {e}")),
        }
    }
    if id == 0 {
        log::notice("Ready to accept connections tcp");
    }
    glommio::spawn_local(cron::run(local)).detach();
    std::future::pending::<()>().await;
}

/// What redis-server does with its process before serving: log destination and level,
/// working directory (`dir`), pid file.
fn apply_process_settings(config: &Config) -> Result<(), Fatal> {
    log::set_level(config.loglevel.into());
    std::env::set_current_dir(&config.dir)
        .map_err(|e| Fatal(format!("Can't chdir to '{}': {e}", config.dir.display())))?;
    if !config.logfile.is_empty() {
        log::set_file(&config.logfile)
            .map_err(|e| Fatal(format!("Can't open the log file: {e}")))?;
    }
    if !config.pidfile.is_empty() {
        std::fs::write(&config.pidfile, format!("{}\n", std::process::id()))
            .map_err(|e| Fatal(format!("Can't write the pid file {}: {e}", config.pidfile)))?;
    }
    Ok(())
}

/// `disable-thp yes` (Redis' default): no transparent huge pages for this process. With them
/// the allocator's memory is backed in 2 MiB pages, so RSS grows in big steps and stays high
/// for sparse data (and forks, which Shardis never does, copy whole huge pages). Best effort,
/// as in Redis: a kernel without the call keeps its setting.
fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only; no memory is passed.
    let r = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if r != 0 {
        log::notice(&format!(
            "could not disable transparent huge pages: {}",
            std::io::Error::last_os_error()
        ));
    }
}

/// Raises the soft RLIMIT_MEMLOCK to the hard limit; fails clearly when even that is below
/// what glommio needs.
fn raise_memlock() -> Result<u64, Fatal> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the valid, exclusively borrowed `lim`.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } != 0 {
        return Err(Fatal(format!(
            "cannot read RLIMIT_MEMLOCK: {}",
            std::io::Error::last_os_error()
        )));
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit reads one rlimit from the valid `raised`.
        if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &raised) } == 0 {
            lim = raised;
        }
    }
    if lim.rlim_cur < MIN_MEMLOCK {
        return Err(Fatal(format!(
            "the locked-memory limit (RLIMIT_MEMLOCK) is {} KiB; Shardis' io_uring runtime \
             needs at least {} KiB. Raise it: `ulimit -l unlimited` in the shell, \
             `LimitMEMLOCK=infinity` in a systemd unit, or `--ulimit memlock=-1` for Docker.",
            lim.rlim_cur / 1024,
            MIN_MEMLOCK / 1024
        )));
    }
    Ok(lim.rlim_cur)
}

/// io_uring buffers per executor, within the memlock limit.
fn io_memory_per_shard(memlock: u64, shards: usize) -> Result<u64, Fatal> {
    if memlock == libc::RLIM_INFINITY {
        return Ok(IO_MEMORY);
    }
    // glommio allocates at least 64 KiB per executor; leave a quarter of the limit spare.
    let per = (memlock / 4 * 3) / shards as u64;
    if per < 64 * 1024 {
        return Err(Fatal(format!(
            "the locked-memory limit (RLIMIT_MEMLOCK, {} KiB) is too small for {} shards; \
             raise it (`ulimit -l`, `LimitMEMLOCK=`, `--ulimit memlock`) or use fewer \
             shards (--shards N)",
            memlock / 1024,
            shards
        )));
    }
    Ok(per.min(IO_MEMORY))
}

fn probe_io_uring() -> Result<(), Fatal> {
    io_uring::IoUring::new(4).map(drop).map_err(|e| {
        Fatal(format!(
            "io_uring is not available ({e}). Shardis needs Linux 5.8 or newer with io_uring \
             enabled: check `sysctl kernel.io_uring_disabled` (must be 0) and, in a \
             container, a seccomp profile that allows io_uring_setup/io_uring_enter."
        ))
    })
}

/// The CPUs this process may run on (its affinity mask).
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is a plain bit array for which all-zeroes is a valid (empty) value.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: sched_getaffinity writes at most size_of::<cpu_set_t>() bytes into `set`.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        return (0..n).collect();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET reads bit `c` < CPU_SETSIZE of the initialised `set`.
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

/// Resolves the bind addresses and refuses to start when the port is already served.
/// glommio's listeners set SO_REUSEPORT, so a second server would otherwise silently share
/// the port with the first.
fn listen_addrs(config: &Config) -> Result<Vec<SocketAddr>, Fatal> {
    let mut addrs = Vec::new();
    for b in &config.bind {
        let (optional, host) = match b.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, b.as_str()),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let resolved = (host, config.port).to_socket_addrs();
        let Ok(mut it) = resolved else {
            if optional {
                continue;
            }
            return Err(Fatal(format!("cannot resolve bind address {host}")));
        };
        let Some(addr) = it.next() else { continue };
        // A plain bind (without SO_REUSEPORT) fails if anyone serves the port.
        match std::net::TcpListener::bind(addr) {
            Ok(probe) => {
                drop(probe);
                addrs.push(addr);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                return Err(Fatal(format!(
                    "Could not create server TCP listening socket {addr}: bind: Address \
                     already in use (is another server running on port {}?)",
                    config.port
                )));
            }
            // ::1 on a host without IPv6: skip it like Redis skips an unavailable default.
            Err(e) if addr.is_ipv6() || optional => {
                log::warning(&format!("skipping bind address {addr}: {e}"));
            }
            Err(e) => {
                return Err(Fatal(format!(
                    "Could not create server TCP listening socket {addr}: {e}"
                )))
            }
        }
    }
    if addrs.is_empty() {
        return Err(Fatal("no address to listen on".into()));
    }
    Ok(addrs)
}
