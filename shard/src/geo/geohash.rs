//! Geohash arithmetic as Redis does it (geohash.c, geohash_helper.c): 52-bit interleaved
//! cell numbers over the Web Mercator latitude limits, the 3x3 cell search around a shape,
//! the haversine distance on Redis' Earth radius, and the reply formats of coordinates and
//! distances.
//!
//! Every operation is the same IEEE double computation, in the same order, as Redis' C code,
//! and the transcendental functions come from the same libm, so decoded coordinates,
//! distances and the cells searched are bit-for-bit Redis'.

use std::f64::consts::PI;

/// Longitude limits.
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Latitude limits: the square Web Mercator projection (EPSG:900913) cannot reach the poles.
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// Bits per coordinate of a stored point: 26 + 26 = 52, exact in a double score.
pub const STEP_MAX: u8 = 26;
/// Earth's quadratic mean radius for WGS-84, as Redis uses it.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = PI / 180.0;

#[inline]
fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

#[inline]
fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// A cell: `step` bits per coordinate, interleaved (latitude in the even bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// Redis' `HASHISZERO`: a cell excluded from the search.
    pub fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A closed interval of one coordinate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The longitude and latitude ranges a cell covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// The ranges stored points are encoded over.
pub const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
pub const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// Interleaves the low 32 bits of `x` (even positions) and `y` (odd positions).
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = xlo as u64;
    let mut y = ylo as u64;
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The inverse of [`interleave64`]: even bits in the low half, odd bits in the high half.
fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// The cell of `step` bits per coordinate holding (longitude, latitude) over the given
/// ranges; `None` outside them or outside the WGS-84 limits (`geohashEncode`).
pub fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<HashBits> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    lat_offset *= (1u64 << step) as f64;
    long_offset *= (1u64 << step) as f64;
    // C converts the offsets to uint32_t by truncation; they lie in [0, 2^step].
    Some(HashBits {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// [`encode`] over the WGS-84 ranges stored points use.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// The area a cell covers (`geohashDecode`); `None` for an excluded (zero) cell.
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let step = hash.step;
    let hash_sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = hash_sep as u32;
    let ilono = (hash_sep >> 32) as u32;
    let div = (1u64 << step) as f64;
    Some(Area {
        latitude: Range {
            min: lat_range.min + (ilato as f64 / div) * lat_scale,
            max: lat_range.min + (ilato.wrapping_add(1) as f64 / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (ilono as f64 / div) * long_scale,
            max: long_range.min + (ilono.wrapping_add(1) as f64 / div) * long_scale,
        },
    })
}

/// The centre of a WGS-84 cell, clamped to the limits: a point's coordinates.
pub fn decode_to_lonlat(hash: HashBits) -> Option<[f64; 2]> {
    let area = decode(WGS84_LONG, WGS84_LAT, hash)?;
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    Some([lon, lat])
}

/// C's `(uint64_t)` conversion of a double as x86-64 compilers emit it (`cvttsd2si`, with
/// the 2^63 adjustment): what Redis makes of a sorted set score that is not a geohash.
pub fn c_double_to_u64(d: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    if d >= TWO63 {
        (c_double_to_i64(d - TWO63) as u64) ^ (1 << 63)
    } else {
        c_double_to_i64(d) as u64
    }
}

/// C's `(long long)` conversion of a double on x86-64: truncation, and the "integer
/// indefinite" value `i64::MIN` for NaN and out-of-range values.
pub fn c_double_to_i64(d: f64) -> i64 {
    if d.is_nan() || !(-9223372036854775808.0..9223372036854775808.0).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// The coordinates of a stored point from its score (`decodeGeohash`).
pub fn decode_score(score: f64) -> [f64; 2] {
    let hash = HashBits {
        bits: c_double_to_u64(score),
        step: STEP_MAX,
    };
    decode_to_lonlat(hash).expect("a cell of step 26 is never the zero cell")
}

/// The score a point is stored with: its 26-step cell aligned to 52 bits.
pub fn score_of(longitude: f64, latitude: f64) -> Option<f64> {
    encode_wgs84(longitude, latitude, STEP_MAX).map(|h| align52(h) as f64)
}

/// The cell's bits shifted to a 52-bit score prefix (`geohashAlign52Bits`).
pub fn align52(hash: HashBits) -> u64 {
    hash.bits << (52 - hash.step as u32 * 2)
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - hash.step as u32 * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> (64 - hash.step as u32 * 2);
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - hash.step as u32 * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> (64 - hash.step as u32 * 2);
    hash.bits = x | y;
}

/// The eight cells around a cell, wrapping around the edges of the map.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Neighbors {
    pub north: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub south: HashBits,
    pub north_east: HashBits,
    pub south_east: HashBits,
    pub north_west: HashBits,
    pub south_west: HashBits,
}

/// The neighbours of `hash` (`geohashNeighbors`).
pub fn neighbors(hash: HashBits) -> Neighbors {
    let at = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north: at(0, 1),
        north_west: at(-1, 1),
        north_east: at(1, 1),
        south_east: at(1, -1),
        south_west: at(-1, -1),
    }
}

/// The step whose 3x3 cells roughly cover a radius at a latitude
/// (`geohashEstimateStepsByRadius`).
pub fn estimate_steps_by_radius(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2; // make sure the range is included in most of the base cases
               // Cells get narrower towards the poles.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The distance along a meridian (`geohashGetLatDistance`).
pub fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// The haversine great-circle distance in meters (`geohashGetDistance`, Redis 7.2: with the
/// shortcut for points on one meridian).
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// What a search covers, around a centre.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShapeKind {
    /// BYRADIUS: the radius in the query's unit.
    Circle { radius: f64 },
    /// BYBOX: width and height in the query's unit.
    Box { width: f64, height: f64 },
}

/// A search area (Redis' `GeoShape`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    /// Centre: longitude, latitude.
    pub xy: [f64; 2],
    /// Meters per unit of the query.
    pub conversion: f64,
    pub kind: ShapeKind,
}

