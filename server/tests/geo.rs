//! The geo family over TCP: every command, its options and errors (Redis' exact texts), RESP3
//! replies, the STORE forms with their keys on one shard and on both, a model test, and a
//! differential test against Debian's redis-server (skipped with a message when it is not
//! installed): the same seeded random points and searches, replies compared byte for byte.
//!
//! Expected values were read from redis-server 7.0.15 (geo.c is the same in 7.2 apart from
//! faster formatting and distance code that gives the same results).

mod common;

use common::{key_on, q, qerr, start, Server, NOT_INT, SYNTAX};
use redis::Value;
use shard::geo::geohash;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

fn bulks(xs: &[&str]) -> Value {
    arr(xs.iter().map(|x| bulk(x)).collect())
}

fn sicily(c: &mut redis::Connection, key: &str) {
    let added: i64 = q(
        c,
        &[
            "GEOADD",
            key,
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
            "12.758489",
            "38.788135",
            "edge1",
            "17.241510",
            "38.788135",
            "edge2",
        ],
    );
    assert_eq!(added, 4);
}

/// The words of `cmd` (split at spaces) as a command.
fn args(cmd: &str) -> Vec<&str> {
    cmd.split_whitespace().collect()
}

/// Runs `cmd` and returns its reply.
fn v(c: &mut redis::Connection, cmd: &str) -> Value {
    q(c, &args(cmd))
}

fn qi(c: &mut redis::Connection, cmd: &str) -> i64 {
    q(c, &args(cmd))
}

fn qs(c: &mut redis::Connection, cmd: &str) -> String {
    q(c, &args(cmd))
}

fn ok(c: &mut redis::Connection, cmd: &str) {
    q::<()>(c, &args(cmd))
}

/// Runs `cmd`, which must fail, and returns the error.
fn err(c: &mut redis::Connection, cmd: &str) -> String {
    qerr(c, &args(cmd))
}

// ---------------------------------------------------------------------------------------------
// GEOADD

#[test]
fn geoadd_counts_new_members_and_honours_nx_xx_ch() {
    let (_s, mut c) = start();
    assert_eq!(qi(&mut c, "GEOADD g 1 2 a 3 4 b"), 2);
    assert_eq!(qi(&mut c, "GEOADD g 1 2 a 5 6 c"), 1);
    // Same coordinates: no change, even with CH.
    assert_eq!(qi(&mut c, "GEOADD g CH 1 2 a"), 0);
    assert_eq!(qi(&mut c, "GEOADD g ch 1 3 a"), 1);
    assert_eq!(qi(&mut c, "GEOADD g 1 4 a"), 0);
    // NX: only new members; XX: only existing ones.
    assert_eq!(qi(&mut c, "GEOADD g NX CH 9 9 a 7 8 d"), 1);
    assert_eq!(qi(&mut c, "GEOADD g xx ch 9 9 a 7 8 e"), 1);
    assert_eq!(
        v(&mut c, "GEOPOS g a d e"),
        arr(vec![
            bulks(&["8.99999946355819702", "9.00000020172915782"]),
            bulks(&["6.99999958276748657", "7.99999947522560007"]),
            Value::Nil,
        ])
    );
    // XX on a missing key creates nothing.
    assert_eq!(qi(&mut c, "GEOADD new XX 1 2 a"), 0);
    assert_eq!(qi(&mut c, "EXISTS new"), 0);
    // The same member twice in one command: added, then updated (CH counts both).
    assert_eq!(qi(&mut c, "GEOADD h CH 1 1 m 2 2 m"), 2);
    assert_eq!(qi(&mut c, "GEOADD h NX 3 3 n 4 4 n"), 1);
    assert_eq!(
        v(&mut c, "GEOHASH h m n"),
        bulks(&["s037ms06g70", "s0d1h60s300"])
    );
    assert_eq!(qs(&mut c, "TYPE h"), "zset");
}

#[test]
fn geoadd_errors() {
    let (_s, mut c) = start();
    for args in [
        "GEOADD g 1 2 a 3",
        "GEOADD g NX XX 1 2 a",
        "GEOADD g NX CH CH",
        "GEOADD g GT 1 2 a",
    ] {
        assert_eq!(err(&mut c, args), SYNTAX, "{args:?}");
    }
    assert_eq!(
        err(&mut c, "GEOADD g 1 2 a 200 100 b"),
        "ERR invalid longitude,latitude pair 200.000000,100.000000"
    );
    assert_eq!(
        err(&mut c, "GEOADD g -180.0000001 0 a"),
        "ERR invalid longitude,latitude pair -180.000000,0.000000"
    );
    assert_eq!(
        err(&mut c, "GEOADD g 0 85.05112879 a"),
        "ERR invalid longitude,latitude pair 0.000000,85.051129"
    );
    assert_eq!(
        err(&mut c, "GEOADD g -inf 0 a"),
        "ERR invalid longitude,latitude pair -inf,0.000000"
    );
    for bad in ["abc", "1e400", "1e-400", "nan", " 1", "1 ", ""] {
        assert_eq!(
            qerr(&mut c, &["GEOADD", "g", bad, "0", "a"]),
            NOT_FLOAT,
            "{bad:?}"
        );
    }
    assert_eq!(qi(&mut c, "EXISTS g"), 0, "nothing was added");
    // Hexadecimal floats are floats to strtod.
    assert_eq!(qi(&mut c, "GEOADD g 0x10 -0x1p3 hex"), 1);
    assert_eq!(
        v(&mut c, "GEOPOS g hex"),
        arr(vec![bulks(&[
            "16.00000172853469849",
            "-7.99999947522560007"
        ])])
    );
    // The limits themselves are valid.
    assert_eq!(
        qi(&mut c, "GEOADD g -180 -85.05112878 sw 180 85.05112878 ne"),
        2
    );
    // Coordinates are checked before the key's type.
    ok(&mut c, "SET s x");
    assert_eq!(
        err(&mut c, "GEOADD s 500 0 a"),
        "ERR invalid longitude,latitude pair 500.000000,0.000000"
    );
    assert_eq!(err(&mut c, "GEOADD s 1 2 a"), WRONGTYPE);
    assert_eq!(
        err(&mut c, "GEOADD g 1 2"),
        "ERR wrong number of arguments for 'geoadd' command"
    );
}

