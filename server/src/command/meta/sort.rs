//! SORT and SORT_RO (Redis' `sort.c`, in the generic group).

use super::flag::*;
use super::key_flag::*;
use super::*;

const GENERIC: &str = "generic";

const COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to \
    sort, and M the number of returned elements. When the elements are not sorted, complexity is \
    O(N).";

const PATTERN_KEYS: KeySpec = KeySpec::new(RO | ACCESS, BeginSearch::Unknown, FindKeys::Unknown)
    .notes(
        "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive \
        from the content of the key we sort",
    );

/// A BY or GET pattern: its keys are described by key spec 1.
const fn pattern_arg() -> Arg {
    Arg {
        key_spec_index: 1,
        ..pattern("pattern")
    }
}

const BY: Arg = pattern_arg().token("BY").opt();
const LIMIT: Arg = block("offset_count", &[integer("offset"), integer("count")])
    .token("LIMIT")
    .opt();
const GET: Arg = pattern_arg().token("GET").opt().multi().multi_token();
const ORDER: Arg = oneof("order", &[pure("asc", "ASC"), pure("desc", "DESC")]).opt();
const ALPHA: Arg = pure("sorting", "ALPHA").opt();

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("sort", -2, WRITE | DENYOOM, &["write", "set", "sortedset", "list", "slow", "dangerous"])
        .doc(GENERIC, "1.0.0", COMPLEXITY,
            "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.")
        .keys(&[
            key_at(1, RO | ACCESS),
            PATTERN_KEYS,
            KeySpec::new(OW | UPDATE, BeginSearch::Unknown, FindKeys::Unknown)
                .notes("For the optional STORE keyword. It is marked 'unknown' because the \
                    keyword can appear anywhere in the argument array"),
        ])
        .args(&[key("key", 0), BY, LIMIT, GET, ORDER, ALPHA,
            key("destination", 2).token("STORE").opt()]),
    cmd("sort_ro", -2, READONLY, &["read", "set", "sortedset", "list", "slow", "dangerous"])
        .doc(GENERIC, "7.0.0", COMPLEXITY,
            "Returns the sorted elements of a list, a set, or a sorted set.")
        .keys(&[key_at(1, RO | ACCESS), PATTERN_KEYS])
        .args(&[key("key", 0), BY, LIMIT, GET, ORDER, ALPHA]),
];

/// The keys of a SORT or SORT_RO call with their flags, found as Redis' `sortGetKeys` and
/// `sortROGetKeys` find them: the sorted key, and for SORT the argument after the last STORE
/// (skipping the arguments of LIMIT, GET and BY). The keys BY and GET patterns name depend on
/// the data and are not listed, as in Redis.
pub(super) fn sort_keys(name: &str, args: &[&[u8]]) -> Option<Vec<(usize, u64)>> {
    let store_allowed = match name {
        "sort" => true,
        "sort_ro" => false,
        _ => return None,
    };
    let mut keys = vec![(1, RO | ACCESS)];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if a.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if store_allowed && a.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store.map(|pos| (pos, OW | UPDATE)));
    Some(keys)
}