impl Shape {
    /// The distance of (lon, lat) from the centre in meters when the point is inside the
    /// shape (`geoWithinShape`).
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        let [x1, y1] = self.xy;
        match self.kind {
            ShapeKind::Circle { radius } => {
                let d = distance(x1, y1, lon, lat);
                // NaN (numerically antipodal points) is not > radius: included, as in Redis.
                if d > radius * self.conversion {
                    None
                } else {
                    Some(d)
                }
            }
            ShapeKind::Box { width, height } => {
                let (width_m, height_m) = (width * self.conversion, height * self.conversion);
                // The latitude test is cheaper, so it goes first.
                if lat_distance(lat, y1) > height_m / 2.0 {
                    return None;
                }
                if distance(lon, lat, x1, lat) > width_m / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, lon, lat))
            }
        }
    }

    /// The longitude/latitude box around the shape: [min lon, min lat, max lon, max lat]
    /// (`geohashBoundingBox`).
    pub fn bounding_box(&self) -> [f64; 4] {
        let [longitude, latitude] = self.xy;
        let (height, width) = match self.kind {
            ShapeKind::Circle { radius } => (self.conversion * radius, self.conversion * radius),
            ShapeKind::Box { width, height } => (
                self.conversion * (height / 2.0),
                self.conversion * (width / 2.0),
            ),
        };
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
        // The box is a trapezoid whose wider edge is the one nearer a pole.
        let long_delta = if latitude < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            longitude - long_delta,
            latitude - lat_delta,
            longitude + long_delta,
            latitude + lat_delta,
        ]
    }

    /// The cells to scan, in Redis' order: the centre's cell, then north, south, east, west,
    /// north-east, north-west, south-east, south-west; cells that cannot hold a match are
    /// zero (`geohashCalculateAreasByShapeWGS84`).
    pub fn search_cells(&self) -> [HashBits; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let [longitude, latitude] = self.xy;
        let radius_meters = match self.kind {
            ShapeKind::Circle { radius } => radius,
            ShapeKind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps_by_radius(radius_meters, latitude);
        let cell = |steps: u8| {
            let hash = encode(WGS84_LONG, WGS84_LAT, longitude, latitude, steps)
                .expect("search centres are valid coordinates");
            let area = decode(WGS84_LONG, WGS84_LAT, hash).expect("not the zero cell");
            (hash, neighbors(hash), area)
        };
        let (mut hash, mut n, mut area) = cell(steps);

        // Near the edge of the centre cell a neighbour may not reach far enough: one step
        // coarser then.
        let area_of = |h: HashBits| decode(WGS84_LONG, WGS84_LAT, h).expect("not the zero cell");
        let decrease_step = area_of(n.north).latitude.max < max_lat
            || area_of(n.south).latitude.min > min_lat
            || area_of(n.east).longitude.max < max_lon
            || area_of(n.west).longitude.min > min_lon;
        if steps > 1 && decrease_step {
            steps -= 1;
            (hash, n, area) = cell(steps);
        }

        // Exclude the cells that cannot intersect the search area.
        if steps >= 2 {
            let zero = HashBits::default();
            if area.latitude.min < min_lat {
                (n.south, n.south_west, n.south_east) = (zero, zero, zero);
            }
            if area.latitude.max > max_lat {
                (n.north, n.north_east, n.north_west) = (zero, zero, zero);
            }
            if area.longitude.min < min_lon {
                (n.west, n.south_west, n.north_west) = (zero, zero, zero);
            }
            if area.longitude.max > max_lon {
                (n.east, n.south_east, n.north_east) = (zero, zero, zero);
            }
        }
        [
            hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }
}

/// The score range [min, max) of the points inside a cell (`scoresOfGeoHashBox`).
pub fn scores_of_cell(hash: HashBits) -> (u64, u64) {
    let min = align52(hash);
    let next = HashBits {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    };
    (min, align52(next))
}

/// The 11-character standard geohash of a point (GEOHASH): re-encoded over latitudes
/// -90..90 with 52 bits, the 11th character standing for the two missing bits as zero.
pub fn geohash_string(xy: [f64; 2]) -> Option<[u8; 11]> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let lat_range = Range {
        min: -90.0,
        max: 90.0,
    };
    let hash = encode(WGS84_LONG, lat_range, xy[0], xy[1], 26)?;
    let mut buf = [0u8; 11];
    for (i, c) in buf.iter_mut().enumerate() {
        let idx = if i == 10 {
            0
        } else {
            (hash.bits >> (52 - (i + 1) * 5)) & 0x1f
        };
        *c = ALPHABET[idx as usize];
    }
    Some(buf)
}

