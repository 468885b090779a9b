//! SORT and SORT_RO (sort.c in Redis) over lists, sets and sorted sets.
