//! HyperLogLog (hyperloglog.c in Redis): PFADD, PFCOUNT, PFMERGE over string values holding
//! Redis' sparse or dense HLL representation, byte for byte.
