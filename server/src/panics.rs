//! What a panic means. Inside a command handler it is a bug in that command: the client gets
//! an error reply and the shard goes on (`dispatch::run_jobs` catches it). Anywhere else a
//! shard's state or loop may be broken, and a process with a dead shard would hang the
//! clients routed to it: abort, so a supervisor restarts a whole, healthy server.

use std::cell::Cell;

thread_local! {
    static IN_COMMAND: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (a command handler under `catch_unwind`) with panics marked as recoverable.
pub fn guarded<R>(f: impl FnOnce() -> R) -> R {
    IN_COMMAND.with(|c| c.set(true));
    let r = f();
    IN_COMMAND.with(|c| c.set(false));
    r
}

/// Installs the policy: report every panic, abort on those outside a command.
pub fn install() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        if !IN_COMMAND.with(Cell::get) {
            eprintln!("shardis-server: internal error outside a command; aborting");
            std::process::abort();
        }
    }));
}
