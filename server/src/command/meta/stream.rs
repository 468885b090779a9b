//! Streams (Redis' `t_stream.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const STREAM: &str = "stream";

const KEY_GROUP: &[Arg] = &[key("key", 0), string("group")];
const KEY_GROUP_CONSUMER: &[Arg] = &[key("key", 0), string("group"), string("consumer")];
const ID_SELECTOR: Arg = oneof("id-selector", &[string("id"), pure("new-id", "$")]);
const ENTRIES_READ: Arg = integer("entriesread")
    .display("entries-read")
    .token("ENTRIESREAD")
    .opt();
const TRIM_PARTS: &[Arg] = &[
    oneof(
        "strategy",
        &[
            pure("maxlen", "MAXLEN"),
            pure("minid", "MINID").since("6.2.0"),
        ],
    ),
    oneof(
        "operator",
        &[pure("equal", "="), pure("approximately", "~")],
    )
    .opt(),
    string("threshold"),
    integer("count").token("LIMIT").since("6.2.0").opt(),
];
const STREAMS: Arg =
    block("streams", &[key("key", 0).multi(), string("ID").multi()]).token("STREAMS");

const RANGE_COMPLEXITY: &str = "O(N) with N being the number of elements being returned. If N \
    is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it \
    O(1).";
const EXCLUSIVE_RANGES: &[(&str, &str)] = &[("6.2.0", "Added exclusive ranges.")];

