//! SORT and SORT_RO (sort.c in Redis 7.2) over lists, sets and sorted sets.
//!
//! The elements are compared as numbers (parsed like C's strtod, as Redis does) or, with
//! ALPHA, as byte strings; equal numbers are ordered by the elements themselves, so the
//! result is deterministic (Redis' sortCompare). `BY pattern` sorts by other keys: the first
//! `*` of the pattern is replaced by the element, and `key->field` reads a hash field. A BY
//! pattern without `*` (`BY nosort`) skips sorting: lists and sorted sets keep their order
//! (DESC walks it backwards), sets their iteration order, except that with STORE a set is
//! sorted ALPHA so the stored list is deterministic, as in Redis. `GET pattern` replies
//! other keys' values instead of the elements (`#` is the element itself).
//!
//! Patterns read keys of the same database from `ctx.db`; on a multi-shard server the keys
//! they name may live elsewhere: [`pattern_keys`] lists them for the coordinator.

use crate::cmd::Cmd;
use crate::db::Db;
use crate::list::ListValue;
use crate::notify;
use crate::num::parse_i64;
use crate::reply::err;
use crate::shard::Ctx;
use crate::string::{reply_result, ErrReply};
use crate::value::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

const ERR_SCORES: &str = "ERR One or more scores can't be converted into double";

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]
pub fn sort(ctx: &mut Ctx, cmd: &Cmd) {
    let r = sort_generic(ctx, cmd, false);
    reply_result(ctx.out, r);
}

/// SORT_RO: SORT without STORE.
pub fn sort_ro(ctx: &mut Ctx, cmd: &Cmd) {
    let r = sort_generic(ctx, cmd, true);
    reply_result(ctx.out, r);
}

/// The options of a SORT call, in Redis' parsing order and rules.
#[derive(Debug, Default)]
struct SortOpts<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// A BY pattern without `*` was given: nothing to sort.
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

/// The pattern as the C string Redis sees: up to its first NUL byte.
fn c_str(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |n| &b[..n])
}

fn parse_options(cmd: &Cmd, readonly: bool) -> Result<SortOpts<'_>, ErrReply> {
    let mut o = SortOpts {
        limit_count: -1,
        ..SortOpts::default()
    };
    let mut j = 2;
    while j < cmd.len() {
        let left = cmd.len() - j - 1;
        let a = &cmd[j];
        let is = |name: &str| a.eq_ignore_ascii_case(name.as_bytes());
        if is("asc") {
            o.desc = false;
        } else if is("desc") {
            o.desc = true;
        } else if is("alpha") {
            o.alpha = true;
        } else if is("limit") && left >= 2 {
            let not_int = || Cow::Borrowed(err::NOT_INT);
            o.limit_start = parse_i64(&cmd[j + 1]).ok_or_else(not_int)?;
            o.limit_count = parse_i64(&cmd[j + 2]).ok_or_else(not_int)?;
            j += 2;
        } else if !readonly && is("store") && left >= 1 {
            o.store = Some(&cmd[j + 1]);
            j += 1;
        } else if is("by") && left >= 1 {
            let p = &cmd[j + 1];
            o.by = Some(p);
            // Once set, it stays set (as in Redis) even if a later BY has a `*`.
            if !c_str(p).contains(&b'*') {
                o.dontsort = true;
            }
            j += 1;
        } else if is("get") && left >= 1 {
            o.gets.push(&cmd[j + 1]);
            j += 1;
        } else {
            return Err(Cow::Borrowed(err::SYNTAX));
        }
        j += 1;
    }
    Ok(o)
}

/// `GET #`: the element itself.
fn is_hash_pattern(p: &[u8]) -> bool {
    p.first() == Some(&b'#') && p.get(1).is_none_or(|&c| c == 0)
}

/// The key a pattern names for `elem`, and the hash field after `->` if any (Redis'
/// lookupKeyByPattern, C string rules included). None when the pattern has no `*`.
fn substitute<'p>(pattern: &'p [u8], elem: &[u8]) -> Option<(Vec<u8>, Option<&'p [u8]>)> {
    let star = c_str(pattern).iter().position(|&c| c == b'*')?;
    // `->` is looked for after the `*`, and needs at least one byte after it.
    let after = c_str(&pattern[star + 1..]);
    let field_at = after
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| pattern.get(f + 2).is_some_and(|&c| c != 0));
    let (postfix_end, field) = match field_at {
        Some(f) => (f, Some(&pattern[f + 2..])),
        None => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..postfix_end]);
    Some((key, field))
}

