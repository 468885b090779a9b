//! Per-thread event loops. Both drive the same `Client` state machines; they
//! differ only in how they wait for sockets and timers.

pub mod epoll;
pub mod glommio_rt;

use std::io;

/// Error kind for the error table from an I/O failure on a connection.
pub fn io_error_kind(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::ConnectionReset => "conn:reset",
        io::ErrorKind::ConnectionAborted => "conn:aborted",
        io::ErrorKind::BrokenPipe => "conn:broken-pipe",
        io::ErrorKind::TimedOut => "conn:timeout",
        _ => "conn:io-error",
    }
}
