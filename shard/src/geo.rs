//! Geo (geo.c, geohash.c in Redis): points stored as 52-bit geohash scores in sorted sets.