/// The value a BY or GET pattern yields for `elem`: the element itself for `#`, a string
/// key's value, a hash field's value, or None (no `*`, missing key, wrong type).
fn lookup_by_pattern(db: &mut Db, now: u64, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if is_hash_pattern(pattern) {
        return Some(elem.to_vec());
    }
    let (key, field) = substitute(pattern, elem)?;
    let entry = db.get(&key, now)?;
    match (&entry.value, field) {
        (Value::Hash(h), Some(f)) => h.get(f).map(<[u8]>::to_vec),
        (Value::Str(s), None) => Some(s.as_bytes().into_owned()),
        _ => None,
    }
}

/// Every key the BY and GET patterns of `cmd` (a SORT or SORT_RO call) would read for these
/// source elements, without duplicates, in first-use order: for the coordinator to fetch
/// them from other shards. Empty when the options do not parse (the command fails anyway).
pub fn pattern_keys(cmd: &Cmd, elements: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let readonly = cmd[0].eq_ignore_ascii_case(b"sort_ro");
    let Ok(o) = parse_options(cmd, readonly) else {
        return Vec::new();
    };
    let mut patterns: Vec<&[u8]> = Vec::new();
    if !o.dontsort {
        patterns.extend(o.by);
    }
    patterns.extend(o.gets.iter().filter(|p| !is_hash_pattern(p)));
    let mut seen = std::collections::HashSet::new();
    let mut keys = Vec::new();
    for e in elements {
        for p in &patterns {
            if let Some((k, _)) = substitute(p, e) {
                if seen.insert(k.clone()) {
                    keys.push(k);
                }
            }
        }
    }
    keys
}

