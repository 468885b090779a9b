//! Lists (Redis' `t_list.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const LIST: &str = "list";

const LEFT_RIGHT: &[Arg] = &[pure("left", "LEFT"), pure("right", "RIGHT")];
const KEY_ELEMENTS: &[Arg] = &[key("key", 0), string("element").multi()];
const KEY_START_STOP: &[Arg] = &[key("key", 0), integer("start"), integer("stop")];
const KEY_COUNT: &[Arg] = &[key("key", 0), integer("count").since("6.2.0").opt()];
const SOURCE_DESTINATION: &[Arg] = &[key("source", 0), key("destination", 1)];
const KEYS_TIMEOUT: &[Arg] = &[key("key", 0).multi(), double("timeout")];

const PUSH_COMPLEXITY: &str = "O(1) for each element added, so O(N) to add N elements when the \
    command is called with multiple arguments.";
const POP_COMPLEXITY: &str = "O(N) where N is the number of elements returned";
const MPOP_COMPLEXITY: &str =
    "O(N+M) where N is the number of provided keys and M is the number of elements returned.";
const TIMEOUT_HISTORY: &[(&str, &str)] = &[(
    "6.0.0",
    "`timeout` is interpreted as a double instead of an integer.",
)];

const ONE_KEY_INSERT: &[KeySpec] = &[key_at(1, RW | INSERT)];
const ONE_KEY_POP: &[KeySpec] = &[key_at(1, RW | ACCESS | DELETE)];
const MOVE_KEYS: &[KeySpec] = &[key_at(1, RW | ACCESS | DELETE), key_at(2, RW | INSERT)];

