//! Geospatial commands (Redis' `geo.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const GEO: &str = "geo";

const UNIT_HISTORY: &[(&str, &str)] = &[("7.0.0", "Added support for uppercase unit names.")];
const RADIUS_HISTORY: &[(&str, &str)] = &[
    ("6.2.0", "Added the `ANY` option for `COUNT`."),
    ("7.0.0", "Added support for uppercase unit names."),
];
const RADIUS_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the \
    bounding box of the circular area delimited by center and radius and M is the number of \
    items inside the index.";
const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the \
    grid-aligned bounding box area around the shape provided as the filter and M is the number \
    of items inside the shape";

const UNIT: Arg = oneof(
    "unit",
    &[
        pure("m", "m"),
        pure("km", "km"),
        pure("ft", "ft"),
        pure("mi", "mi"),
    ],
);
const WITHCOORD: Arg = pure("withcoord", "WITHCOORD").opt();
const WITHDIST: Arg = pure("withdist", "WITHDIST").opt();
const WITHHASH: Arg = pure("withhash", "WITHHASH").opt();
const COUNT: Arg = block(
    "count-block",
    &[
        integer("count").token("COUNT"),
        pure("any", "ANY").since("6.2.0").opt(),
    ],
)
.opt();
const ORDER: Arg = oneof("order", &[pure("asc", "ASC"), pure("desc", "DESC")]).opt();
const STORE: Arg = oneof(
    "store",
    &[
        key("storekey", 1).token("STORE").display("key"),
        key("storedistkey", 2).token("STOREDIST").display("key"),
    ],
)
.opt();
const FROM: Arg = oneof(
    "from",
    &[
        string("member").token("FROMMEMBER"),
        block("fromlonlat", &[double("longitude"), double("latitude")]).token("FROMLONLAT"),
    ],
);
const BY: Arg = oneof(
    "by",
    &[
        block("circle", &[double("radius").token("BYRADIUS"), UNIT]),
        block(
            "box",
            &[double("width").token("BYBOX"), double("height"), UNIT],
        ),
    ],
);

const KEY: &[KeySpec] = &[key_at(1, RO | ACCESS)];

/// A key found after a keyword (GEORADIUS' STORE / STOREDIST), searched from `startfrom`.
const fn key_after(keyword: &'static str, startfrom: i32, flags: u64) -> KeySpec {
    KeySpec::new(
        flags,
        BeginSearch::Keyword { keyword, startfrom },
        FindKeys::Range {
            lastkey: 0,
            step: 1,
            limit: 0,
        },
    )
}

/// GEORADIUS: the source, and the destinations of STORE and STOREDIST.
const RADIUS_STORE: &[KeySpec] = &[
    key_at(1, RO | ACCESS),
    key_after("STORE", 6, OW | UPDATE),
    key_after("STOREDIST", 6, OW | UPDATE),
];
/// GEORADIUSBYMEMBER: as GEORADIUS, one argument shorter before the options.
const MEMBER_STORE: &[KeySpec] = &[
    key_at(1, RO | ACCESS),
    key_after("STORE", 5, OW | UPDATE),
    key_after("STOREDIST", 5, OW | UPDATE),
];