/// Parses a sort weight as Redis does with C's strtod: the text up to any NUL byte must be
/// one number, optionally after white space (an empty text is 0); out-of-range values
/// (overflow to infinity, underflow to zero or a subnormal) and NaN are errors.
fn parse_score(b: &[u8]) -> Option<f64> {
    let s = c_str(b);
    if s.is_empty() {
        return Some(0.0);
    }
    let mut i = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let start = i;
    let neg = match s[i] {
        b'-' => {
            i += 1;
            true
        }
        b'+' => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let lower = |n: usize| rest.get(..n).map(<[u8]>::to_ascii_lowercase);
    let sign = if neg { -1.0 } else { 1.0 };
    if lower(3).as_deref() == Some(b"inf") {
        let len = if lower(8).as_deref() == Some(b"infinity") {
            8
        } else {
            3
        };
        return (rest.len() == len).then_some(sign * f64::INFINITY);
    }
    if lower(3).as_deref() == Some(b"nan") {
        return None;
    }
    if lower(2).as_deref() == Some(b"0x") {
        return parse_hex_float(&rest[2..]).map(|v| sign * v);
    }
    // Decimal: digits, optional fraction, optional exponent (only with digits).
    let digits = |from: usize| {
        rest[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let int_digits = digits(0);
    let mut end = int_digits;
    let mut frac_digits = 0;
    if rest.get(end) == Some(&b'.') {
        frac_digits = digits(end + 1);
        end += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    let mantissa_nonzero = rest[..end].iter().any(|c| (b'1'..=b'9').contains(c));
    if matches!(rest.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(rest.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let exp_digits = digits(e);
        if exp_digits > 0 {
            end = e + exp_digits;
        }
    }
    if end != rest.len() {
        return None;
    }
    let text = std::str::from_utf8(&s[start..i + end]).ok()?;
    let v: f64 = text.parse().ok()?;
    let underflow = (v == 0.0 && mantissa_nonzero) || (v != 0.0 && v.abs() < f64::MIN_POSITIVE);
    (v.is_finite() && !underflow).then_some(v)
}

/// The part of a C hexadecimal float after `0x`: hex digits, an optional fraction, an optional
/// binary exponent `p[+-]digits`; the whole text must be consumed.
fn parse_hex_float(s: &[u8]) -> Option<f64> {
    let hex = |c: u8| (c as char).to_digit(16);
    let mut i = 0;
    let mut mantissa = 0f64;
    let mut scale = 0i64;
    let mut any = false;
    while let Some(d) = s.get(i).and_then(|&c| hex(c)) {
        mantissa = mantissa * 16.0 + d as f64;
        any = true;
        i += 1;
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        while let Some(d) = s.get(i).and_then(|&c| hex(c)) {
            mantissa = mantissa * 16.0 + d as f64;
            scale -= 4;
            any = true;
            i += 1;
        }
    }
    if !any {
        // strtod reads the "0" and stops at the "x".
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut e = i + 1;
        let neg = match s.get(e) {
            Some(b'-') => {
                e += 1;
                true
            }
            Some(b'+') => {
                e += 1;
                false
            }
            _ => false,
        };
        let n = s[e.min(s.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n > 0 {
            let exp: i64 = std::str::from_utf8(&s[e..e + n])
                .ok()?
                .parse::<i64>()
                .unwrap_or(i64::MAX / 2);
            scale = scale.saturating_add(if neg { -exp } else { exp });
            i = e + n;
        }
    }
    if i != s.len() {
        return None;
    }
    let v = mantissa * 2f64.powi(scale.clamp(-2000, 2000) as i32);
    let underflow = (v == 0.0 && mantissa != 0.0) || (v != 0.0 && v.abs() < f64::MIN_POSITIVE);
    (v.is_finite() && !underflow).then_some(v)
}

/// One element to sort with its sort key.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// ALPHA with BY: the looked-up value (None: missing, sorts first).
    cmp: Option<Vec<u8>>,
}

/// The type of the sorted key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    List,
    Set,
    ZSet,
}

fn sort_generic(ctx: &mut Ctx, cmd: &Cmd, readonly: bool) -> Result<(), ErrReply> {
    let mut o = parse_options(cmd, readonly)?;
    let now = ctx.now;
    let mut elems: Vec<Vec<u8>> = Vec::new();
    let source = match ctx.db.get(&cmd[1], now).map(|e| &e.value) {
        None => Source::List,
        Some(Value::List(l)) => {
            l.for_each(|m| elems.push(m.to_vec()));
            Source::List
        }
        Some(Value::Set(s)) => {
            s.for_each(|m| elems.push(m.to_vec()));
            Source::Set
        }
        Some(Value::ZSet(z)) => {
            z.for_each(|m, _| elems.push(m.to_vec()));
            Source::ZSet
        }
        Some(_) => return Err(Cow::Borrowed(err::WRONGTYPE)),
    };
    // A set's iteration order is arbitrary: what gets stored is sorted.
    if o.dontsort && source == Source::Set && o.store.is_some() {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }

    // LIMIT, clamped to the length as Redis does.
    let len = elems.len() as i64;
    let mut start = o.limit_start.max(0).min(len);
    let count = o.limit_count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    if o.dontsort && source != Source::Set {
        // Lists and sorted sets keep their order, walked backwards for DESC.
        if o.desc {
            elems.reverse();
        }
    }
    let mut items: Vec<Item> = elems
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            cmp: None,
        })
        .collect();

    let mut conversion_error = false;
    if !o.dontsort {
        for it in &mut items {
            let byval = match o.by {
                Some(p) => match lookup_by_pattern(ctx.db, now, p, &it.elem) {
                    Some(v) => Cow::Owned(v),
                    None => continue,
                },
                None => Cow::Borrowed(&it.elem[..]),
            };
            if o.alpha {
                if o.by.is_some() {
                    it.cmp = Some(byval.into_owned());
                }
            } else {
                match parse_score(&byval) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        let (alpha, by, desc) = (o.alpha, o.by.is_some(), o.desc);
        // Equal ALPHA BY values keep the source's order; a set's iteration order may differ
        // where its effects are replayed (after an SPOP, say), so what a set stores breaks
        // such ties by the elements.
        let by_ties = o.store.is_some() && source == Source::Set;
        items.sort_by(|a, b| {
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.elem.cmp(&b.elem))
            } else if by {
                // A missing value sorts before any value.
                let c = a.cmp.cmp(&b.cmp);
                if by_ties {
                    c.then_with(|| a.elem.cmp(&b.elem))
                } else {
                    c
                }
            } else {
                a.elem.cmp(&b.elem)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    if conversion_error {
        return Err(Cow::Borrowed(ERR_SCORES));
    }

    let range = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &items[..0]
    };
    let per_item = o.gets.len().max(1);
    let outputlen = range.len() * per_item;
    match o.store {
        None => {
            ctx.out.array(outputlen);
            for it in range {
                if o.gets.is_empty() {
                    ctx.out.bulk(&it.elem);
                }
                for p in &o.gets {
                    match lookup_by_pattern(ctx.db, now, p, &it.elem) {
                        Some(v) => ctx.out.bulk(&v),
                        None => ctx.out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut out: Vec<Vec<u8>> = Vec::with_capacity(outputlen);
            for it in range {
                if o.gets.is_empty() {
                    out.push(it.elem.clone());
                }
                for p in &o.gets {
                    // A missing value is stored as an empty string.
                    out.push(lookup_by_pattern(ctx.db, now, p, &it.elem).unwrap_or_default());
                }
            }
            if outputlen > 0 {
                let list = ListValue::from_items(out, ctx.limits);
                ctx.db.set(dst, Value::List(Box::new(list)), 0, now);
                ctx.notify(notify::LIST, "sortstore", dst);
                ctx.wrote(outputlen as u64);
            } else {
                ctx.delete_stored(dst);
            }
            ctx.out.int(outputlen as i64);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Reply;
    use crate::shard::Shard;
    use crate::zset::ZSetValue;

    /// Runs SORT or SORT_RO on database 0 of `shard` and returns the RESP2 reply.
    fn run(shard: &mut Shard, args: &[&str]) -> String {
        let mut out = Reply::new(false);
        let cmd = Cmd::from_args(args);
        let mut ctx = shard.ctx(0, 1_000, &mut out);
        if args[0] == "sort_ro" {
            sort_ro(&mut ctx, &cmd);
        } else {
            sort(&mut ctx, &cmd);
        }
        String::from_utf8(out.buf).unwrap()
    }

    fn bulks(items: &[&str]) -> String {
        let mut r = Reply::new(false);
        r.array(items.len());
        items.iter().for_each(|i| r.bulk(i.as_bytes()));
        String::from_utf8(r.buf).unwrap()
    }

    fn shard_with(key: &str, v: Value) -> Shard {
        let mut shard = Shard::new(0, 1);
        shard.dbs[0].set(key.as_bytes(), v, 0, 1_000);
        shard
    }

    #[test]
    fn sorted_sets_sort_by_member_or_keep_score_order() {
        let limits = crate::limits::Limits::default();
        let mut z = ZSetValue::new();
        for (m, s) in [("c", 1.0), ("a", 2.0), ("b", 3.0), ("d", 4.0)] {
            z.insert(m.as_bytes(), s, &limits);
        }
        let mut shard = shard_with("z", Value::ZSet(Box::new(z)));
        assert_eq!(
            run(&mut shard, &["sort", "z", "ALPHA"]),
            bulks(&["a", "b", "c", "d"])
        );
        assert_eq!(
            run(&mut shard, &["sort", "z", "BY", "nosort"]),
            bulks(&["c", "a", "b", "d"])
        );
        assert_eq!(
            run(
                &mut shard,
                &["sort_ro", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2"]
            ),
            bulks(&["b", "a"])
        );
        assert_eq!(
            run(&mut shard, &["sort", "z"]),
            format!("-{ERR_SCORES}\r\n")
        );
    }

    #[test]
    fn lists_sort_and_store() {
        let limits = crate::limits::Limits::default();
        let items = ["10", "9", "x9", "1"]
            .map(|s| s.as_bytes().to_vec())
            .to_vec();
        let mut shard = shard_with(
            "l",
            Value::List(Box::new(ListValue::from_items(items, &limits))),
        );
        assert_eq!(
            run(&mut shard, &["sort", "l", "ALPHA"]),
            bulks(&["1", "10", "9", "x9"])
        );
        assert_eq!(
            run(&mut shard, &["sort", "l", "BY", "nosort", "DESC"]),
            bulks(&["1", "x9", "9", "10"])
        );
        assert_eq!(
            run(&mut shard, &["sort", "l", "ALPHA", "STORE", "d"]),
            ":4\r\n"
        );
        assert_eq!(
            run(&mut shard, &["sort", "d", "BY", "nosort"]),
            bulks(&["1", "10", "9", "x9"])
        );
        assert_eq!(shard.dirty, 4);
    }

    #[test]
    fn scores_parse_like_strtod() {
        for (text, v) in [
            ("1", 1.0),
            ("-2.5", -2.5),
            ("+3", 3.0),
            (" 4", 4.0),
            ("\t.5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E+2", 100.0),
            ("", 0.0),
            ("inf", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("0x10", 16.0),
            ("0x1p4", 16.0),
            ("0x.8", 0.5),
            ("0", 0.0),
            ("0e5", 0.0),
            ("-0.0", 0.0),
            ("12\0junk", 12.0),
        ] {
            assert_eq!(parse_score(text.as_bytes()), Some(v), "{text:?}");
        }
        for bad in [
            "abc", "1 ", " ", "+", "-", ".", "1e", "1e+", "nan", "-nan", "1e400", "1e-400",
            "1e-310", "0x", "0xg", "infx", "1.2.3", "--1",
        ] {
            assert_eq!(parse_score(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn patterns_substitute_the_first_star_and_split_the_field() {
        let s = |p: &str, e: &str| {
            substitute(p.as_bytes(), e.as_bytes())
                .map(|(k, f)| (String::from_utf8(k).unwrap(), f.map(|f| f.to_vec())))
        };
        assert_eq!(s("w_*", "a"), Some(("w_a".into(), None)));
        assert_eq!(s("*_*", "a"), Some(("a_*".into(), None)));
        assert_eq!(s("h_*->f", "a"), Some(("h_a".into(), Some(b"f".to_vec()))));
        assert_eq!(
            s("h_*->", "a"),
            Some(("h_a->".into(), None)),
            "nothing after ->"
        );
        assert_eq!(
            s("h->x*", "a"),
            Some(("h->xa".into(), None)),
            "-> before the *"
        );
        assert_eq!(
            s("h_*->f->g", "a"),
            Some(("h_a".into(), Some(b"f->g".to_vec())))
        );
        assert_eq!(s("nosort", "a"), None);
        assert_eq!(s("a\0*", "x"), None, "the * after a NUL is not seen");
        assert!(is_hash_pattern(b"#") && is_hash_pattern(b"#\0x") && !is_hash_pattern(b"##"));
    }

    #[test]
    fn options_parse_in_redis_order() {
        let c = Cmd::from_args(&["sort", "k", "BY", "nosort", "BY", "w_*", "LIMIT", "1", "2"]);
        let o = parse_options(&c, false).unwrap();
        assert!(o.dontsort, "a BY without * sticks");
        assert_eq!((o.limit_start, o.limit_count), (1, 2));
        let c = Cmd::from_args(&["sort", "k", "LIMIT", "1"]);
        assert_eq!(parse_options(&c, false).unwrap_err(), err::SYNTAX);
        let c = Cmd::from_args(&["sort", "k", "LIMIT", "x", "1"]);
        assert_eq!(parse_options(&c, false).unwrap_err(), err::NOT_INT);
        let c = Cmd::from_args(&["sort_ro", "k", "STORE", "d"]);
        assert_eq!(parse_options(&c, true).unwrap_err(), err::SYNTAX);
    }

    #[test]
    fn pattern_keys_lists_by_and_get_keys() {
        let elems = vec![b"a".to_vec(), b"b".to_vec()];
        let c = Cmd::from_args(&[
            "sort", "k", "BY", "w_*", "GET", "#", "GET", "h_*->f", "GET", "w_*",
        ]);
        let keys: Vec<String> = pattern_keys(&c, &elems)
            .into_iter()
            .map(|k| String::from_utf8(k).unwrap())
            .collect();
        assert_eq!(keys, ["w_a", "h_a", "w_b", "h_b"]);
        let c = Cmd::from_args(&["sort", "k", "BY", "nosort", "GET", "x"]);
        assert!(pattern_keys(&c, &elems).is_empty());
        let c = Cmd::from_args(&["sort", "k", "BAD"]);
        assert!(pattern_keys(&c, &elems).is_empty());
    }

    #[test]
    fn what_a_set_stores_does_not_depend_on_its_order() {
        use crate::effects::testing::{effects_of, recording_shard};
        // The same set built in two orders (a listpack keeps insertion order), members
        // weighing the same: SORT ... STORE (its own effect) stores the same list either way,
        // so a replay where the set's order differs stores it too.
        for order in [["c", "a", "d", "b"], ["b", "d", "a", "c"]] {
            let mut s = recording_shard();
            let mut sadd = vec!["SADD", "s"];
            sadd.extend(order);
            effects_of(&mut s, 0, 1000, crate::set::sadd, &sadd);
            effects_of(&mut s, 0, 1000, crate::string::set, &["SET", "w_a", "x"]);
            effects_of(&mut s, 0, 1000, crate::string::set, &["SET", "w_b", "x"]);
            let store = ["SORT", "s", "BY", "w_*", "ALPHA", "STORE", "d"];
            let fx = effects_of(&mut s, 0, 1000, sort, &store);
            assert_eq!(fx, [store.join(" ")]);
            let mut out = Reply::new(false);
            crate::list::lrange(
                &mut s.ctx(0, 1000, &mut out),
                &Cmd::from_args(&["LRANGE", "d", "0", "-1"]),
            );
            // No weight first, then the equal weights; ties by the element.
            assert_eq!(
                String::from_utf8(out.buf).unwrap(),
                bulks(&["c", "d", "a", "b"])
            );
        }
    }
}
