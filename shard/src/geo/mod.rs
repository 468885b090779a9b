//! Geo (geo.c in Redis): points stored as 52-bit geohash scores in sorted sets.
//!
//! There is no geo value type: GEOADD writes sorted set members whose score is the point's
//! cell (see [`geohash`]), and the searches scan the score ranges of the cells around the
//! search area, keep the points inside it and sort them by distance exactly as Redis does
//! (including the order of equal distances, see [`qsort`]). The sorted set is used only
//! through `ZSetValue::{new, insert, score, range_by_score}`.

pub mod geohash;
mod qsort;

use crate::cmd::Cmd;
use crate::db::Db;
use crate::notify;
use crate::num::parse_i64;
use crate::reply::{err, Reply};
use crate::shard::Ctx;
use crate::value::Value;
use crate::zset::ZSetValue;
use geohash::{Shape, ShapeKind};
use std::borrow::Cow;

type ErrReply = Cow<'static, str>;

const ERR_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const ERR_NEED_RADIUS: &str = "ERR need numeric radius";
const ERR_NEGATIVE_RADIUS: &str = "ERR radius cannot be negative";
const ERR_NEED_WIDTH: &str = "ERR need numeric width";
const ERR_NEED_HEIGHT: &str = "ERR need numeric height";
const ERR_NEGATIVE_BOX: &str = "ERR height or width cannot be negative";
const ERR_MEMBER: &str = "ERR could not decode requested zset member";
const ERR_COUNT: &str = "ERR COUNT must be > 0";
const ERR_ANY: &str = "ERR the ANY argument requires COUNT argument";

// ---------------------------------------------------------------------------------------------
// Argument parsing with Redis' rules

/// The argument as C's `strcasecmp` sees it: up to the first NUL.
fn c_str(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&c| c == 0) {
        Some(i) => &arg[..i],
        None => arg,
    }
}

fn is(arg: &[u8], word: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(word.as_bytes())
}

/// A double the way Redis' `getDoubleFromObject` reads one: `strtod` over the whole
/// argument (decimal, hexadecimal, `inf`/`infinity`), no leading space, and neither NaN nor
/// a value that overflows to infinity or underflows to zero.
pub fn parse_double(s: &[u8]) -> Option<f64> {
    let first = *s.first()?;
    if matches!(first, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        return None;
    }
    let (neg, body) = match first {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let v = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        parse_hex(&body[2..])?
    } else if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        f64::INFINITY
    } else {
        // Rust's grammar for the rest is strtod's decimal form; it alone would also take
        // "nan", which strtod does too and Redis then rejects.
        if !body
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        let v: f64 = std::str::from_utf8(body).ok()?.parse().ok()?;
        let mantissa = body.split(|&c| c == b'e' || c == b'E').next()?;
        if v.is_infinite() || (v == 0.0 && mantissa.iter().any(|c| (b'1'..=b'9').contains(c))) {
            return None; // ERANGE
        }
        v
    };
    Some(if neg { -v } else { v })
}

/// The part of a C hexadecimal float after `0x`: hex digits with an optional point, then an
/// optional binary exponent `p[+-]digits`.
fn parse_hex(s: &[u8]) -> Option<f64> {
    let (mant, exp) = match s.iter().position(|&c| c == b'p' || c == b'P') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut bits: u64 = 0;
    let mut shift: i64 = 0; // binary exponent adjustment
    let mut sticky = false;
    let mut digits = 0;
    let mut seen_point = false;
    for &c in mant {
        if c == b'.' {
            if seen_point {
                return None;
            }
            seen_point = true;
            continue;
        }
        let d = (c as char).to_digit(16)? as u64;
        digits += 1;
        if bits >> 59 == 0 {
            bits = bits << 4 | d;
            if seen_point {
                shift -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                shift += 4;
            }
        }
    }
    if digits == 0 {
        return None;
    }
    let e: i64 = match exp {
        None => 0,
        Some(e) => {
            let (neg, d) = match e.first() {
                Some(b'-') => (true, &e[1..]),
                Some(b'+') => (false, &e[1..]),
                _ => (false, e),
            };
            if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let v = d
                .iter()
                .fold(0i64, |acc, &c| (acc * 10 + (c - b'0') as i64).min(1 << 20));
            if neg {
                -v
            } else {
                v
            }
        }
    };
    // The sticky bit keeps the rounding of the dropped digits correct.
    let m = (bits | sticky as u64) as f64;
    let v = m * 2f64.powi((shift + e).clamp(-2000, 2000) as i32);
    if v.is_infinite() || (v == 0.0 && bits != 0) {
        return None; // ERANGE
    }
    Some(v)
}

