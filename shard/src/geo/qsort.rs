//! The two sorts that order Redis' geo replies, reproduced so that results at equal
//! distances come out in Redis' order too.
//!
//! A full sort is glibc's `qsort`, a top-down merge sort (stable); `COUNT n` without `ANY`
//! sorts only the first n with Redis' `pqsort`, a partial Bentley-McIlroy quicksort (not
//! stable: equal distances end up in an order that depends on its exact steps). Comparators
//! return <0, 0, >0 like C's.

use std::cmp::min;

/// glibc's `qsort` (`msort_with_tmp`): returns `v` sorted, equal elements in input order.
pub fn msort<T>(v: Vec<T>, cmp: &impl Fn(&T, &T) -> i32) -> Vec<T> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    let mut tmp = vec![0; v.len()];
    msort_rec(&mut order, &mut tmp, &v, cmp);
    let mut slots: Vec<Option<T>> = v.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|i| slots[i].take().expect("a permutation"))
        .collect()
}

fn msort_rec<T>(b: &mut [usize], tmp: &mut [usize], v: &[T], cmp: &impl Fn(&T, &T) -> i32) {
    let n = b.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    let (b1, b2) = b.split_at_mut(n1);
    msort_rec(b1, tmp, v, cmp);
    msort_rec(b2, tmp, v, cmp);
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < b1.len() && j < b2.len() {
        if cmp(&v[b1[i]], &v[b2[j]]) <= 0 {
            tmp[k] = b1[i];
            i += 1;
        } else {
            tmp[k] = b2[j];
            j += 1;
        }
        k += 1;
    }
    while i < b1.len() {
        tmp[k] = b1[i];
        i += 1;
        k += 1;
    }
    // What is left of the second half is already in place at the end.
    b[..k].copy_from_slice(&tmp[..k]);
}

/// Redis' `pqsort(a, n, es, cmp, lrange, rrange)`: sorts enough of `a` that positions
/// `lrange..=rrange` hold what a full sort would put there.
pub fn pqsort<T>(a: &mut [T], cmp: &impl Fn(&T, &T) -> i32, lrange: usize, rrange: usize) {
    let n = a.len();
    pq(a, 0, n, cmp, lrange, rrange);
}

fn med3<T>(a: &[T], x: usize, y: usize, z: usize, cmp: &impl Fn(&T, &T) -> i32) -> usize {
    if cmp(&a[x], &a[y]) < 0 {
        if cmp(&a[y], &a[z]) < 0 {
            y
        } else if cmp(&a[x], &a[z]) < 0 {
            z
        } else {
            x
        }
    } else if cmp(&a[y], &a[z]) > 0 {
        y
    } else if cmp(&a[x], &a[z]) < 0 {
        x
    } else {
        z
    }
}

/// Swaps the `n` elements at `x` with the `n` at `y`, pairwise in order (`vecswap`).
fn vecswap<T>(a: &mut [T], x: usize, y: usize, n: usize) {
    for i in 0..n {
        a.swap(x + i, y + i);
    }
}

/// `_pqsort` on `a[base..base + n]`, with positions as indexes instead of pointers.
fn pq<T>(
    a: &mut [T],
    mut base: usize,
    mut n: usize,
    cmp: &impl Fn(&T, &T) -> i32,
    lrange: usize,
    rrange: usize,
) {
    // A part is sorted only if it overlaps lrange..=rrange.
    let wanted = |start: usize, len: usize| !(rrange < start || lrange >= start + len);
    loop {
        if n < 7 {
            for pm in base + 1..base + n {
                let mut pl = pm;
                while pl > base && cmp(&a[pl - 1], &a[pl]) > 0 {
                    a.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = base + n / 2;
        if n > 7 {
            let mut pl = base;
            let mut pn = base + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(a, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(a, pm - d, pm, pm + d, cmp);
                pn = med3(a, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(a, pl, pm, pn, cmp);
        }
        a.swap(base, pm);
        let (mut pa, mut pb) = (base + 1, base + 1);
        let (mut pc, mut pd) = (base + n - 1, base + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&a[pb], &a[base]);
                if c > 0 {
                    break;
                }
                if c == 0 {
                    a.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&a[pc], &a[base]);
                if c < 0 {
                    break;
                }
                if c == 0 {
                    a.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            a.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = base + n;
        let r = min(pa - base, pb - pa);
        vecswap(a, base, pb - r, r);
        let r = min(pd - pc, pn - pd - 1);
        vecswap(a, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && wanted(base, r) {
            pq(a, base, r, cmp, lrange, rrange);
        }
        let r = pd - pc;
        if r > 1 {
            base = pn - r;
            n = r;
            if wanted(base, n) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_key(a: &(i32, usize), b: &(i32, usize)) -> i32 {
        a.0.cmp(&b.0) as i32
    }

    fn sample(n: usize, seed: u64) -> Vec<(i32, usize)> {
        let mut s = seed;
        (0..n)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (((s >> 33) % 20) as i32, i)
            })
            .collect()
    }

    #[test]
    fn msort_is_a_stable_sort() {
        for n in [0, 1, 2, 7, 41, 100] {
            let v = sample(n, n as u64);
            let mut expected = v.clone();
            expected.sort_by_key(|e| e.0);
            assert_eq!(msort(v, &by_key), expected);
        }
    }

    #[test]
    fn pqsort_sorts_the_requested_prefix() {
        for n in [1usize, 5, 8, 40, 41, 200] {
            for k in [1usize, 3, 10, 50] {
                let k = k.min(n);
                let mut v = sample(n, 7 + n as u64);
                let mut keys: Vec<i32> = v.iter().map(|e| e.0).collect();
                keys.sort();
                pqsort(&mut v, &by_key, 0, k - 1);
                let got: Vec<i32> = v[..k].iter().map(|e| e.0).collect();
                assert_eq!(got, keys[..k], "n={n} k={k}");
                let mut all: Vec<usize> = v.iter().map(|e| e.1).collect();
                all.sort();
                assert_eq!(all, (0..n).collect::<Vec<_>>(), "a permutation");
            }
        }
    }
}
