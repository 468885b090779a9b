//! Commands the connection runs itself: connection state, server introspection and
//! whole-keyspace commands that visit every shard.

use crate::client::Session;
use crate::command::Server;
use crate::local::Local;
use shard::{Cmd, Reply};
use std::rc::Rc;

pub async fn run(local: &Rc<Local>, sess: &mut Session, which: Server, cmd: &Cmd, out: &mut Reply) {
    let _ = (local, sess);
    match which {
        Server::Ping => ping(cmd, out),
    }
}

fn ping(cmd: &Cmd, out: &mut Reply) {
    match cmd.len() {
        1 => out.simple("PONG"),
        2 => out.bulk(&cmd[1]),
        _ => out.error("ERR wrong number of arguments for 'ping' command"),
    }
}