fn double_arg(arg: &[u8], err: &'static str) -> Result<f64, ErrReply> {
    parse_double(arg).ok_or(Cow::Borrowed(err))
}

/// Longitude and latitude from two arguments (`extractLongLatOrReply`).
fn lonlat_arg(cmd: &Cmd, i: usize) -> Result<[f64; 2], ErrReply> {
    let lon = double_arg(&cmd[i], err::NOT_FLOAT)?;
    let lat = double_arg(&cmd[i + 1], err::NOT_FLOAT)?;
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&lon)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat)
    {
        return Err(format!("ERR invalid longitude,latitude pair {lon:.6},{lat:.6}").into());
    }
    Ok([lon, lat])
}

/// Meters per unit (`extractUnitOrReply`).
fn unit_arg(arg: &[u8]) -> Result<f64, ErrReply> {
    let u = c_str(arg);
    Ok(if u.eq_ignore_ascii_case(b"m") {
        1.0
    } else if u.eq_ignore_ascii_case(b"km") {
        1000.0
    } else if u.eq_ignore_ascii_case(b"ft") {
        0.3048
    } else if u.eq_ignore_ascii_case(b"mi") {
        1609.34
    } else {
        return Err(ERR_UNIT.into());
    })
}

/// `radius unit` (`extractDistanceOrReply`): the radius in the unit, and the unit in meters.
fn radius_arg(cmd: &Cmd, i: usize) -> Result<(f64, f64), ErrReply> {
    let radius = double_arg(&cmd[i], ERR_NEED_RADIUS)?;
    if radius < 0.0 {
        return Err(ERR_NEGATIVE_RADIUS.into());
    }
    Ok((radius, unit_arg(&cmd[i + 1])?))
}

/// `width height unit` (`extractBoxOrReply`).
fn box_arg(cmd: &Cmd, i: usize) -> Result<(f64, f64, f64), ErrReply> {
    let width = double_arg(&cmd[i], ERR_NEED_WIDTH)?;
    let height = double_arg(&cmd[i + 1], ERR_NEED_HEIGHT)?;
    if height < 0.0 || width < 0.0 {
        return Err(ERR_NEGATIVE_BOX.into());
    }
    Ok((width, height, unit_arg(&cmd[i + 2])?))
}

// ---------------------------------------------------------------------------------------------
// Replies

/// A coordinate (`addReplyHumanLongDouble`): a bulk string in RESP2, a double in RESP3.
fn reply_coord(out: &mut Reply, v: f64) {
    let s = geohash::fmt_coord(v);
    if out.resp3 {
        out.raw(b",");
        out.raw(s.as_bytes());
        out.raw(b"\r\n");
    } else {
        out.bulk(s.as_bytes());
    }
}

/// A distance (`addReplyDoubleDistance`): a bulk string with four decimals in both protocols.
fn reply_distance(out: &mut Reply, d: f64) {
    out.bulk(geohash::fmt_distance(d).as_bytes());
}

/// The sorted set at `key` for a reading command, counting a keyspace hit or miss.
/// On another type it replies WRONGTYPE and gives `Err`. Borrows only the database, so the
/// caller can reply while holding the set.
fn read_zset<'a>(
    db: &'a mut Db,
    out: &mut Reply,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a ZSetValue>, ()> {
    match db.get(key, now) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => {
                out.error(err::WRONGTYPE);
                Err(())
            }
        },
    }
}

// ---------------------------------------------------------------------------------------------
// GEOADD, GEODIST, GEOHASH, GEOPOS

/// GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]
pub fn geoadd(ctx: &mut Ctx, cmd: &Cmd) {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut longidx = 2;
    while longidx < cmd.len() {
        let opt = &cmd[longidx];
        if is(opt, "nx") {
            nx = true;
        } else if is(opt, "xx") {
            xx = true;
        } else if is(opt, "ch") {
            ch = true;
        } else {
            break;
        }
        longidx += 1;
    }
    let elements = (cmd.len() - longidx) / 3;
    // No element at all is ZADD's syntax error (GEOADD passes its options on to ZADD).
    if !(cmd.len() - longidx).is_multiple_of(3) || (xx && nx) || elements == 0 {
        return ctx.out.error(err::SYNTAX);
    }
    let mut points = Vec::with_capacity(elements);
    for i in 0..elements {
        let at = longidx + i * 3;
        match lonlat_arg(cmd, at) {
            Ok([lon, lat]) => {
                let score = geohash::score_of(lon, lat).expect("coordinates were checked");
                points.push((score, at + 2));
            }
            Err(e) => return ctx.out.error(&e),
        }
    }

    let key = &cmd[1];
    let now = ctx.now;
    let limits = ctx.limits;
    let add = |z: &mut ZSetValue| {
        let (mut added, mut updated) = (0i64, 0i64);
        for &(score, at) in &points {
            let member = &cmd[at];
            match z.score(member) {
                Some(old) => {
                    if !nx && old != score {
                        z.insert(member, score, limits);
                        updated += 1;
                    }
                }
                None => {
                    if !xx {
                        z.insert(member, score, limits);
                        added += 1;
                    }
                }
            }
        }
        (added, updated)
    };
    let (added, updated) = match ctx.db.get_mut(key, now) {
        Some(e) => match &mut e.value {
            Value::ZSet(z) => add(z),
            _ => return ctx.out.error(err::WRONGTYPE),
        },
        None if xx => (0, 0),
        None => {
            let mut z = ZSetValue::new();
            let r = add(&mut z);
            ctx.db.set(key, Value::ZSet(Box::new(z)), 0, now);
            r
        }
    };
    if added + updated > 0 {
        // GEOADD runs as ZADD in Redis, whose event it records.
        ctx.notify(notify::ZSET, "zadd", key);
        if ctx.propagating() {
            propagate_as_zadd(ctx, cmd, longidx, &points);
        }
    }
    ctx.wrote((added + updated) as u64);
    ctx.out.int(if ch { added + updated } else { added });
}

/// Redis runs GEOADD as `ZADD key [options] score member ...`, the scores being the 52-bit
/// geohashes in decimal, and propagates that ZADD.
fn propagate_as_zadd(ctx: &mut Ctx, cmd: &Cmd, longidx: usize, points: &[(f64, usize)]) {
    let scores: Vec<Vec<u8>> = points
        .iter()
        .map(|&(score, _)| itoa::Buffer::new().format(score as u64).as_bytes().to_vec())
        .collect();
    let mut args: Vec<&[u8]> = Vec::with_capacity(longidx + points.len() * 2);
    args.push(b"ZADD");
    args.extend((1..longidx).map(|i| &cmd[i]));
    for (score, &(_, at)) in scores.iter().zip(points) {
        args.push(score);
        args.push(&cmd[at]);
    }
    ctx.propagate(args);
}

/// GEODIST key member1 member2 [M|KM|FT|MI]
pub fn geodist(ctx: &mut Ctx, cmd: &Cmd) {
    let mut to_meter = 1.0;
    if cmd.len() == 5 {
        match unit_arg(&cmd[4]) {
            Ok(u) => to_meter = u,
            Err(e) => return ctx.out.error(&e),
        }
    } else if cmd.len() > 5 {
        return ctx.out.error(err::SYNTAX);
    }
    let Ok(z) = read_zset(ctx.db, ctx.out, &cmd[1], ctx.now) else {
        return;
    };
    let Some(z) = z else {
        return ctx.out.null();
    };
    match (z.score(&cmd[2]), z.score(&cmd[3])) {
        (Some(s1), Some(s2)) => {
            let [x1, y1] = geohash::decode_score(s1);
            let [x2, y2] = geohash::decode_score(s2);
            reply_distance(ctx.out, geohash::distance(x1, y1, x2, y2) / to_meter);
        }
        _ => ctx.out.null(),
    }
}

