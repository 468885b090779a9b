//! Accepting connections: one SO_REUSEPORT listener per executor, so the kernel spreads new
//! connections over the shards.

use crate::conn;
use crate::local::Local;
use crate::log;
use futures_lite::AsyncWriteExt;
use glommio::net::{TcpListener, TcpStream};
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A listening socket for this executor: SO_REUSEPORT so every executor has its own queue
/// of new connections, and SO_REUSEADDR (as Redis) so a restarted server can bind while
/// connections of the previous one linger in TIME_WAIT.
pub fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.bind(&addr.into())?;
    sock.listen(backlog.min(i32::MAX as u32) as i32)?;
    // SAFETY: `into_raw_fd` hands over sole ownership of a valid, bound and listening TCP
    // socket, which is exactly what glommio's `from_raw_fd` takes ownership of.
    Ok(unsafe { TcpListener::from_raw_fd(sock.into_raw_fd()) })
}

pub async fn accept_loop(local: Rc<Local>, listener: TcpListener) {
    loop {
        let stream = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                log::warning(&format!("accept: {e}"));
                glommio::timer::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        local.stats.borrow_mut().connections_received += 1;
        if let Some(msg) = refusal(&local, &stream) {
            local.stats.borrow_mut().rejected_connections += 1;
            glommio::spawn_local(async move {
                let mut stream = stream;
                let _ = stream.write_all(msg.as_bytes()).await;
            })
            .detach();
            continue;
        }
        glommio::spawn_local(conn::serve(local.clone(), stream)).detach();
    }
}

/// Why a new connection must be turned away (maxclients, protected mode), as Redis says it.
fn refusal(local: &Local, stream: &TcpStream) -> Option<String> {
    let shared = &local.shared;
    let cfg = shared.config();
    let n = shared.connected_clients.fetch_add(1, Ordering::Relaxed);
    if n >= cfg.maxclients {
        shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
        return Some("-ERR max number of clients reached\r\n".into());
    }
    let loopback = stream.peer_addr().is_ok_and(|a| a.ip().is_loopback());
    if cfg.protected_mode && shared.acl.default_nopass() && !loopback {
        shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
        return Some(
            "-DENIED Redis is running in protected mode because protected mode is enabled and \
             no password is set for the default user. In this mode connections are only \
             accepted from the loopback interface. If you want to connect from external \
             computers to Redis you may adopt one of the following solutions: 1) Just disable \
             protected mode sending the command 'CONFIG SET protected-mode no' from the \
             loopback interface by connecting to Redis from the same host the server is \
             running, however MAKE SURE Redis is not publicly accessible from internet if you \
             do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can \
             just disable the protected mode by editing the Redis configuration file, and \
             setting the protected mode option to 'no', and then restarting the server. 3) If \
             you started the server manually just for testing, restart it with the \
             '--protected-mode no' option. 4) Set up an authentication password for the \
             default user. NOTE: You only need to do one of the above things in order for the \
             server to start accepting connections from the outside.\r\n"
                .into(),
        );
    }
    None
}