/// The keys of LMPOP / BLMPOP: numkeys at `pos`, the keys after it.
const fn mpop_keys(pos: i32) -> KeySpec {
    KeySpec::new(
        RW | ACCESS | DELETE,
        BeginSearch::Index(pos),
        FindKeys::Keynum {
            keynumidx: 0,
            firstkey: 1,
            step: 1,
        },
    )
}

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("blmove", 6, WRITE | DENYOOM | BLOCKING, &["write", "list", "slow", "blocking"])
        .doc(LIST, "6.2.0", "O(1)", "Pops an element from a list, pushes it to another list and \
            returns it. Blocks until an element is available otherwise. Deletes the list if the \
            last element was moved.")
        .keys(MOVE_KEYS)
        .args(&[
            key("source", 0),
            key("destination", 1),
            oneof("wherefrom", LEFT_RIGHT),
            oneof("whereto", LEFT_RIGHT),
            double("timeout"),
        ]),
    cmd("blmpop", -5, WRITE | BLOCKING, &["write", "list", "slow", "blocking"])
        .doc(LIST, "7.0.0", MPOP_COMPLEXITY, "Pops the first element from one of multiple lists. \
            Blocks until an element is available otherwise. Deletes the list if the last element \
            was popped.")
        .keys(&[mpop_keys(2)])
        .args(&[
            double("timeout"),
            integer("numkeys"),
            key("key", 0).multi(),
            oneof("where", LEFT_RIGHT),
            integer("count").token("COUNT").opt(),
        ]),
    cmd("blpop", -3, WRITE | BLOCKING, &["write", "list", "slow", "blocking"])
        .doc(LIST, "2.0.0", "O(N) where N is the number of provided keys.", "Removes and returns \
            the first element in a list. Blocks until an element is available otherwise. Deletes \
            the list if the last element was popped.")
        .history(TIMEOUT_HISTORY)
        .keys(&[keys_from(1, -2, 1, RW | ACCESS | DELETE)])
        .args(KEYS_TIMEOUT),
    cmd("brpop", -3, WRITE | BLOCKING, &["write", "list", "slow", "blocking"])
        .doc(LIST, "2.0.0", "O(N) where N is the number of provided keys.", "Removes and returns \
            the last element in a list. Blocks until an element is available otherwise. Deletes \
            the list if the last element was popped.")
        .history(TIMEOUT_HISTORY)
        .keys(&[keys_from(1, -2, 1, RW | ACCESS | DELETE)])
        .args(KEYS_TIMEOUT),
    cmd("brpoplpush", 4, WRITE | DENYOOM | BLOCKING, &["write", "list", "slow", "blocking"])
        .doc(LIST, "2.2.0", "O(1)", "Pops an element from a list, pushes it to another list and \
            returns it. Block until an element is available otherwise. Deletes the list if the \
            last element was popped.")
        .deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments")
        .history(TIMEOUT_HISTORY)
        .keys(MOVE_KEYS)
        .args(&[key("source", 0), key("destination", 1), double("timeout")]),
    cmd("lindex", 3, READONLY, &["read", "list", "slow"])
        .doc(LIST, "1.0.0", "O(N) where N is the number of elements to traverse to get to the \
            element at index. This makes asking for the first or the last element of the list \
            O(1).", "Returns an element from a list by its index.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[key("key", 0), integer("index")]),
    cmd("linsert", 5, WRITE | DENYOOM, &["write", "list", "slow"])
        .doc(LIST, "2.2.0", "O(N) where N is the number of elements to traverse before seeing \
            the value pivot. This means that inserting somewhere on the left end on the list \
            (head) can be considered O(1) and inserting somewhere on the right end (tail) is \
            O(N).", "Inserts an element before or after another element in a list.")
        .keys(ONE_KEY_INSERT)
        .args(&[
            key("key", 0),
            oneof("where", &[pure("before", "BEFORE"), pure("after", "AFTER")]),
            string("pivot"),
            string("element"),
        ]),
    cmd("llen", 2, READONLY | FAST, &["read", "list", "fast"])
        .doc(LIST, "1.0.0", "O(1)", "Returns the length of a list.")
        .keys(&[key_at(1, RO)])
        .args(&[key("key", 0)]),
    cmd("lmove", 5, WRITE | DENYOOM, &["write", "list", "slow"])
        .doc(LIST, "6.2.0", "O(1)", "Returns an element after popping it from one list and \
            pushing it to another. Deletes the list if the last element was moved.")
        .keys(MOVE_KEYS)
        .args(&[
            key("source", 0),
            key("destination", 1),
            oneof("wherefrom", LEFT_RIGHT),
            oneof("whereto", LEFT_RIGHT),
        ]),
    cmd("lmpop", -4, WRITE, &["write", "list", "slow"])
        .doc(LIST, "7.0.0", MPOP_COMPLEXITY, "Returns multiple elements from a list after \
            removing them. Deletes the list if the last element was popped.")
        .keys(&[mpop_keys(1)])
        .args(&[
            integer("numkeys"),
            key("key", 0).multi(),
            oneof("where", LEFT_RIGHT),
            integer("count").token("COUNT").opt(),
        ]),
    cmd("lpop", -2, WRITE | FAST, &["write", "list", "fast"])
        .doc(LIST, "1.0.0", POP_COMPLEXITY, "Returns the first elements in a list after removing \
            it. Deletes the list if the last element was popped.")
        .history(&[("6.2.0", "Added the `count` argument.")])
        .keys(ONE_KEY_POP)
        .args(KEY_COUNT),
    cmd("lpos", -3, READONLY, &["read", "list", "slow"])
        .doc(LIST, "6.0.6", "O(N) where N is the number of elements in the list, for the average \
            case. When searching for elements near the head or the tail of the list, or when the \
            MAXLEN option is provided, the command may run in constant time.",
            "Returns the index of matching elements in a list.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[
            key("key", 0),
            string("element"),
            integer("rank").token("RANK").opt(),
            integer("num-matches").token("COUNT").opt(),
            integer("len").token("MAXLEN").opt(),
        ]),
    cmd("lpush", -3, WRITE | DENYOOM | FAST, &["write", "list", "fast"])
        .doc(LIST, "1.0.0", PUSH_COMPLEXITY,
            "Prepends one or more elements to a list. Creates the key if it doesn't exist.")
        .history(&[("2.4.0", "Accepts multiple `element` arguments.")])
        .keys(ONE_KEY_INSERT)
        .args(KEY_ELEMENTS),
    cmd("lpushx", -3, WRITE | DENYOOM | FAST, &["write", "list", "fast"])
        .doc(LIST, "2.2.0", PUSH_COMPLEXITY,
            "Prepends one or more elements to a list only when the list exists.")
        .history(&[("4.0.0", "Accepts multiple `element` arguments.")])
        .keys(ONE_KEY_INSERT)
        .args(KEY_ELEMENTS),
    cmd("lrange", 4, READONLY, &["read", "list", "slow"])
        .doc(LIST, "1.0.0", "O(S+N) where S is the distance of start offset from HEAD for small \
            lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of \
            elements in the specified range.", "Returns a range of elements from a list.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY_START_STOP),
    cmd("lrem", 4, WRITE, &["write", "list", "slow"])
        .doc(LIST, "1.0.0",
            "O(N+M) where N is the length of the list and M is the number of elements removed.",
            "Removes elements from a list. Deletes the list if the last element was removed.")
        .keys(&[key_at(1, RW | DELETE)])
        .args(&[key("key", 0), integer("count"), string("element")]),
    cmd("lset", 4, WRITE | DENYOOM, &["write", "list", "slow"])
        .doc(LIST, "1.0.0", "O(N) where N is the length of the list. Setting either the first or \
            the last element of the list is O(1).",
            "Sets the value of an element in a list by its index.")
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[key("key", 0), integer("index"), string("element")]),
    cmd("ltrim", 4, WRITE, &["write", "list", "slow"])
        .doc(LIST, "1.0.0",
            "O(N) where N is the number of elements to be removed by the operation.",
            "Removes elements from both ends a list. Deletes the list if all elements were \
            trimmed.")
        .keys(&[key_at(1, RW | DELETE)])
        .args(KEY_START_STOP),
    cmd("rpop", -2, WRITE | FAST, &["write", "list", "fast"])
        .doc(LIST, "1.0.0", POP_COMPLEXITY, "Returns and removes the last elements of a list. \
            Deletes the list if the last element was popped.")
        .history(&[("6.2.0", "Added the `count` argument.")])
        .keys(ONE_KEY_POP)
        .args(KEY_COUNT),
    cmd("rpoplpush", 3, WRITE | DENYOOM, &["write", "list", "slow"])
        .doc(LIST, "1.2.0", "O(1)", "Returns the last element of a list after removing and \
            pushing it to another list. Deletes the list if the last element was popped.")
        .deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments")
        .keys(MOVE_KEYS)
        .args(SOURCE_DESTINATION),
    cmd("rpush", -3, WRITE | DENYOOM | FAST, &["write", "list", "fast"])
        .doc(LIST, "1.0.0", PUSH_COMPLEXITY,
            "Appends one or more elements to a list. Creates the key if it doesn't exist.")
        .history(&[("2.4.0", "Accepts multiple `element` arguments.")])
        .keys(ONE_KEY_INSERT)
        .args(KEY_ELEMENTS),
    cmd("rpushx", -3, WRITE | DENYOOM | FAST, &["write", "list", "fast"])
        .doc(LIST, "2.2.0", PUSH_COMPLEXITY,
            "Appends an element to a list only when the list exists.")
        .history(&[("4.0.0", "Accepts multiple `element` arguments.")])
        .keys(ONE_KEY_INSERT)
        .args(KEY_ELEMENTS),
];