/// GEOHASH key [member ...]: 11-character standard geohashes.
pub fn geohash(ctx: &mut Ctx, cmd: &Cmd) {
    let Ok(z) = read_zset(ctx.db, ctx.out, &cmd[1], ctx.now) else {
        return;
    };
    ctx.out.array(cmd.len() - 2);
    for member in cmd.args().skip(2) {
        match z
            .and_then(|z| z.score(member))
            .and_then(|s| geohash::geohash_string(geohash::decode_score(s)))
        {
            Some(h) => ctx.out.bulk(&h),
            None => ctx.out.null(),
        }
    }
}

/// GEOPOS key [member ...]
pub fn geopos(ctx: &mut Ctx, cmd: &Cmd) {
    let Ok(z) = read_zset(ctx.db, ctx.out, &cmd[1], ctx.now) else {
        return;
    };
    ctx.out.array(cmd.len() - 2);
    for member in cmd.args().skip(2) {
        match z.and_then(|z| z.score(member)) {
            Some(s) => {
                let [lon, lat] = geohash::decode_score(s);
                ctx.out.array(2);
                reply_coord(ctx.out, lon);
                reply_coord(ctx.out, lat);
            }
            None => ctx.out.null_array(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The searches: GEORADIUS[BYMEMBER][_RO], GEOSEARCH, GEOSEARCHSTORE (`georadiusGeneric`)

/// Search around coordinates (GEORADIUS).
const RADIUS_COORDS: u8 = 1 << 0;
/// Search around a member (GEORADIUSBYMEMBER).
const RADIUS_MEMBER: u8 = 1 << 1;
/// No STORE / STOREDIST (the _RO forms).
const RADIUS_NOSTORE: u8 = 1 << 2;
/// GEOSEARCH syntax.
const GEOSEARCH: u8 = 1 << 3;
/// GEOSEARCHSTORE: only the bare STOREDIST option.
const GEOSEARCHSTORE: u8 = 1 << 4;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A parsed search.
struct Query {
    shape: Shape,
    withdist: bool,
    withhash: bool,
    withcoords: bool,
    sort: Sort,
    any: bool,
    /// Most results to return; 0 = all.
    count: i64,
    /// Argument index of the destination key.
    store: Option<usize>,
    storedist: bool,
}

/// A point found inside the search area (Redis' `geoPoint`).
struct GeoPoint {
    longitude: f64,
    latitude: f64,
    /// Meters from the centre.
    dist: f64,
    score: f64,
    member: Box<[u8]>,
}

/// Parses a search's arguments and checks their combinations, in Redis' order (errors of
/// the first bad argument win). `zobj` is the source, needed by FROMMEMBER / BYMEMBER.
fn parse_query(
    cmd: &Cmd,
    flags: u8,
    zobj: Option<&ZSetValue>,
) -> Result<Query, Cow<'static, [u8]>> {
    let e = |m: ErrReply| -> Cow<'static, [u8]> {
        match m {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        }
    };
    let member_xy = |z: &ZSetValue, member: &[u8]| {
        z.score(member)
            .map(geohash::decode_score)
            .ok_or(Cow::Borrowed(ERR_MEMBER.as_bytes()))
    };
    let mut q = Query {
        shape: Shape {
            xy: [0.0, 0.0],
            conversion: 1.0,
            kind: ShapeKind::Circle { radius: 0.0 },
        },
        withdist: false,
        withhash: false,
        withcoords: false,
        sort: Sort::None,
        any: false,
        count: 0,
        store: None,
        storedist: false,
    };
    let base_args;
    if flags & RADIUS_COORDS != 0 {
        base_args = 6;
        q.shape.xy = lonlat_arg(cmd, 2).map_err(e)?;
        let (radius, conversion) = radius_arg(cmd, 4).map_err(e)?;
        q.shape.kind = ShapeKind::Circle { radius };
        q.shape.conversion = conversion;
    } else if flags & RADIUS_MEMBER != 0 {
        base_args = 5;
        // Without a source the options are still parsed, to know which empty reply to give.
        if let Some(z) = zobj {
            q.shape.xy = member_xy(z, &cmd[2])?;
            let (radius, conversion) = radius_arg(cmd, 3).map_err(e)?;
            q.shape.kind = ShapeKind::Circle { radius };
            q.shape.conversion = conversion;
        }
    } else if flags & GEOSEARCHSTORE != 0 {
        base_args = 3;
        q.store = Some(1);
    } else {
        base_args = 2;
    }

    let search = flags & GEOSEARCH != 0;
    let may_store = flags & (RADIUS_NOSTORE | GEOSEARCH) == 0;
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let remaining = cmd.len().saturating_sub(base_args);
    let mut i = 0;
    while i < remaining {
        let at = base_args + i;
        let arg = &cmd[at];
        if is(arg, "withdist") {
            q.withdist = true;
        } else if is(arg, "withhash") {
            q.withhash = true;
        } else if is(arg, "withcoord") {
            q.withcoords = true;
        } else if is(arg, "any") {
            q.any = true;
        } else if is(arg, "asc") {
            q.sort = Sort::Asc;
        } else if is(arg, "desc") {
            q.sort = Sort::Desc;
        } else if is(arg, "count") && i + 1 < remaining {
            q.count = parse_i64(&cmd[at + 1]).ok_or(Cow::Borrowed(err::NOT_INT.as_bytes()))?;
            if q.count <= 0 {
                return Err(Cow::Borrowed(ERR_COUNT.as_bytes()));
            }
            i += 1;
        } else if is(arg, "store") && i + 1 < remaining && may_store {
            q.store = Some(at + 1);
            q.storedist = false;
            i += 1;
        } else if is(arg, "storedist") && i + 1 < remaining && may_store {
            q.store = Some(at + 1);
            q.storedist = true;
            i += 1;
        } else if is(arg, "storedist") && search && flags & GEOSEARCHSTORE != 0 {
            q.storedist = true;
        } else if is(arg, "frommember") && i + 1 < remaining && search && !fromloc {
            if let Some(z) = zobj {
                q.shape.xy = member_xy(z, &cmd[at + 1])?;
            }
            frommember = true;
            i += 1;
        } else if is(arg, "fromlonlat") && i + 2 < remaining && search && !frommember {
            q.shape.xy = lonlat_arg(cmd, at + 1).map_err(e)?;
            fromloc = true;
            i += 2;
        } else if is(arg, "byradius") && i + 2 < remaining && search && !bybox {
            let (radius, conversion) = radius_arg(cmd, at + 1).map_err(e)?;
            q.shape.kind = ShapeKind::Circle { radius };
            q.shape.conversion = conversion;
            byradius = true;
            i += 2;
        } else if is(arg, "bybox") && i + 3 < remaining && search && !byradius {
            let (width, height, conversion) = box_arg(cmd, at + 1).map_err(e)?;
            q.shape.kind = ShapeKind::Box { width, height };
            q.shape.conversion = conversion;
            bybox = true;
            i += 3;
        } else {
            return Err(Cow::Borrowed(err::SYNTAX.as_bytes()));
        }
        i += 1;
    }

    if q.store.is_some() && (q.withdist || q.withhash || q.withcoords) {
        let what = if flags & GEOSEARCHSTORE != 0 {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(Cow::Owned(
            format!("ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
                .into_bytes(),
        ));
    }
    // These name the command as the client spelled it.
    if search && !(frommember || fromloc) {
        let mut m = b"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ".to_vec();
        m.extend_from_slice(c_str(&cmd[0]));
        return Err(Cow::Owned(m));
    }
    if search && !(byradius || bybox) {
        let mut m = b"ERR exactly one of BYRADIUS and BYBOX can be specified for ".to_vec();
        m.extend_from_slice(c_str(&cmd[0]));
        return Err(Cow::Owned(m));
    }
    if q.any && q.count == 0 {
        return Err(Cow::Borrowed(ERR_ANY.as_bytes()));
    }
    Ok(q)
}

/// The points of `z` inside the shape, in Redis' scan order: cell by cell, ascending
/// scores within a cell. With `limit` (COUNT ... ANY) it stops once that many are found.
fn points_in_shape(z: &ZSetValue, shape: &Shape, limit: usize) -> Vec<GeoPoint> {
    let cells = shape.search_cells();
    let mut found = Vec::new();
    let enough = |found: &Vec<GeoPoint>| limit != 0 && found.len() >= limit;
    let mut last_processed = 0;
    for (i, &cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge radiuses make neighbours coincide; Redis skips a cell equal to the last one
        // it scanned (never comparing with the centre, index 0).
        if last_processed != 0 && cell == cells[last_processed] {
            continue;
        }
        if enough(&found) {
            break;
        }
        let (min, max) = geohash::scores_of_cell(cell);
        let (min, max) = (min as f64, max as f64);
        let mut done = false;
        z.range_by_score(min, max, |member, score| {
            // [min, max): the cell's upper bound belongs to the next cell.
            if done || score >= max {
                return;
            }
            let [lon, lat] = geohash::decode_score(score);
            if let Some(dist) = shape.contains(lon, lat) {
                found.push(GeoPoint {
                    longitude: lon,
                    latitude: lat,
                    dist,
                    score,
                    member: member.into(),
                });
            }
            done = enough(&found);
        });
        last_processed = i;
    }
    found
}

/// Redis' comparator: by distance only (`sort_gp_asc`), C's -1 / 0 / 1.
fn cmp_asc(a: &GeoPoint, b: &GeoPoint) -> i32 {
    if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    }
}

fn georadius_generic(ctx: &mut Ctx, cmd: &Cmd, src: usize, flags: u8) {
    let Ok(zobj) = read_zset(ctx.db, ctx.out, &cmd[src], ctx.now) else {
        return;
    };
    let q = match parse_query(cmd, flags, zobj) {
        Ok(q) => q,
        Err(m) => return ctx.out.error_bytes(&m),
    };
    let Some(z) = zobj else {
        match q.store {
            Some(dest) => {
                ctx.delete_stored(&cmd[dest]);
                ctx.out.int(0);
            }
            None => ctx.out.array(0),
        }
        return;
    };
    // COUNT without an order would return arbitrary points: the nearest ones are meant.
    let sort = match q.sort {
        Sort::None if q.count != 0 && !q.any => Sort::Asc,
        s => s,
    };
    let limit = if q.any { q.count as usize } else { 0 };
    let mut found = points_in_shape(z, &q.shape, limit);
    if found.is_empty() && q.store.is_none() {
        return ctx.out.array(0);
    }
    let total = found.len();
    let returned = if q.count == 0 || (total as i64) < q.count {
        total
    } else {
        q.count as usize
    };
    if sort != Sort::None {
        let desc = sort == Sort::Desc;
        let cmp = |a: &GeoPoint, b: &GeoPoint| {
            let c = cmp_asc(a, b);
            if desc {
                -c
            } else {
                c
            }
        };
        if returned == total {
            found = qsort::msort(found, &cmp);
        } else {
            qsort::pqsort(&mut found, &cmp, 0, returned - 1);
        }
    }
    let conversion = q.shape.conversion;
    found.truncate(returned);

    let Some(dest) = q.store else {
        let options = q.withdist as usize + q.withhash as usize + q.withcoords as usize;
        let out = &mut *ctx.out;
        out.array(returned);
        for p in &found {
            if options > 0 {
                out.array(options + 1);
            }
            out.bulk(&p.member);
            if q.withdist {
                reply_distance(out, p.dist / conversion);
            }
            if q.withhash {
                out.int(geohash::c_double_to_i64(p.score));
            }
            if q.withcoords {
                out.array(2);
                reply_coord(out, p.longitude);
                reply_coord(out, p.latitude);
            }
        }
        return;
    };
    let dest = &cmd[dest];
    if returned > 0 {
        let mut stored = ZSetValue::new();
        for p in &found {
            let score = if q.storedist {
                p.dist / conversion
            } else {
                p.score
            };
            stored.insert(&p.member, score, ctx.limits);
        }
        ctx.db.set(dest, Value::ZSet(Box::new(stored)), 0, ctx.now);
        let event = if flags & GEOSEARCH != 0 {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        ctx.notify(notify::ZSET, event, dest);
        ctx.wrote(returned as u64);
    } else {
        ctx.delete_stored(dest);
    }
    ctx.out.int(returned as i64);
}

/// GEORADIUS key longitude latitude radius unit [options] [STORE key] [STOREDIST key]
pub fn georadius(ctx: &mut Ctx, cmd: &Cmd) {
    georadius_generic(ctx, cmd, 1, RADIUS_COORDS)
}

/// GEORADIUSBYMEMBER key member radius unit [options] [STORE key] [STOREDIST key]
pub fn georadiusbymember(ctx: &mut Ctx, cmd: &Cmd) {
    georadius_generic(ctx, cmd, 1, RADIUS_MEMBER)
}

/// GEORADIUS_RO: GEORADIUS without STORE / STOREDIST.
pub fn georadius_ro(ctx: &mut Ctx, cmd: &Cmd) {
    georadius_generic(ctx, cmd, 1, RADIUS_COORDS | RADIUS_NOSTORE)
}

/// GEORADIUSBYMEMBER_RO: GEORADIUSBYMEMBER without STORE / STOREDIST.
pub fn georadiusbymember_ro(ctx: &mut Ctx, cmd: &Cmd) {
    georadius_generic(ctx, cmd, 1, RADIUS_MEMBER | RADIUS_NOSTORE)
}

/// GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit [options]
pub fn geosearch(ctx: &mut Ctx, cmd: &Cmd) {
    georadius_generic(ctx, cmd, 1, GEOSEARCH)
}

/// GEOSEARCHSTORE destination source ... [STOREDIST]
pub fn geosearchstore(ctx: &mut Ctx, cmd: &Cmd) {
    georadius_generic(ctx, cmd, 2, GEOSEARCH | GEOSEARCHSTORE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_parse_like_strtod_in_redis() {
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert_eq!(parse_double(b"+1.5"), Some(1.5));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double(b"Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_double(b"0x10"), Some(16.0));
        assert_eq!(parse_double(b"0x1.8p1"), Some(3.0));
        assert_eq!(parse_double(b"-0X.8"), Some(-0.5));
        assert_eq!(parse_double(b"1e-310"), Some(1e-310));
        assert_eq!(parse_double(b"0e-400"), Some(0.0));
        assert_eq!(parse_double(b".5"), Some(0.5));
        assert_eq!(parse_double(b"5."), Some(5.0));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e400",
            b"1e-400",
            b"abc",
            b"0x",
            b"1e",
            b".",
            b"1\x000",
            b"0x1p",
        ] {
            assert_eq!(
                parse_double(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn options_compare_like_strcasecmp() {
        assert!(is(b"WithDist", "withdist"));
        assert!(is(b"m\x00junk", "m"));
        assert!(!is(b"withdis", "withdist"));
    }

    mod effects {
        use crate::effects::testing::{recording_shard, replay, run};
        use crate::Shard;

        #[test]
        fn geoadd_propagates_as_zadd_and_stores_verbatim() {
            let mut s = recording_shard();
            let mut all = run(
                &mut s,
                &[
                    "GEOADD",
                    "g",
                    "13.361389",
                    "38.115556",
                    "Palermo",
                    "15.087269",
                    "37.502669",
                    "Catania",
                ],
            );
            assert_eq!(
                all,
                [
                    "SELECT 0",
                    "ZADD g 3479099956230698 Palermo 3479447370796909 Catania"
                ]
            );
            // Options pass on as given; nothing changed, nothing recorded.
            let fx = run(
                &mut s,
                &[
                    "GEOADD",
                    "g",
                    "nx",
                    "CH",
                    "13.361389",
                    "38.115556",
                    "Palermo",
                ],
            );
            assert!(fx.is_empty());
            let fx = run(
                &mut s,
                &[
                    "GEOADD", "g", "xx", "ch", "13.5", "38.1", "Palermo", "1", "1", "x",
                ],
            );
            assert_eq!(
                fx,
                ["ZADD g xx ch 3479100566894653 Palermo 3377822707026402 x"]
            );
            all.extend(fx);
            for args in [
                &[
                    "GEOSEARCHSTORE",
                    "d",
                    "g",
                    "FROMLONLAT",
                    "15",
                    "37",
                    "BYRADIUS",
                    "200",
                    "km",
                    "ASC",
                    "STOREDIST",
                ][..],
                &[
                    "GEORADIUS",
                    "g",
                    "15",
                    "37",
                    "200",
                    "km",
                    "COUNT",
                    "1",
                    "STORE",
                    "e",
                ],
            ] {
                let fx = run(&mut s, args);
                assert_eq!(fx, [args.join(" ")]);
                all.extend(fx);
            }
            let r = replay(5000, &all);
            let d = |s: &Shard| crate::digest::db_digest(&s.dbs[0], 1000);
            assert_eq!(d(&r), d(&s));
        }
    }
}