const RADIUS_ARGS: &[Arg] = &[
    key("key", 0),
    double("longitude"),
    double("latitude"),
    double("radius"),
    UNIT,
    WITHCOORD,
    WITHDIST,
    WITHHASH,
    COUNT,
    ORDER,
    STORE,
];
const RADIUS_RO_ARGS: &[Arg] = &[
    key("key", 0),
    double("longitude"),
    double("latitude"),
    double("radius"),
    UNIT,
    WITHCOORD,
    WITHDIST,
    WITHHASH,
    COUNT,
    ORDER,
];
const MEMBER_ARGS: &[Arg] = &[
    key("key", 0),
    string("member"),
    double("radius"),
    UNIT,
    WITHCOORD,
    WITHDIST,
    WITHHASH,
    COUNT,
    ORDER,
    STORE,
];
const MEMBER_RO_ARGS: &[Arg] = &[
    key("key", 0),
    string("member"),
    double("radius"),
    UNIT,
    WITHCOORD,
    WITHDIST,
    WITHHASH,
    COUNT,
    ORDER,
];

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("geoadd", -5, WRITE | DENYOOM, &["write", "geo", "slow"])
        .doc(GEO, "3.2.0", "O(log(N)) for each item added, where N is the number of elements in \
            the sorted set.",
            "Adds one or more members to a geospatial index. The key is created if it doesn't \
            exist.")
        .history(&[("6.2.0", "Added the `CH`, `NX` and `XX` options.")])
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[
            key("key", 0),
            oneof("condition", &[pure("nx", "NX"), pure("xx", "XX")]).since("6.2.0").opt(),
            pure("change", "CH").since("6.2.0").opt(),
            block("data", &[double("longitude"), double("latitude"), string("member")]).multi(),
        ]),
    cmd("geodist", -4, READONLY, &["read", "geo", "slow"])
        .doc(GEO, "3.2.0", "O(1)",
            "Returns the distance between two members of a geospatial index.")
        .keys(KEY)
        .args(&[key("key", 0), string("member1"), string("member2"), UNIT.opt()]),
    cmd("geohash", -2, READONLY, &["read", "geo", "slow"])
        .doc(GEO, "3.2.0", "O(1) for each member requested.",
            "Returns members from a geospatial index as geohash strings.")
        .keys(KEY)
        .args(&[key("key", 0), string("member").opt().multi()]),
    cmd("geopos", -2, READONLY, &["read", "geo", "slow"])
        .doc(GEO, "3.2.0", "O(1) for each member requested.",
            "Returns the longitude and latitude of members from a geospatial index.")
        .keys(KEY)
        .args(&[key("key", 0), string("member").opt().multi()]),
    cmd("georadius", -6, WRITE | DENYOOM, &["write", "geo", "slow"])
        .doc(GEO, "3.2.0", RADIUS_COMPLEXITY,
            "Queries a geospatial index for members within a distance from a coordinate, \
            optionally stores the result.")
        .deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument")
        .history(RADIUS_HISTORY)
        .keys(RADIUS_STORE)
        .args(RADIUS_ARGS),
    cmd("georadius_ro", -6, READONLY, &["read", "geo", "slow"])
        .doc(GEO, "3.2.10", RADIUS_COMPLEXITY,
            "Returns members from a geospatial index that are within a distance from a \
            coordinate.")
        .deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument")
        .history(&[("6.2.0", "Added the `ANY` option for `COUNT`.")])
        .keys(KEY)
        .args(RADIUS_RO_ARGS),
    cmd("georadiusbymember", -5, WRITE | DENYOOM, &["write", "geo", "slow"])
        .doc(GEO, "3.2.0", RADIUS_COMPLEXITY,
            "Queries a geospatial index for members within a distance from a member, \
            optionally stores the result.")
        .deprecated("6.2.0",
            "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments")
        .history(UNIT_HISTORY)
        .keys(MEMBER_STORE)
        .args(MEMBER_ARGS),
    cmd("georadiusbymember_ro", -5, READONLY, &["read", "geo", "slow"])
        .doc(GEO, "3.2.10", RADIUS_COMPLEXITY,
            "Returns members from a geospatial index that are within a distance from a member.")
        .deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments")
        .keys(KEY)
        .args(MEMBER_RO_ARGS),
    cmd("geosearch", -7, READONLY, &["read", "geo", "slow"])
        .doc(GEO, "6.2.0", SEARCH_COMPLEXITY,
            "Queries a geospatial index for members inside an area of a box or a circle.")
        .history(UNIT_HISTORY)
        .keys(KEY)
        .args(&[key("key", 0), FROM, BY, ORDER, COUNT, WITHCOORD, WITHDIST, WITHHASH]),
    cmd("geosearchstore", -8, WRITE | DENYOOM, &["write", "geo", "slow"])
        .doc(GEO, "6.2.0", SEARCH_COMPLEXITY,
            "Queries a geospatial index for members inside an area of a box or a circle, \
            optionally stores the result.")
        .history(UNIT_HISTORY)
        .keys(&[key_at(1, OW | UPDATE), key_at(2, RO | ACCESS)])
        .args(&[
            key("destination", 0),
            key("source", 1),
            FROM,
            BY,
            ORDER,
            COUNT,
            pure("storedist", "STOREDIST").opt(),
        ]),
];
