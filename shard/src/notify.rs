//! Keyspace notifications (`notify-keyspace-events`): the classes of events, their flag
//! string, and the events a database recorded for the server to publish.
//!
//! Commands record an event where Redis calls `notifyKeyspaceEvent`: same class, same
//! event name, same order. Recording is one branch when the class is off (the default: no
//! classes at all), so a server nobody listens to pays nothing. The server drains the
//! events once the command's shard is released and publishes each on
//! `__keyspace@<db>__:<key>` (K) and `__keyevent@<db>__:<event>` (E).

/// `K`: publish on `__keyspace@<db>__:<key>` with the event as the message.
pub const KEYSPACE: u16 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>` with the key as the message.
pub const KEYEVENT: u16 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME...).
pub const GENERIC: u16 = 1 << 2;
/// `$`: string commands.
pub const STRING: u16 = 1 << 3;
/// `l`: list commands.
pub const LIST: u16 = 1 << 4;
/// `s`: set commands.
pub const SET: u16 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u16 = 1 << 6;
/// `z`: sorted set commands.
pub const ZSET: u16 = 1 << 7;
/// `x`: a key expired (when it is reclaimed, lazily or by the active cycle).
pub const EXPIRED: u16 = 1 << 8;
/// `e`: a key was evicted for maxmemory.
pub const EVICTED: u16 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u16 = 1 << 10;
/// `m`: a read found no key (not part of `A`).
pub const KEY_MISS: u16 = 1 << 11;
/// `d`: module key types (none here; accepted for compatibility).
pub const MODULE: u16 = 1 << 12;
/// `n`: a key was created (not part of `A`).
pub const NEW: u16 = 1 << 13;
/// `A`: alias for `g$lshzxetd`.
pub const ALL: u16 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The class letters in Redis' order (without `A`, `K`, `E` and `m`).
const CLASSES: [(u8, u16); 11] = [
    (b'g', GENERIC),
    (b'$', STRING),
    (b'l', LIST),
    (b's', SET),
    (b'h', HASH),
    (b'z', ZSET),
    (b'x', EXPIRED),
    (b'e', EVICTED),
    (b't', STREAM),
    (b'd', MODULE),
    (b'n', NEW),
];

/// Parses a `notify-keyspace-events` value; None on an unknown letter (as Redis, which
/// then refuses the whole value).
pub fn parse_flags(s: &[u8]) -> Option<u16> {
    let mut flags = 0;
    for &c in s {
        flags |= match c {
            b'A' => ALL,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b'm' => KEY_MISS,
            _ => CLASSES.iter().find(|(l, _)| *l == c)?.1,
        };
    }
    Some(flags)
}

/// The flag string CONFIG GET shows: `A` when every class of it is on, then `K`, `E`, `m`.
pub fn flags_string(flags: u16) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        // As Redis: `n` is not shown next to `A` (CONFIG GET then loses it).
        s.push('A');
    } else {
        s.extend(
            CLASSES
                .iter()
                .filter(|(_, f)| flags & f != 0)
                .map(|&(l, _)| l as char),
        );
    }
    for (l, f) in [('K', KEYSPACE), ('E', KEYEVENT), ('m', KEY_MISS)] {
        if flags & f != 0 {
            s.push(l);
        }
    }
    s
}

/// One recorded event: its name and the key it happened to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: &'static str,
    pub key: Box<[u8]>,
    /// When, on this thread: orders events of one command across databases (MOVE, COPY
    /// ... DB), which record into their own buffers.
    pub seq: u64,
}

thread_local! {
    static SEQ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn next_seq() -> u64 {
    SEQ.with(|s| {
        let n = s.get();
        s.set(n + 1);
        n
    })
}

/// The events one database recorded since the server last drained them.
#[derive(Default)]
pub struct Events {
    /// The classes to record; 0 unless `K` or `E` is on too (nothing would be published).
    record: u16,
    pending: Vec<Event>,
}

impl Events {
    /// Applies `notify-keyspace-events` flags.
    pub fn set_flags(&mut self, flags: u16) {
        self.record = if flags & (KEYSPACE | KEYEVENT) != 0 {
            flags & !(KEYSPACE | KEYEVENT)
        } else {
            0
        };
    }

    /// Whether events of `class` are recorded (for events that cost something to name).
    #[inline]
    pub fn wants(&self, class: u16) -> bool {
        self.record & class != 0
    }

    /// Records `name` on `key` if its class is on.
    #[inline]
    pub fn push(&mut self, class: u16, name: &'static str, key: &[u8]) {
        if self.record & class != 0 {
            self.pending.push(Event {
                name,
                key: key.into(),
                seq: next_seq(),
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The recorded events, oldest first; the buffer is left empty.
    pub fn take(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_strings_read_and_print_as_redis() {
        for (given, shown) in [
            ("", ""),
            ("KEA", "AKE"),
            ("Ex", "xE"),
            ("K$lg", "g$lK"),
            ("AKEmn", "AKEm"),
            ("g$lshzxetdKE", "AKE"),
            ("Kn", "nK"),
        ] {
            let f = parse_flags(given.as_bytes()).unwrap();
            assert_eq!(flags_string(f), shown, "{given}");
        }
        assert_eq!(parse_flags(b"KEq"), None);
    }

    #[test]
    fn nothing_is_recorded_without_k_or_e() {
        let mut ev = Events::default();
        ev.set_flags(parse_flags(b"A").unwrap());
        ev.push(GENERIC, "del", b"k");
        assert!(ev.is_empty());
        ev.set_flags(parse_flags(b"Kg").unwrap());
        ev.push(STRING, "set", b"k");
        ev.push(GENERIC, "del", b"k");
        let got = ev.take();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].name, &*got[0].key), ("del", &b"k"[..]));
        assert!(ev.is_empty());
    }
}