// ---------------------------------------------------------------------------------------------
// GEOPOS, GEOHASH, GEODIST

#[test]
fn geopos_geohash_and_geodist_read_points() {
    let (_s, mut c) = start();
    sicily(&mut c, "Sicily");
    assert_eq!(
        v(&mut c, "GEOPOS Sicily Palermo nope Catania"),
        arr(vec![
            bulks(&["13.36138933897018433", "38.11555639549629859"]),
            Value::Nil,
            bulks(&["15.08726745843887329", "37.50266842333162032"]),
        ])
    );
    assert_eq!(v(&mut c, "GEOPOS Sicily"), arr(vec![]));
    assert_eq!(
        v(&mut c, "GEOPOS missing a b"),
        arr(vec![Value::Nil, Value::Nil])
    );
    assert_eq!(
        v(&mut c, "GEOHASH Sicily Palermo Catania nope"),
        arr(vec![bulk("sqc8b49rny0"), bulk("sqdtr74hyu0"), Value::Nil])
    );
    assert_eq!(v(&mut c, "GEOHASH missing a"), arr(vec![Value::Nil]));
    assert_eq!(v(&mut c, "GEOHASH Sicily"), arr(vec![]));
    for (unit, d) in [
        (None, "166274.1516"),
        (Some("m"), "166274.1516"),
        (Some("KM"), "166.2742"),
        (Some("mi"), "103.3182"),
        (Some("Ft"), "545518.8700"),
    ] {
        let cmd = format!("GEODIST Sicily Palermo Catania {}", unit.unwrap_or(""));
        assert_eq!(v(&mut c, &cmd), bulk(d), "{unit:?}");
    }
    assert_eq!(v(&mut c, "GEODIST Sicily Palermo Palermo"), bulk("0.0000"));
    assert_eq!(v(&mut c, "GEODIST Sicily Palermo x"), Value::Nil);
    assert_eq!(v(&mut c, "GEODIST missing a b"), Value::Nil);
    // The unit is checked first, before the key.
    assert_eq!(err(&mut c, "GEODIST missing a b yd"), UNIT);
    assert_eq!(err(&mut c, "GEODIST missing a b km x"), SYNTAX);
    ok(&mut c, "SET s x");
    for args in ["GEODIST s a b", "GEOPOS s a", "GEOHASH s a"] {
        assert_eq!(err(&mut c, args), WRONGTYPE, "{args:?}");
    }
}