/// A coordinate as Redis replies it (`addReplyHumanLongDouble`): `%.17Lf` of the value with
/// the trailing zeros (and a bare dot) removed, `-0` shown as `0`.
pub fn fmt_coord(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    // The double widened to a long double is the same number, and Rust formats the exact
    // binary value rounded half to even, as glibc's printf does.
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// C's `llrint` on x86-64: round half to even, `i64::MIN` when out of range or NaN.
fn llrint(x: f64) -> i64 {
    c_double_to_i64(x.round_ties_even())
}

/// A distance as Redis replies it (`fixedpoint_d2string(.., 4)`, an `llrint` of the value
/// times 10^4 printed with four decimals).
pub fn fmt_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let s = llrint(d * 10000.0);
    let (neg, value) = if s < 0 {
        (true, s.unsigned_abs())
    } else {
        (false, s as u64)
    };
    format!(
        "{}{}.{:04}",
        if neg { "-" } else { "" },
        value / 10000,
        value % 10000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores GEOADD stored in Debian's redis-server 7.0.15 (read back with ZSCORE).
    #[test]
    fn scores_match_redis() {
        let cases: &[(f64, f64, u64)] = &[
            (13.361389, 38.115556, 3479099956230698),
            (15.087269, 37.502669, 3479447370796909),
            (0.0, 0.0, 3377699720527872),
            (-180.0, -85.05112878, 0),
            (180.0, 85.05112878, 13510798882111488),
            (-122.27652, 37.805186, 1367952638197536),
            (2.349014, 48.864716, 3663832805879806),
            (-0.000001, 0.000001, 1876499844737706),
        ];
        for &(lon, lat, score) in cases {
            assert_eq!(score_of(lon, lat), Some(score as f64), "{lon},{lat}");
        }
        assert_eq!(score_of(180.000001, 0.0), None);
        assert_eq!(score_of(0.0, 85.05112879), None);
    }

    /// Coordinates and geohashes GEOPOS / GEOHASH of redis-server 7.0.15 reply for them.
    #[test]
    fn decoding_matches_redis() {
        let cases: &[(u64, &str, &str, &str)] = &[
            (
                3479099956230698,
                "13.36138933897018433",
                "38.11555639549629859",
                "sqc8b49rny0",
            ),
            (
                3479447370796909,
                "15.08726745843887329",
                "37.50266842333162032",
                "sqdtr74hyu0",
            ),
            (
                3377699720527872,
                "0.00000268220901489",
                "0.00000126736058093",
                "s0000000000",
            ),
            (
                0,
                "-179.99999731779098511",
                "-85.05112751263942528",
                "00bh0hbj200",
            ),
            (
                13510798882111488,
                "180",
                "85.0511287799999991",
                "bp05b5048p0",
            ),
            (
                1367952638197536,
                "-122.27652043104171753",
                "37.80518485897756165",
                "9q9p1d0znt0",
            ),
            (
                1876499844737706,
                "-0.00000268220901489",
                "0.00000126736058093",
                "ebpbpbpbpb0",
            ),
        ];
        for &(score, lon, lat, hash) in cases {
            let xy = decode_score(score as f64);
            assert_eq!(
                (fmt_coord(xy[0]).as_str(), fmt_coord(xy[1]).as_str()),
                (lon, lat)
            );
            assert_eq!(&geohash_string(xy).unwrap(), hash.as_bytes(), "{score}");
        }
    }

    #[test]
    fn interleaving_round_trips() {
        for (x, y) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (u32::MAX, 0),
            (0x1234_5678, 0x9abc_def0),
        ] {
            let v = interleave64(x, y);
            assert_eq!(deinterleave64(v), (x as u64) | ((y as u64) << 32));
        }
        assert_eq!(interleave64(1, 0), 1);
        assert_eq!(interleave64(0, 1), 2);
    }

    #[test]
    fn neighbors_wrap_and_move_one_cell() {
        let h = encode_wgs84(0.0, 0.0, 1).unwrap();
        // Step 1: four cells; the centre (0,0) is in the north-east one (lat bit 1, lon bit 1).
        assert_eq!(h.bits, 0b11);
        let n = neighbors(h);
        assert_eq!(
            n.east.bits, 0b01,
            "east of the east column wraps to the west one"
        );
        assert_eq!(n.west.bits, 0b01);
        assert_eq!(n.north.bits, 0b10);
        assert_eq!(n.south.bits, 0b10);
        assert_eq!(n.south_west.bits, 0b00);
        let h = encode_wgs84(13.361389, 38.115556, 10).unwrap();
        let n = neighbors(h);
        let a = decode(WGS84_LONG, WGS84_LAT, h).unwrap();
        let e = decode(WGS84_LONG, WGS84_LAT, n.east).unwrap();
        let s = decode(WGS84_LONG, WGS84_LAT, n.south).unwrap();
        assert_eq!(e.longitude.min, a.longitude.max);
        assert_eq!(e.latitude, a.latitude);
        assert_eq!(s.latitude.max, a.latitude.min);
        assert_eq!(s.longitude, a.longitude);
    }

    /// GEODIST replies of redis-server 7.0.15.
    #[test]
    fn distances_match_redis() {
        let p = decode_score(3479099956230698.0);
        let c = decode_score(3479447370796909.0);
        assert_eq!(
            fmt_distance(distance(p[0], p[1], c[0], c[1])),
            "166274.1516"
        );
        assert_eq!(
            fmt_distance(distance(p[0], p[1], c[0], c[1]) / 1000.0),
            "166.2742"
        );
        assert_eq!(
            fmt_distance(distance(p[0], p[1], c[0], c[1]) / 1609.34),
            "103.3182"
        );
        assert_eq!(
            fmt_distance(distance(p[0], p[1], c[0], c[1]) / 0.3048),
            "545518.8700"
        );
        assert_eq!(fmt_distance(distance(p[0], p[1], p[0], p[1])), "0.0000");
        // On one meridian Redis measures along it: the plain haversine formula would say
        // 33543792.2943, 37592645.2693 and 52548366.3234 feet.
        for (lon, lat1, lat2, feet) in [
            (
                96.91122171869182,
                71.92610214280666,
                -19.995933429316636,
                "33543792.2942",
            ),
            (
                72.29762740544618,
                24.28611272410849,
                -78.731233189299,
                "37592645.2694",
            ),
            (
                145.07111388541034,
                -79.42446965246036,
                64.57692132993381,
                "52548366.3233",
            ),
        ] {
            let a = decode_score(score_of(lon, lat1).unwrap());
            let b = decode_score(score_of(lon, lat2).unwrap());
            assert_eq!(
                fmt_distance(distance(a[0], a[1], b[0], b[1]) / 0.3048),
                feet
            );
        }
        assert_eq!(fmt_distance(0.00005), "0.0000");
        // 0.00015 is a little less in binary: llrint(1.4999...) = 1.
        assert_eq!(fmt_distance(0.00015), "0.0001");
        // The product rounds to 2.5 exactly, and llrint rounds half to even (where "%.4f"
        // of the exact binary value would say 0.0003).
        assert_eq!(fmt_distance(0.00025), "0.0002");
        assert_eq!(fmt_distance(12.5), "12.5000");
    }

    #[test]
    fn steps_by_radius() {
        assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
        assert_eq!(estimate_steps_by_radius(1.0, 0.0), 24);
        assert_eq!(estimate_steps_by_radius(1000.0, 0.0), 14);
        assert_eq!(estimate_steps_by_radius(1000.0, 70.0), 13);
        assert_eq!(estimate_steps_by_radius(1000.0, -81.0), 12);
        assert_eq!(estimate_steps_by_radius(5_000_000.0, 0.0), 2);
        assert_eq!(estimate_steps_by_radius(25_000_000.0, 0.0), 1);
        assert_eq!(estimate_steps_by_radius(f64::INFINITY, 0.0), 1);
    }

    #[test]
    fn coordinates_format_like_redis() {
        assert_eq!(fmt_coord(-0.0), "0");
        assert_eq!(fmt_coord(12.0), "12");
        assert_eq!(fmt_coord(0.5), "0.5");
        assert_eq!(fmt_coord(-1e-20), "0");
    }

    #[test]
    fn c_conversions() {
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
        assert_eq!(c_double_to_u64(1.5), 1);
        assert_eq!(c_double_to_u64(1e19), 10000000000000000000);
        assert_eq!(c_double_to_u64(f64::INFINITY), 0);
        assert_eq!(c_double_to_i64(f64::NAN), i64::MIN);
        assert_eq!(llrint(2.5), 2);
        assert_eq!(llrint(3.5), 4);
    }
}
