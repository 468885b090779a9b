//! Transactions (Redis' `multi.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const TRANSACTIONS: &str = "transactions";
/// MULTI, DISCARD, WATCH and UNWATCH run at once even inside a transaction or while a
/// script is busy.
const CONTROL: u64 = NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY;
const FAST_TX: &[&str] = &["fast", "transaction"];

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("multi", 1, CONTROL, FAST_TX)
        .doc(TRANSACTIONS, "1.2.0", "O(1)", "Starts a transaction."),
    cmd("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG, &["slow", "transaction"])
        .doc(TRANSACTIONS, "1.2.0", "Depends on commands in the transaction",
            "Executes all commands in a transaction."),
    cmd("discard", 1, CONTROL, FAST_TX)
        .doc(TRANSACTIONS, "2.0.0", "O(N), when N is the number of queued commands",
            "Discards a transaction."),
    cmd("watch", -2, CONTROL, FAST_TX)
        .doc(TRANSACTIONS, "2.2.0", "O(1) for every key.",
            "Monitors changes to keys to determine the execution of a transaction.")
        .keys(&[keys_from(1, -1, 1, RO)])
        .args(&[key("key", 0).multi()]),
    cmd("unwatch", 1, CONTROL, FAST_TX)
        .doc(TRANSACTIONS, "2.2.0", "O(1)", "Forgets about watched keys of a transaction."),
];