/// The keys of XREAD / XREADGROUP: after STREAMS (searched from `startfrom`), the first half
/// of the remaining arguments.
const fn streams_keys(startfrom: i32) -> KeySpec {
    KeySpec::new(
        RO | ACCESS,
        BeginSearch::Keyword {
            keyword: "STREAMS",
            startfrom,
        },
        FindKeys::Range {
            lastkey: -1,
            step: 1,
            limit: 2,
        },
    )
}

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("xadd", -5, WRITE | DENYOOM | FAST, &["write", "stream", "fast"])
        .doc(STREAM, "5.0.0", "O(1) when adding a new entry, O(N) when trimming where N being \
            the number of entries evicted.", "Appends a new message to a stream. Creates the key \
            if it doesn't exist.")
        .history(&[
            ("6.2.0", "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` \
                option."),
            ("7.0.0", "Added support for the `<ms>-*` explicit ID form."),
        ])
        .tips(&["nondeterministic_output"])
        .keys(&[key_at(1, RW | UPDATE)
            .notes("UPDATE instead of INSERT because of the optional trimming feature")])
        .args(&[
            key("key", 0),
            pure("nomkstream", "NOMKSTREAM").since("6.2.0").opt(),
            block("trim", TRIM_PARTS).opt(),
            oneof("id-selector", &[pure("auto-id", "*"), string("id")]),
            block("data", &[string("field"), string("value")]).multi(),
        ]),
    cmd("xlen", 2, READONLY | FAST, &["read", "stream", "fast"])
        .doc(STREAM, "5.0.0", "O(1)", "Return the number of messages in a stream.")
        .keys(&[key_at(1, RO)])
        .args(&[key("key", 0)]),
    cmd("xrange", -4, READONLY, &["read", "stream", "slow"])
        .doc(STREAM, "5.0.0", RANGE_COMPLEXITY,
            "Returns the messages from a stream within a range of IDs.")
        .history(EXCLUSIVE_RANGES)
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[
            key("key", 0),
            string("start"),
            string("end"),
            integer("count").token("COUNT").opt(),
        ]),
    cmd("xrevrange", -4, READONLY, &["read", "stream", "slow"])
        .doc(STREAM, "5.0.0", "O(N) with N being the number of elements returned. If N is \
            constant (e.g. always asking for the first 10 elements with COUNT), you can consider \
            it O(1).", "Returns the messages from a stream within a range of IDs in reverse \
            order.")
        .history(EXCLUSIVE_RANGES)
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[
            key("key", 0),
            string("end"),
            string("start"),
            integer("count").token("COUNT").opt(),
        ]),
    cmd("xdel", -3, WRITE | FAST, &["write", "stream", "fast"])
        .doc(STREAM, "5.0.0", "O(1) for each single item to delete in the stream, regardless \
            of the stream size.", "Returns the number of messages after removing them from a \
            stream.")
        .keys(&[key_at(1, RW | DELETE)])
        .args(&[key("key", 0), string("ID").multi()]),
    cmd("xtrim", -4, WRITE, &["write", "stream", "slow"])
        .doc(STREAM, "5.0.0", "O(N), with N being the number of evicted entries. Constant \
            times are very small however, since entries are organized in macro nodes containing \
            multiple entries that can be released with a single deallocation.",
            "Deletes messages from the beginning of a stream.")
        .history(&[("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option.")])
        .tips(&["nondeterministic_output"])
        .keys(&[key_at(1, RW | DELETE)])
        .args(&[key("key", 0), block("trim", TRIM_PARTS)]),
    cmd("xsetid", -3, WRITE | DENYOOM | FAST, &["write", "stream", "fast"])
        .doc(STREAM, "5.0.0", "O(1)", "An internal command for replicating stream values.")
        .history(&[("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments.")])
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[
            key("key", 0),
            string("last-id"),
            integer("entries-added").token("ENTRIESADDED").since("7.0.0").opt(),
            string("max-deleted-id").token("MAXDELETEDID").since("7.0.0").opt(),
        ]),
    cmd("xinfo", -2, 0, &["slow"])
        .doc(STREAM, "5.0.0", "Depends on subcommand.",
            "A container for stream introspection commands.")
        .subcommands(&[
            cmd("xinfo|consumers", 4, READONLY, &["read", "stream", "slow"])
                .doc(STREAM, "5.0.0", "O(1)",
                    "Returns a list of the consumers in a consumer group.")
                .history(&[("7.2.0", "Added the `inactive` field, and changed the meaning of \
                    `idle`.")])
                .tips(&["nondeterministic_output"])
                .keys(&[key_at(2, RO | ACCESS)])
                .args(KEY_GROUP),
            cmd("xinfo|groups", 3, READONLY, &["read", "stream", "slow"])
                .doc(STREAM, "5.0.0", "O(1)",
                    "Returns a list of the consumer groups of a stream.")
                .history(&[("7.0.0", "Added the `entries-read` and `lag` fields")])
                .keys(&[key_at(2, RO | ACCESS)])
                .args(&[key("key", 0)]),
            cmd("xinfo|help", 2, LOADING | STALE, &["stream", "slow"])
                .doc(STREAM, "5.0.0", "O(1)",
                    "Returns helpful text about the different subcommands."),
            cmd("xinfo|stream", -3, READONLY, &["read", "stream", "slow"])
                .doc(STREAM, "5.0.0", "O(1)", "Returns information about a stream.")
                .history(&[
                    ("6.0.0", "Added the `FULL` modifier."),
                    ("7.0.0", "Added the `max-deleted-entry-id`, `entries-added`, \
                        `recorded-first-entry-id`, `entries-read` and `lag` fields"),
                    ("7.2.0", "Added the `active-time` field, and changed the meaning of \
                        `seen-time`."),
                ])
                .keys(&[key_at(2, RO | ACCESS)])
                .args(&[
                    key("key", 0),
                    block("full-block", &[
                        pure("full", "FULL"),
                        integer("count").token("COUNT").opt(),
                    ]).opt(),
                ]),
        ]),
    cmd("xread", -4, READONLY | BLOCKING, &["read", "stream", "slow", "blocking"])
        .doc(STREAM, "5.0.0", "For each stream mentioned: O(N) with N being the number of \
            elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note \
            that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M \
            clients blocked on the stream getting new data.", "Returns messages from multiple \
            streams with IDs greater than the ones requested. Blocks until a message is \
            available otherwise.")
        .keys(&[streams_keys(1)])
        .args(&[
            integer("count").token("COUNT").opt(),
            integer("milliseconds").token("BLOCK").opt(),
            STREAMS,
        ]),
    cmd("xgroup", -2, 0, &["slow"])
        .doc(STREAM, "5.0.0", "Depends on subcommand.",
            "A container for consumer groups commands.")
        .subcommands(&[
            cmd("xgroup|create", -5, WRITE | DENYOOM, &["write", "stream", "slow"])
                .doc(STREAM, "5.0.0", "O(1)", "Creates a consumer group.")
                .history(&[("7.0.0", "Added the `entries_read` named argument.")])
                .keys(&[key_at(2, RW | INSERT)])
                .args(&[
                    key("key", 0),
                    string("group"),
                    ID_SELECTOR,
                    pure("mkstream", "MKSTREAM").opt(),
                    ENTRIES_READ,
                ]),
            cmd("xgroup|createconsumer", 5, WRITE | DENYOOM, &["write", "stream", "slow"])
                .doc(STREAM, "6.2.0", "O(1)", "Creates a consumer in a consumer group.")
                .keys(&[key_at(2, RW | INSERT)])
                .args(KEY_GROUP_CONSUMER),
            cmd("xgroup|delconsumer", 5, WRITE, &["write", "stream", "slow"])
                .doc(STREAM, "5.0.0", "O(1)", "Deletes a consumer from a consumer group.")
                .keys(&[key_at(2, RW | DELETE)])
                .args(KEY_GROUP_CONSUMER),
            cmd("xgroup|destroy", 4, WRITE, &["write", "stream", "slow"])
                .doc(STREAM, "5.0.0", "O(N) where N is the number of entries in the group's \
                    pending entries list (PEL).", "Destroys a consumer group.")
                .keys(&[key_at(2, RW | DELETE)])
                .args(KEY_GROUP),
            cmd("xgroup|help", 2, LOADING | STALE, &["stream", "slow"])
                .doc(STREAM, "5.0.0", "O(1)",
                    "Returns helpful text about the different subcommands."),
            cmd("xgroup|setid", -5, WRITE, &["write", "stream", "slow"])
                .doc(STREAM, "5.0.0", "O(1)", "Sets the last-delivered ID of a consumer group.")
                .history(&[("7.0.0", "Added the optional `entries_read` argument.")])
                .keys(&[key_at(2, RW | UPDATE)])
                .args(&[key("key", 0), string("group"), ID_SELECTOR, ENTRIES_READ]),
        ]),
    cmd("xreadgroup", -7, WRITE | BLOCKING, &["write", "stream", "slow", "blocking"])
        .doc(STREAM, "5.0.0", "For each stream mentioned: O(M) with M being the number of \
            elements returned. If M is constant (e.g. always asking for the first 10 elements \
            with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, \
            XADD will pay the O(N) time in order to serve the N clients blocked on the stream \
            getting new data.", "Returns new or historical messages from a stream for a \
            consumer in a group. Blocks until a message is available otherwise.")
        .keys(&[streams_keys(4)])
        .args(&[
            block("group-block", &[string("group"), string("consumer")]).token("GROUP"),
            integer("count").token("COUNT").opt(),
            integer("milliseconds").token("BLOCK").opt(),
            pure("noack", "NOACK").opt(),
            STREAMS,
        ]),
    cmd("xack", -4, WRITE | FAST, &["write", "stream", "fast"])
        .doc(STREAM, "5.0.0", "O(1) for each message ID processed.", "Returns the number of \
            messages that were successfully acknowledged by the consumer group member of a \
            stream.")
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[key("key", 0), string("group"), string("ID").multi()]),
    cmd("xpending", -3, READONLY, &["read", "stream", "slow"])
        .doc(STREAM, "5.0.0", "O(N) with N being the number of elements returned, so asking \
            for a small fixed number of entries per call is O(1). O(M), where M is the total \
            number of entries scanned when used with the IDLE filter. When the command returns \
            just the summary and the list of consumers is small, it runs in O(1) time; \
            otherwise, an additional O(N) time for iterating every consumer.", "Returns the \
            information and entries from a stream consumer group's pending entries list.")
        .history(&[("6.2.0", "Added the `IDLE` option and exclusive range intervals.")])
        .tips(&["nondeterministic_output"])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[
            key("key", 0),
            string("group"),
            block("filters", &[
                integer("min-idle-time").token("IDLE").since("6.2.0").opt(),
                string("start"),
                string("end"),
                integer("count"),
                string("consumer").opt(),
            ]).opt(),
        ]),
    cmd("xclaim", -6, WRITE | FAST, &["write", "stream", "fast"])
        .doc(STREAM, "5.0.0", "O(log N) with N being the number of messages in the PEL of the \
            consumer group.", "Changes, or acquires, ownership of a message in a consumer group, \
            as if the message was delivered to a consumer group member.")
        .tips(&["nondeterministic_output"])
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[
            key("key", 0),
            string("group"),
            string("consumer"),
            string("min-idle-time"),
            string("ID").multi(),
            integer("ms").token("IDLE").opt(),
            unix_time("unix-time-milliseconds").token("TIME").opt(),
            integer("count").token("RETRYCOUNT").opt(),
            pure("force", "FORCE").opt(),
            pure("justid", "JUSTID").opt(),
            string("lastid").token("LASTID").opt(),
        ]),
    cmd("xautoclaim", -6, WRITE | FAST, &["write", "stream", "fast"])
        .doc(STREAM, "6.2.0", "O(1) if COUNT is small.", "Changes, or acquires, ownership of \
            messages in a consumer group, as if the messages were delivered to a consumer group \
            member.")
        .history(&[("7.0.0", "Added an element to the reply array, containing deleted entries \
            the command cleared from the PEL")])
        .tips(&["nondeterministic_output"])
        .keys(&[key_at(1, RW | DELETE)])
        .args(&[
            key("key", 0),
            string("group"),
            string("consumer"),
            string("min-idle-time"),
            string("start"),
            integer("count").token("COUNT").opt(),
            pure("justid", "JUSTID").opt(),
        ]),
];
