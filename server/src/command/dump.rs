//! DUMP and RESTORE (RESTORE-ASKING): a key's value as a Redis DUMP payload, and a key
//! created from one (Redis' `cluster.c`). The payload's format is `persist::dump`'s; they
//! live here because the shard crate cannot see the RDB codec. MIGRATE is in `migrate.rs`.

use shard::db::{Clock, Expiry};
use shard::num::parse_i64;
use shard::reply::err;
use shard::{notify, Cmd, Ctx, Entry};

const BUSYKEY: &str = "BUSYKEY Target key name already exists.";

/// DUMP key: the payload, or nil for a missing key. A read lookup (hit, access time).
pub fn dump(ctx: &mut Ctx, cmd: &Cmd) {
    match ctx.db.get(&cmd[1], ctx.now) {
        Some(e) => ctx.out.bulk(&persist::dump::dump(&e.value)),
        None => ctx.out.null(),
    }
}

/// RESTORE's options after the payload.
#[derive(Default, Debug, PartialEq)]
struct Options {
    replace: bool,
    absttl: bool,
    /// IDLETIME seconds (LRU policies only).
    idle: Option<i64>,
    /// FREQ frequency (LFU policies only).
    freq: Option<u8>,
}

/// Parses RESTORE's options in Redis' order and with its errors: IDLETIME and FREQ exclude
/// each other (the second is a syntax error), each needs its value.
fn parse_options(cmd: &Cmd) -> Result<Options, &'static str> {
    let mut o = Options::default();
    let mut j = 4;
    while j < cmd.len() {
        let a = &cmd[j];
        let has_value = j + 1 < cmd.len();
        if a.eq_ignore_ascii_case(b"replace") {
            o.replace = true;
        } else if a.eq_ignore_ascii_case(b"absttl") {
            o.absttl = true;
        } else if a.eq_ignore_ascii_case(b"idletime") && has_value && o.freq.is_none() {
            let idle = parse_i64(&cmd[j + 1]).ok_or(err::NOT_INT)?;
            if idle < 0 {
                return Err("ERR Invalid IDLETIME value, must be >= 0");
            }
            o.idle = Some(idle);
            j += 1;
        } else if a.eq_ignore_ascii_case(b"freq") && has_value && o.idle.is_none() {
            let freq = parse_i64(&cmd[j + 1]).ok_or(err::NOT_INT)?;
            o.freq = Some(
                u8::try_from(freq)
                    .map_err(|_| "ERR Invalid FREQ value, must be >= 0 and <= 255")?,
            );
            j += 1;
        } else {
            return Err(err::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency],
/// checked in Redis' order: options, an existing key, the TTL, the payload's version and
/// checksum, then its contents. A TTL already in the past deletes the key being replaced and
/// creates nothing (on a master). A relative TTL is propagated as an absolute one with ABSTTL.
pub fn restore(ctx: &mut Ctx, cmd: &Cmd) {
    let opts = match parse_options(cmd) {
        Ok(o) => o,
        Err(e) => return ctx.out.error(e),
    };
    let key = &cmd[1];
    // A write lookup, as Redis': reclaims an expired key, touches a live one.
    if ctx.db.get_mut(key, ctx.now).is_some() && !opts.replace {
        return ctx.out.error(BUSYKEY);
    }
    let ttl = match parse_i64(&cmd[2]) {
        Some(t) if t < 0 => return ctx.out.error("ERR Invalid TTL value, must be >= 0"),
        Some(t) => t,
        None => return ctx.out.error(err::NOT_INT),
    };
    let value = match persist::dump::restore(&cmd[3], ctx.limits) {
        Ok(v) => v,
        Err(e) => return ctx.out.error(e.message()),
    };
    let deleted = opts.replace && ctx.db.remove(key).is_some();
    let expire_at = match ttl {
        0 => 0,
        t if opts.absttl => t,
        t => t.saturating_add(ctx.now as i64),
    };
    // Redis' checkAlreadyExpired: not while loading, nor on a replica (its master decides).
    let expires_now = ctx.db.expiry == Expiry::Active && !ctx.db.loading;
    if expire_at != 0 && expire_at as u64 <= ctx.now && expires_now {
        if deleted {
            ctx.propagate([&b"DEL"[..], key]);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.wrote(1);
        }
        return ctx.out.ok();
    }
    let mut entry = Entry::new(value);
    entry.expire_at = expire_at as u64;
    entry.access = access_data(ctx.db.clock, &opts, ctx.now);
    ctx.db.insert_entry(key, entry, ctx.now);
    if expire_at != 0 && !opts.absttl && ctx.propagating() {
        let at = itoa::Buffer::new().format(expire_at).to_owned();
        let mut args: Vec<&[u8]> = cmd.args().collect();
        args[2] = at.as_bytes();
        args.push(b"ABSTTL");
        ctx.propagate(args);
    }
    ctx.notify(notify::GENERIC, "restore", key);
    ctx.wrote(1);
    ctx.out.ok();
}

/// The entry's access data from IDLETIME (under LRU) or FREQ (under LFU), as Redis'
/// `objectSetLRUOrLFU`; 0 (a fresh entry's) when the option for the policy is absent.
fn access_data(clock: Clock, opts: &Options, now_ms: u64) -> u32 {
    let idle = opts.idle.map(|i| i as u64);
    shard::evict::access_from(clock, idle, opts.freq, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str]) -> Result<Options, &'static str> {
        let mut all = vec!["RESTORE", "k", "0", "payload"];
        all.extend_from_slice(args);
        parse_options(&Cmd::from_args(&all))
    }

    #[test]
    fn options_as_redis_parses_them() {
        assert_eq!(opts(&[]), Ok(Options::default()));
        let o = opts(&["replace", "ABSTTL", "idletime", "10"]).unwrap();
        assert!(o.replace && o.absttl && o.idle == Some(10) && o.freq.is_none());
        assert_eq!(opts(&["FREQ", "255"]).unwrap().freq, Some(255));
        assert_eq!(opts(&["IDLETIME"]), Err(err::SYNTAX));
        assert_eq!(opts(&["IDLETIME", "1", "FREQ", "1"]), Err(err::SYNTAX));
        assert_eq!(opts(&["FREQ", "1", "IDLETIME", "1"]), Err(err::SYNTAX));
        assert_eq!(opts(&["IDLETIME", "x"]), Err(err::NOT_INT));
        assert_eq!(
            opts(&["IDLETIME", "-1"]),
            Err("ERR Invalid IDLETIME value, must be >= 0")
        );
        assert_eq!(
            opts(&["FREQ", "256"]),
            Err("ERR Invalid FREQ value, must be >= 0 and <= 255")
        );
        assert_eq!(opts(&["nope"]), Err(err::SYNTAX));
    }

    #[test]
    fn access_data_follows_the_policy() {
        let now = 1_000_000_000;
        let idle = Options {
            idle: Some(100),
            ..Options::default()
        };
        assert_eq!(access_data(Clock::Lru, &idle, now), 1_000_000 - 100);
        let lfu = Clock::Lfu {
            log_factor: 10,
            decay_time: 1,
        };
        assert_eq!(
            access_data(lfu, &idle, now),
            0,
            "IDLETIME means nothing under LFU"
        );
        let freq = Options {
            freq: Some(77),
            ..Options::default()
        };
        assert_eq!(access_data(Clock::Lru, &freq, now), 0);
        assert_eq!(access_data(lfu, &freq, now) & 0xff, 77);
        let ancient = Options {
            idle: Some(i64::MAX),
            ..Options::default()
        };
        assert_eq!(access_data(Clock::Lru, &ancient, now), 1);
    }
}
