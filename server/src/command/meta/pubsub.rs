//! Pub/sub (Redis' `pubsub.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const GROUP: &str = "pubsub";
const SUB: u64 = flag::PUBSUB | NOSCRIPT | LOADING | STALE;
const SUB_ACL: &[&str] = &["pubsub", "slow"];
const PUB_ACL: &[&str] = &["pubsub", "fast"];
const INTROSPECT: u64 = flag::PUBSUB | LOADING | STALE;
/// Shard channels are routed like keys in a cluster, but they are not keys.
const SHARD_CHANNELS: &[KeySpec] = &[keys_from(1, -1, 1, NOT_KEY)];

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("subscribe", -2, SUB, SUB_ACL)
        .doc(GROUP, "2.0.0", "O(N) where N is the number of channels to subscribe to.",
            "Listens for messages published to channels.")
        .args(&[string("channel").multi()]),
    cmd("unsubscribe", -1, SUB, SUB_ACL)
        .doc(GROUP, "2.0.0", "O(N) where N is the number of channels to unsubscribe.",
            "Stops listening to messages posted to channels.")
        .args(&[string("channel").opt().multi()]),
    cmd("psubscribe", -2, SUB, SUB_ACL)
        .doc(GROUP, "2.0.0", "O(N) where N is the number of patterns to subscribe to.",
            "Listens for messages published to channels that match one or more patterns.")
        .args(&[pattern("pattern").multi()]),
    cmd("punsubscribe", -1, SUB, SUB_ACL)
        .doc(GROUP, "2.0.0", "O(N) where N is the number of patterns to unsubscribe.",
            "Stops listening to messages published to channels that match one or more \
            patterns.")
        .args(&[pattern("pattern").opt().multi()]),
    cmd("publish", 3, flag::PUBSUB | LOADING | STALE | FAST, PUB_ACL)
        .doc(GROUP, "2.0.0", "O(N+M) where N is the number of clients subscribed to the \
            receiving channel and M is the total number of subscribed patterns (by any \
            client).", "Posts a message to a channel.")
        .args(&[string("channel"), string("message")]),
    cmd("ssubscribe", -2, SUB, SUB_ACL)
        .doc(GROUP, "7.0.0", "O(N) where N is the number of shard channels to subscribe to.",
            "Listens for messages published to shard channels.")
        .keys(SHARD_CHANNELS)
        .args(&[string("shardchannel").multi()]),
    cmd("sunsubscribe", -1, SUB, SUB_ACL)
        .doc(GROUP, "7.0.0", "O(N) where N is the number of shard channels to unsubscribe.",
            "Stops listening to messages posted to shard channels.")
        .keys(SHARD_CHANNELS)
        .args(&[string("shardchannel").opt().multi()]),
    cmd("spublish", 3, flag::PUBSUB | LOADING | STALE | FAST, PUB_ACL)
        .doc(GROUP, "7.0.0", "O(N) where N is the number of clients subscribed to the \
            receiving shard channel.", "Post a message to a shard channel")
        .keys(&[key_at(1, NOT_KEY)])
        .args(&[key("shardchannel", 0), string("message")]),
    cmd("pubsub", -2, 0, &["slow"])
        .doc(GROUP, "2.8.0", "Depends on subcommand.", "A container for Pub/Sub commands.")
        .subcommands(&[
            cmd("pubsub|channels", -2, INTROSPECT, SUB_ACL)
                .doc(GROUP, "2.8.0", "O(N) where N is the number of active channels, and \
                    assuming constant time pattern matching (relatively short channels and \
                    patterns)", "Returns the active channels.")
                .args(&[pattern("pattern").opt()]),
            cmd("pubsub|help", 2, LOADING | STALE, &["slow"])
                .doc(GROUP, "6.2.0", "O(1)",
                    "Returns helpful text about the different subcommands."),
            cmd("pubsub|numpat", 2, INTROSPECT, SUB_ACL)
                .doc(GROUP, "2.8.0", "O(1)", "Returns a count of unique pattern subscriptions."),
            cmd("pubsub|numsub", -2, INTROSPECT, SUB_ACL)
                .doc(GROUP, "2.8.0", "O(N) for the NUMSUB subcommand, where N is the number of \
                    requested channels", "Returns a count of subscribers to channels.")
                .args(&[string("channel").opt().multi()]),
            cmd("pubsub|shardchannels", -2, INTROSPECT, SUB_ACL)
                .doc(GROUP, "7.0.0", "O(N) where N is the number of active shard channels, \
                    and assuming constant time pattern matching (relatively short shard \
                    channels).", "Returns the active shard channels.")
                .args(&[pattern("pattern").opt()]),
            cmd("pubsub|shardnumsub", -2, INTROSPECT, SUB_ACL)
                .doc(GROUP, "7.0.0", "O(N) for the SHARDNUMSUB subcommand, where N is the \
                    number of requested shard channels",
                    "Returns the count of subscribers of shard channels.")
                .args(&[string("shardchannel").opt().multi()]),
        ]),
];