#[test]
fn members_are_binary_safe() {
    let (_s, mut c) = start();
    let member: &[u8] = b"a\x00b\r\n\xff";
    let added: i64 = redis::cmd("GEOADD")
        .arg("g")
        .arg("1")
        .arg("1")
        .arg(member)
        .query(&mut c)
        .unwrap();
    assert_eq!(added, 1);
    let found: Vec<Vec<u8>> = redis::cmd("GEOSEARCH")
        .arg(&["g", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km"])
        .query(&mut c)
        .unwrap();
    assert_eq!(found, vec![member.to_vec()]);
    let d: String = redis::cmd("GEODIST")
        .arg("g")
        .arg(member)
        .arg(member)
        .query(&mut c)
        .unwrap();
    assert_eq!(d, "0.0000");
}

// ---------------------------------------------------------------------------------------------
// The searches

#[test]
fn georadius_replies_with_the_requested_fields_in_order() {
    let (_s, mut c) = start();
    sicily(&mut c, "Sicily");
    assert_eq!(
        v(
            &mut c,
            "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC"
        ),
        arr(vec![
            arr(vec![
                bulk("Catania"),
                bulk("56.4413"),
                Value::Int(3479447370796909),
                bulks(&["15.08726745843887329", "37.50266842333162032"]),
            ]),
            arr(vec![
                bulk("Palermo"),
                bulk("190.4424"),
                Value::Int(3479099956230698),
                bulks(&["13.36138933897018433", "38.11555639549629859"]),
            ]),
        ])
    );
    assert_eq!(
        v(&mut c, "GEORADIUS Sicily 15 37 200 km DESC"),
        bulks(&["Palermo", "Catania"])
    );
    // Without an order: the scan order (cells, then scores).
    assert_eq!(
        v(&mut c, "GEORADIUS Sicily 15 37 200 mi WITHDIST"),
        arr(vec![
            arr(vec![bulk("Palermo"), bulk("118.3357")]),
            arr(vec![bulk("edge1"), bulk("173.8231")]),
            arr(vec![bulk("Catania"), bulk("35.0711")]),
            arr(vec![bulk("edge2"), bulk("173.8230")]),
        ])
    );
    // COUNT alone sorts ascending; DESC picks the farthest.
    assert_eq!(
        v(&mut c, "GEORADIUS Sicily 15 37 200 km COUNT 1"),
        bulks(&["Catania"])
    );
    assert_eq!(
        v(&mut c, "GEORADIUS Sicily 15 37 200 km count 1 desc"),
        bulks(&["Palermo"])
    );
    // COUNT ... ANY stops at the first match found and does not sort.
    assert_eq!(
        v(&mut c, "GEORADIUS Sicily 15 37 200 mi COUNT 2 ANY"),
        bulks(&["Palermo", "edge1"])
    );
    assert_eq!(v(&mut c, "GEORADIUS Sicily 15 37 200 ft"), arr(vec![]));
    assert_eq!(
        v(&mut c, "GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST"),
        arr(vec![
            arr(vec![bulk("Palermo"), bulk("0.0000")]),
            arr(vec![bulk("edge1"), bulk("91.4007")]),
            arr(vec![bulk("Catania"), bulk("166.2742")]),
        ])
    );
    assert_eq!(
        v(&mut c, "GEORADIUS_RO Sicily 15 37 200 km ASC"),
        bulks(&["Catania", "Palermo"])
    );
    assert_eq!(
        v(&mut c, "GEORADIUSBYMEMBER_RO Sicily Catania 3 KM"),
        bulks(&["Catania"])
    );
    assert_eq!(
        v(
            &mut c,
            "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHDIST"
        ),
        arr(vec![
            arr(vec![bulk("Catania"), bulk("56.4413")]),
            arr(vec![bulk("Palermo"), bulk("190.4424")]),
            arr(vec![bulk("edge2"), bulk("279.7403")]),
            arr(vec![bulk("edge1"), bulk("279.7405")]),
        ])
    );
    assert_eq!(
        v(&mut c, "GEOSEARCH Sicily FROMMEMBER Catania BYRADIUS 3 km"),
        bulks(&["Catania"])
    );
    // A later FROMMEMBER replaces an earlier one.
    assert_eq!(
        v(
            &mut c,
            "GEOSEARCH Sicily FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 1 m"
        ),
        bulks(&["Catania"])
    );
}

#[test]
fn search_errors_in_redis_order() {
    let (_s, mut c) = start();
    sicily(&mut c, "g");
    let cases: &[(&str, &str)] = &[
        ("GEORADIUS g x 0 1 km", NOT_FLOAT),
        (
            "GEORADIUS g 0 90 1 km",
            "ERR invalid longitude,latitude pair 0.000000,90.000000",
        ),
        ("GEORADIUS g 0 0 x km", "ERR need numeric radius"),
        ("GEORADIUS g 0 0 -1 km", "ERR radius cannot be negative"),
        ("GEORADIUS g 0 0 1 yd", UNIT),
        ("GEORADIUS g 0 0 1 km COUNT 0", "ERR COUNT must be > 0"),
        ("GEORADIUS g 0 0 1 km COUNT -5", "ERR COUNT must be > 0"),
        ("GEORADIUS g 0 0 1 km COUNT x", NOT_INT),
        ("GEORADIUS g 0 0 1 km COUNT", SYNTAX),
        ("GEORADIUS g 0 0 1 km STORE", SYNTAX),
        ("GEORADIUS g 0 0 1 km BYBOX 1 1 m", SYNTAX),
        ("GEORADIUS g 0 0 1 km nope", SYNTAX),
        ("GEORADIUS g 0 0 1 km ANY", "ERR the ANY argument requires COUNT argument"),
        (
            "GEORADIUS g 0 0 1 km WITHDIST STORE d",
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (
            "GEORADIUSBYMEMBER g Palermo 1 km STOREDIST d WITHHASH",
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        ("GEORADIUS_RO g 0 0 1 km STORE d", SYNTAX),
        ("GEORADIUSBYMEMBER_RO g Palermo 1 km STOREDIST d", SYNTAX),
        ("GEORADIUSBYMEMBER g nope 1 km", "ERR could not decode requested zset member"),
        // The member is looked up before the radius is read.
        ("GEORADIUSBYMEMBER g nope x km", "ERR could not decode requested zset member"),
        ("GEORADIUSBYMEMBER g Palermo x km", "ERR need numeric radius"),
        (
            "GEOSEARCH g BYRADIUS 1 km ASC WITHDIST",
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH",
        ),
        (
            "geoSearch g FROMLONLAT 0 0 ASC WITHDIST",
            "ERR exactly one of BYRADIUS and BYBOX can be specified for geoSearch",
        ),
        ("GEOSEARCH g FROMLONLAT 0 0 FROMMEMBER Palermo BYRADIUS 1 m", SYNTAX),
        ("GEOSEARCH g FROMMEMBER Palermo FROMLONLAT 0 0 BYRADIUS 1 m", SYNTAX),
        ("GEOSEARCH g FROMMEMBER Palermo BYRADIUS 1 m BYBOX 1 1 m", SYNTAX),
        ("GEOSEARCH g FROMMEMBER Palermo BYBOX 1 1 m BYRADIUS 1 m", SYNTAX),
        ("GEOSEARCH g FROMMEMBER Palermo BYBOX 1 1", SYNTAX),
        ("GEOSEARCH g FROMMEMBER Palermo BYRADIUS 1 m STORE d", SYNTAX),
        ("GEOSEARCH g FROMMEMBER Palermo BYRADIUS 1 m STOREDIST", SYNTAX),
        ("GEOSEARCH g FROMMEMBER nope BYRADIUS 1 m", "ERR could not decode requested zset member"),
        ("GEOSEARCH g FROMLONLAT 0 0 BYBOX x 1 m", "ERR need numeric width"),
        ("GEOSEARCH g FROMLONLAT 0 0 BYBOX 1 x m", "ERR need numeric height"),
        ("GEOSEARCH g FROMLONLAT 0 0 BYBOX 1 -1 m", "ERR height or width cannot be negative"),
        ("GEOSEARCH g FROMLONLAT 0 0 BYBOX 1 1 cm", UNIT),
        ("GEOSEARCH g FROMLONLAT 0 0 BYRADIUS 1 m ANY", "ERR the ANY argument requires COUNT argument"),
        (
            "GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 m WITHCOORD",
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        ("GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 m STORE x", SYNTAX),
        (
            "GEOSEARCHSTORE d g BYRADIUS 1 m STOREDIST ASC",
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCHSTORE",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(err(&mut c, args), *expected, "{args:?}");
    }
    // Errors come in argument order: the first bad argument wins.
    assert_eq!(
        err(&mut c, "GEOSEARCH g BYRADIUS x m FROMLONLAT 500 0"),
        "ERR need numeric radius"
    );
    assert_eq!(
        err(&mut c, "GEORADIUS g 0 0 1 km COUNT 0 WITHDIST STORE d"),
        "ERR COUNT must be > 0"
    );
    assert_eq!(qi(&mut c, "EXISTS d"), 0);
}

#[test]
fn searches_on_missing_keys_and_other_types() {
    let (_s, mut c) = start();
    let empty = arr(vec![]);
    assert_eq!(v(&mut c, "GEORADIUS none 0 0 1 km"), empty);
    // Without a source, the member and the radius are not looked at...
    assert_eq!(v(&mut c, "GEORADIUSBYMEMBER none m x y"), empty);
    assert_eq!(
        v(&mut c, "GEOSEARCH none FROMMEMBER m BYRADIUS 1 km"),
        empty
    );
    // ...but the options still are, and coordinates are checked.
    assert_eq!(err(&mut c, "GEORADIUSBYMEMBER none m x y nope"), SYNTAX);
    assert_eq!(
        err(&mut c, "GEOSEARCH none FROMLONLAT 500 0 BYRADIUS 1 km"),
        "ERR invalid longitude,latitude pair 500.000000,0.000000"
    );
    ok(&mut c, "SET s x");
    // The type is checked before anything else.
    for args in [
        "GEORADIUS s 500 0 1 km",
        "GEORADIUSBYMEMBER s m 1 km",
        "GEORADIUS_RO s 0 0 1 km",
        "GEORADIUSBYMEMBER_RO s m 1 km",
        "GEOSEARCH s nope x y z w",
        "GEOSEARCHSTORE d s nope x y z w",
    ] {
        assert_eq!(err(&mut c, args), WRONGTYPE, "{args:?}");
    }
}

#[test]
fn store_forms_write_a_sorted_set_or_delete_the_destination() {
    let (_s, mut c) = start();
    sicily(&mut c, "g");
    assert_eq!(qi(&mut c, "GEORADIUS g 15 37 200 km STORE d"), 2);
    assert_eq!(qs(&mut c, "TYPE d"), "zset");
    // STORE keeps the scores: the points are the same points.
    assert_eq!(
        v(&mut c, "GEOPOS d Catania Palermo edge1"),
        arr(vec![
            bulks(&["15.08726745843887329", "37.50266842333162032"]),
            bulks(&["13.36138933897018433", "38.11555639549629859"]),
            Value::Nil,
        ])
    );
    // The destination is replaced, TTL included.
    ok(&mut c, "EXPIRE d 100");
    assert_eq!(
        qi(&mut c, "GEORADIUSBYMEMBER g Palermo 100 km COUNT 1 STORE d"),
        1
    );
    assert_eq!(qi(&mut c, "TTL d"), -1);
    assert_eq!(
        v(&mut c, "GEOHASH d Palermo Catania"),
        arr(vec![bulk("sqc8b49rny0"), Value::Nil])
    );
    // STOREDIST stores distances in the query's unit as the scores: 56.4413... km decodes
    // to a point near the south-west corner of the map.
    assert_eq!(
        qi(&mut c, "GEORADIUS g 15 37 200 km STOREDIST dd COUNT 1"),
        1
    );
    assert_eq!(
        v(&mut c, "GEOPOS dd Catania"),
        arr(vec![bulks(&[
            "-179.9999651312828064",
            "-85.05111737375477787"
        ])])
    );
    assert_eq!(
        qi(
            &mut c,
            "GEOSEARCHSTORE gs g FROMMEMBER Palermo BYBOX 400 400 km ASC COUNT 3"
        ),
        3
    );
    assert_eq!(
        v(
            &mut c,
            "GEOSEARCH gs FROMMEMBER Palermo BYRADIUS 1000 km ASC"
        ),
        bulks(&["Palermo", "edge1", "Catania"])
    );
    assert_eq!(
        qi(
            &mut c,
            "GEOSEARCHSTORE gs2 g FROMMEMBER Palermo BYRADIUS 1 km STOREDIST"
        ),
        1
    );
    assert_eq!(
        v(&mut c, "GEOPOS gs2 Palermo"),
        arr(vec![bulks(&[
            "-179.99999731779098511",
            "-85.05112751263942528"
        ])])
    );
    // No match: the destination is deleted; a missing source too.
    assert_eq!(qi(&mut c, "GEORADIUS g 0 0 1 km STORE d"), 0);
    assert_eq!(qi(&mut c, "EXISTS d"), 0);
    assert_eq!(
        qi(
            &mut c,
            "GEOSEARCHSTORE gs none FROMLONLAT 0 0 BYRADIUS 1 km"
        ),
        0
    );
    assert_eq!(qi(&mut c, "EXISTS gs"), 0);
    ok(&mut c, "SET str x");
    assert_eq!(qi(&mut c, "GEORADIUSBYMEMBER none m 1 km STORE str"), 0);
    assert_eq!(qi(&mut c, "EXISTS str"), 0);
    // Storing over a key of another type replaces it.
    ok(&mut c, "SET str x");
    assert_eq!(
        qi(
            &mut c,
            "GEOSEARCHSTORE str g FROMLONLAT 15 37 BYRADIUS 100 km"
        ),
        1
    );
    assert_eq!(qs(&mut c, "TYPE str"), "zset");
    // Source and destination can be the same key.
    assert_eq!(
        qi(
            &mut c,
            "GEOSEARCHSTORE g g FROMLONLAT 15 37 BYRADIUS 100 km"
        ),
        1
    );
    assert_eq!(
        v(&mut c, "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 10000 km"),
        bulks(&["Catania"])
    );
}

#[test]
fn store_forms_across_shards() {
    let (_s, mut c) = start();
    for (src_shard, dst_shard) in [(0, 1), (1, 0), (0, 0)] {
        let src = key_on(src_shard, 2, &format!("src{src_shard}{dst_shard}-"));
        let dst = key_on(dst_shard, 2, &format!("dst{src_shard}{dst_shard}-"));
        let dst2 = key_on(1 - dst_shard, 2, &format!("dd{src_shard}{dst_shard}-"));
        sicily(&mut c, &src);
        let store = format!("GEORADIUS {src} 15 37 200 km STORE {dst}");
        assert_eq!(qi(&mut c, &store), 2);
        let read = format!("GEOSEARCH {dst} FROMLONLAT 15 37 BYRADIUS 200 km ASC");
        assert_eq!(v(&mut c, &read), bulks(&["Catania", "Palermo"]));
        let store = format!("GEORADIUSBYMEMBER {src} Palermo 100 km STOREDIST {dst2}");
        assert_eq!(qi(&mut c, &store), 2);
        assert_eq!(
            v(&mut c, &format!("GEOHASH {dst2} Palermo edge1")),
            bulks(&["00bh0hbj200", "00bh0hbj2q0"])
        );
        let store = format!("GEOSEARCHSTORE {dst} {src} FROMMEMBER edge2 BYRADIUS 1 m");
        assert_eq!(qi(&mut c, &store), 1);
        let read = format!("GEOSEARCH {dst} FROMLONLAT 17 38 BYRADIUS 1000 km");
        assert_eq!(v(&mut c, &read), bulks(&["edge2"]));
        // No result deletes the destination on its own shard.
        let store = format!("GEOSEARCHSTORE {dst} {src} FROMLONLAT 0 0 BYRADIUS 1 m");
        assert_eq!(qi(&mut c, &store), 0);
        assert_eq!(qi(&mut c, &format!("EXISTS {dst}")), 0);
        // Errors leave the destination alone.
        assert_eq!(
            err(
                &mut c,
                &format!("GEORADIUS {src} 15 37 200 km STORE {dst2} WITHDIST")
            ),
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and \
             WITHCOORD options"
        );
        assert_eq!(qi(&mut c, &format!("EXISTS {dst2}")), 1);
    }
}

// ---------------------------------------------------------------------------------------------
// RESP3

/// Sends RESP3 commands on a raw connection and returns each reply's exact bytes.
fn resp3_replies(port: u16, cmds: &[&str]) -> Vec<String> {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut send = |cmd: &str| {
        let args = args(cmd);
        let mut buf = format!("*{}\r\n", args.len());
        for a in args {
            buf += &format!("${}\r\n{a}\r\n", a.len());
        }
        w.write_all(buf.as_bytes()).unwrap();
    };
    send("HELLO 3");
    read_reply(&mut r);
    cmds.iter()
        .map(|c| {
            send(c);
            read_reply(&mut r)
        })
        .collect()
}

fn read_reply(r: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let n: i64 = line[1..line.len() - 2].parse().unwrap_or(0);
    match line.as_bytes()[0] {
        b'*' | b'~' | b'>' => line + &(0..n).map(|_| read_reply(r)).collect::<String>(),
        b'%' => line + &(0..2 * n).map(|_| read_reply(r)).collect::<String>(),
        b'$' | b'=' if n >= 0 => {
            let mut body = vec![0; n as usize + 2];
            r.read_exact(&mut body).unwrap();
            line + &String::from_utf8_lossy(&body)
        }
        _ => line,
    }
}

#[test]
fn resp3_coordinates_are_doubles_and_distances_strings() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    sicily(&mut c, "g");
    let replies = resp3_replies(
        s.port,
        &[
            "GEOPOS g Palermo nope",
            "GEODIST g Palermo Catania km",
            "GEODIST g Palermo nope",
            "GEODIST none a b",
            "GEOHASH g Catania nope",
            "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 100 km WITHCOORD WITHDIST WITHHASH",
            "GEOSEARCH none FROMLONLAT 15 37 BYRADIUS 100 km",
        ],
    );
    assert_eq!(
        replies,
        [
            "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n",
            "$8\r\n166.2742\r\n",
            "_\r\n",
            "_\r\n",
            "*2\r\n$11\r\nsqdtr74hyu0\r\n_\r\n",
            "*1\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n\
             ,15.08726745843887329\r\n,37.50266842333162032\r\n",
            "*0\r\n",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Model test: random points, reads checked against the geohash math and a brute-force search

struct Rng(u64);

impl Rng {
    /// Xorshift needs a non-zero state.
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e3779b97f4a7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn model_random_points_and_searches() {
    let (_s, mut c) = start();
    let mut rng = Rng::new(1);
    let mut model: std::collections::BTreeMap<String, f64> = Default::default();
    for round in 0..300 {
        let member = format!("m{}", rng.below(60));
        let (lon, lat) = (rng.float(-10.0, 10.0), rng.float(40.0, 50.0));
        let (lon_s, lat_s) = (format!("{lon:.6}"), format!("{lat:.6}"));
        let (lon, lat): (f64, f64) = (lon_s.parse().unwrap(), lat_s.parse().unwrap());
        let score = geohash::score_of(lon, lat).unwrap();
        let flag = ["", "NX", "XX", "CH"][rng.below(4) as usize];
        let mut args = vec!["GEOADD", "pts"];
        if !flag.is_empty() {
            args.push(flag);
        }
        args.extend([lon_s.as_str(), lat_s.as_str(), member.as_str()]);
        let old = model.get(&member).copied();
        let (apply, counted) = match (flag, old) {
            ("NX", Some(_)) | ("XX", None) => (false, false),
            ("CH", Some(o)) => (o != score, o != score),
            (_, Some(o)) => (o != score, false),
            (_, None) => (true, true),
        };
        if apply {
            model.insert(member.clone(), score);
        }
        assert_eq!(
            q::<i64>(&mut c, &args),
            counted as i64,
            "round {round}: {args:?}"
        );

        // Every point reads back as the model says.
        let probe = format!("m{}", rng.below(60));
        let expected = model.get(&probe).map(|&s| geohash::decode_score(s));
        let pos: Value = q(&mut c, &["GEOPOS", "pts", &probe]);
        let want = match expected {
            Some([x, y]) => arr(vec![arr(vec![
                bulk(&geohash::fmt_coord(x)),
                bulk(&geohash::fmt_coord(y)),
            ])]),
            None => arr(vec![Value::Nil]),
        };
        assert_eq!(pos, want, "GEOPOS {probe}");
    }

    // Searches find exactly the points a brute-force scan finds, in distance order.
    for _ in 0..60 {
        let (lon, lat) = (rng.float(-12.0, 12.0), rng.float(38.0, 52.0));
        let (lon_s, lat_s) = (format!("{lon:.4}"), format!("{lat:.4}"));
        let center = [lon_s.parse::<f64>().unwrap(), lat_s.parse::<f64>().unwrap()];
        let by_box = rng.below(2) == 0;
        let (a, b) = (rng.float(10.0, 800.0), rng.float(10.0, 800.0));
        let (a_s, b_s) = (format!("{a:.1}"), format!("{b:.1}"));
        let (a, b): (f64, f64) = (a_s.parse().unwrap(), b_s.parse().unwrap());
        let shape = geohash::Shape {
            xy: center,
            conversion: 1000.0,
            kind: if by_box {
                geohash::ShapeKind::Box {
                    width: a,
                    height: b,
                }
            } else {
                geohash::ShapeKind::Circle { radius: a }
            },
        };
        let mut expected: Vec<(f64, String)> = model
            .iter()
            .filter_map(|(m, &s)| {
                let [x, y] = geohash::decode_score(s);
                shape.contains(x, y).map(|d| (d, m.clone()))
            })
            .collect();
        expected.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut args = vec!["GEOSEARCH", "pts", "FROMLONLAT", &lon_s, &lat_s];
        if by_box {
            args.extend(["BYBOX", &a_s, &b_s, "km"]);
        } else {
            args.extend(["BYRADIUS", &a_s, "km"]);
        }
        args.extend(["ASC", "WITHDIST"]);
        let got: Vec<(String, String)> = q(&mut c, &args);
        let want: Vec<(String, String)> = expected
            .iter()
            .map(|(d, m)| (m.clone(), geohash::fmt_distance(d / 1000.0)))
            .collect();
        assert_eq!(got, want, "{args:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Differential test against redis-server

/// A raw connection keeping each reply's exact bytes.
struct Raw {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Raw {
    fn open(port: u16, resp3: bool) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut raw = Raw {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        };
        if resp3 {
            raw.send(&[vec![b"HELLO".to_vec(), b"3".to_vec()]]);
            read_reply(&mut raw.r);
        }
        raw
    }

    fn send(&mut self, cmds: &[Vec<Vec<u8>>]) {
        let mut buf = Vec::new();
        for args in cmds {
            buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in args {
                buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                buf.extend_from_slice(a);
                buf.extend_from_slice(b"\r\n");
            }
        }
        self.w.write_all(&buf).unwrap();
    }

    /// Runs a pipeline and returns every reply.
    fn run(&mut self, cmds: &[Vec<Vec<u8>>]) -> Vec<String> {
        self.send(cmds);
        cmds.iter().map(|_| read_reply(&mut self.r)).collect()
    }
}

fn words(s: &str) -> Vec<Vec<u8>> {
    s.split_whitespace()
        .map(|w| w.as_bytes().to_vec())
        .collect()
}

/// Replaces one argument after the key with a token that is often wrong there, so that the
/// error paths and their precedence are compared too.
fn corrupt(rng: &mut Rng, mut cmd: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    const JUNK: &[&str] = &[
        "x",
        "-1",
        "0",
        "yd",
        "COUNT",
        "STORE",
        "STOREDIST",
        "ANY",
        "BYBOX",
        "BYRADIUS",
        "FROMMEMBER",
        "FROMLONLAT",
        "WITHDIST",
        "nan",
        "500",
        "1e400",
        "inf",
        "KM",
    ];
    if cmd.len() > 2 {
        let at = 2 + rng.below(cmd.len() as u64 - 2) as usize;
        cmd[at] = JUNK[rng.below(JUNK.len() as u64) as usize]
            .as_bytes()
            .to_vec();
    }
    cmd
}

/// Random points (clusters, exact duplicates for ties, the edges of the map) and random
/// searches of every form, with every option.
fn differential_script(seed: u64) -> Vec<Vec<Vec<u8>>> {
    let mut rng = Rng::new(seed);
    let mut cmds = vec![words("FLUSHALL")];
    let centers = [
        (13.4, 38.1),
        (-122.4, 37.8),
        (179.9, -60.0),
        (0.0, 84.9),
        (-179.95, 0.0),
        (180.0, 85.05112878),
        (-166.6, -38.1), // antipodal to the first: distances near half the Earth
    ];
    let mut members = Vec::new();
    for key in ["ga", "gb"] {
        for i in 0..400 {
            let (clon, clat) = centers[rng.below(centers.len() as u64) as usize];
            let spread = [0.01, 0.5, 5.0][rng.below(3) as usize];
            let lon = (clon + rng.float(-spread, spread)).clamp(-180.0, 180.0);
            let lat = (clat + rng.float(-spread, spread)).clamp(-85.05112878, 85.05112878);
            let member = format!("p{i}");
            // Some points share coordinates: equal distances, ordered by the sorts.
            let (lon, lat) = if i > 10 && rng.below(8) == 0 {
                (format!("{clon}"), format!("{clat}"))
            } else {
                (format!("{lon:.6}"), format!("{lat:.6}"))
            };
            cmds.push(words(&format!("GEOADD {key} {lon} {lat} {member}")));
            members.push(member);
        }
    }
    let units = ["m", "km", "mi", "ft", "KM"];
    for _ in 0..600 {
        let key = ["ga", "gb", "none"][rng.below(3) as usize];
        let (clon, clat) = centers[rng.below(centers.len() as u64) as usize];
        let lon = format!("{:.5}", (clon + rng.float(-3.0, 3.0)).clamp(-180.0, 180.0));
        let lat = format!("{:.5}", (clat + rng.float(-3.0, 3.0)).clamp(-85.0, 85.0));
        let unit = units[rng.below(units.len() as u64) as usize];
        let scale = match unit {
            "m" => 1000.0,
            "ft" => 3000.0,
            _ => 1.0,
        };
        // Sometimes huge (a few cells cover the world, neighbours coincide), zero or infinite.
        let size = |rng: &mut Rng| match rng.below(20) {
            0 => ["0", "inf", "5000000", "12000000", "20000000", "40000000"][rng.below(6) as usize]
                .to_string(),
            _ => format!("{:.3}", rng.float(0.0, 600.0) * scale),
        };
        let member = &members[rng.below(members.len() as u64) as usize];
        let mut opts = Vec::new();
        for o in ["WITHDIST", "WITHCOORD", "WITHHASH"] {
            if rng.below(3) == 0 {
                opts.push(o.to_string());
            }
        }
        match rng.below(4) {
            0 => opts.push("ASC".into()),
            1 => opts.push("DESC".into()),
            _ => {}
        }
        if rng.below(2) == 0 {
            opts.push(format!("COUNT {}", 1 + rng.below(30)));
            if rng.below(3) == 0 {
                opts.push("ANY".into());
            }
        }
        let store = ["", "STORE", "STOREDIST"][rng.below(3) as usize];
        let dest = ["d1", "d2"][rng.below(2) as usize];
        let storing = !store.is_empty();
        let opts_no_with: Vec<String> = opts
            .iter()
            .filter(|o| !o.starts_with("WITH"))
            .cloned()
            .collect();
        let cmd = match rng.below(7) {
            0 => format!("GEORADIUS {key} {lon} {lat} {} {unit}", size(&mut rng)),
            1 => format!("GEORADIUS_RO {key} {lon} {lat} {} {unit}", size(&mut rng)),
            2 => format!("GEORADIUSBYMEMBER {key} {member} {} {unit}", size(&mut rng)),
            3 => format!(
                "GEORADIUSBYMEMBER_RO {key} {member} {} {unit}",
                size(&mut rng)
            ),
            4 | 5 => {
                let from = if rng.below(2) == 0 {
                    format!("FROMMEMBER {member}")
                } else {
                    format!("FROMLONLAT {lon} {lat}")
                };
                let by = if rng.below(2) == 0 {
                    format!("BYRADIUS {} {unit}", size(&mut rng))
                } else {
                    format!("BYBOX {} {} {unit}", size(&mut rng), size(&mut rng))
                };
                format!("GEOSEARCH {key} {from} {by}")
            }
            _ => {
                let from = format!("FROMMEMBER {member}");
                let by = format!("BYBOX {} {} {unit}", size(&mut rng), size(&mut rng));
                let dist = if rng.below(2) == 0 { " STOREDIST" } else { "" };
                let c = format!(
                    "GEOSEARCHSTORE {dest} {key} {from} {by} {}{dist}",
                    opts_no_with.join(" ")
                );
                cmds.push(words(&c));
                cmds.push(words(&format!(
                    "GEOSEARCH {dest} FROMLONLAT 0 0 BYRADIUS 30000 km WITHHASH WITHCOORD"
                )));
                continue;
            }
        };
        if rng.below(12) == 0 {
            let c = words(&format!("{cmd} {} {store} {dest}", opts.join(" ")));
            cmds.push(corrupt(&mut rng, c));
            continue;
        }
        let writable = cmd.starts_with("GEORADIUS ") || cmd.starts_with("GEORADIUSBYMEMBER ");
        if writable && storing {
            cmds.push(words(&format!(
                "{cmd} {} {store} {dest}",
                opts_no_with.join(" ")
            )));
            cmds.push(words(&format!(
                "GEOSEARCH {dest} FROMLONLAT 0 0 BYRADIUS 30000 km WITHHASH WITHCOORD"
            )));
            cmds.push(words(&format!("EXISTS {dest}")));
        } else {
            cmds.push(words(&format!("{cmd} {}", opts.join(" "))));
        }
        if rng.below(10) == 0 {
            cmds.push(words(&format!("GEOPOS {key} {member} nope")));
            cmds.push(words(&format!("GEOHASH {key} {member}")));
            let other = &members[rng.below(members.len() as u64) as usize];
            cmds.push(words(&format!("GEODIST {key} {member} {other} {unit}")));
        }
    }
    cmds
}

#[test]
fn differential_against_redis_server() {
    if common::redis_server_binary().is_none() {
        println!("skipped: redis-server is not on PATH (the geo differential test needs it)");
        return;
    }
    let redis = common::start_reference_redis();
    let shardis = Server::start(2, &[]);
    let seed = std::env::var("GEO_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x05ee_d6e0_u64);
    for resp3 in [false, true] {
        let script = differential_script(seed ^ resp3 as u64);
        let mut a = Raw::open(redis.port, resp3);
        let mut b = Raw::open(shardis.port, resp3);
        let mut compared = 0;
        for chunk in script.chunks(200) {
            let ra = a.run(chunk);
            let rb = b.run(chunk);
            for ((cmd, x), y) in chunk.iter().zip(&ra).zip(&rb) {
                let shown: Vec<String> = cmd
                    .iter()
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect();
                assert_eq!(y, x, "resp3={resp3} seed={seed:#x}: {}", shown.join(" "));
                compared += 1;
            }
        }
        assert!(compared > 1000);
    }
}
