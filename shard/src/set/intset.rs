//! The `intset` encoding: a sorted array of integers in the narrowest width that holds them
//! all (16, 32 or 64 bits), as Redis' intset.c. The width only ever grows (Redis never
//! downgrades an intset either), and the array is sized exactly, one reallocation per change.

/// A sorted set of integers.
#[derive(Clone, Debug)]
pub enum IntSet {
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

impl Default for IntSet {
    fn default() -> IntSet {
        IntSet::I16(Vec::new())
    }
}

/// Inserts `v` into the sorted `vec` unless present; true if it was added.
fn insert_sorted<T: Ord + Copy>(vec: &mut Vec<T>, v: T) -> bool {
    match vec.binary_search(&v) {
        Ok(_) => false,
        Err(pos) => {
            vec.reserve_exact(1);
            vec.insert(pos, v);
            true
        }
    }
}

fn remove_sorted<T: Ord + Copy>(vec: &mut Vec<T>, v: T) -> bool {
    match vec.binary_search(&v) {
        Ok(pos) => {
            vec.remove(pos);
            vec.shrink_to_fit();
            true
        }
        Err(_) => false,
    }
}

impl IntSet {
    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            IntSet::I16(v) => v.len(),
            IntSet::I32(v) => v.len(),
            IntSet::I64(v) => v.len(),
        }
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `x` is a member.
    pub fn contains(&self, x: i64) -> bool {
        match self {
            IntSet::I16(v) => i16::try_from(x).is_ok_and(|x| v.binary_search(&x).is_ok()),
            IntSet::I32(v) => i32::try_from(x).is_ok_and(|x| v.binary_search(&x).is_ok()),
            IntSet::I64(v) => v.binary_search(&x).is_ok(),
        }
    }

    /// Adds `x`, widening the array when `x` does not fit its width; true if it was new.
    pub fn insert(&mut self, x: i64) -> bool {
        self.widen_for(x);
        match self {
            IntSet::I16(v) => insert_sorted(v, x as i16),
            IntSet::I32(v) => insert_sorted(v, x as i32),
            IntSet::I64(v) => insert_sorted(v, x),
        }
    }

    /// Converts to the narrowest width that holds `x` as well as the current members.
    fn widen_for(&mut self, x: i64) {
        let needed = if i16::try_from(x).is_ok() {
            0
        } else if i32::try_from(x).is_ok() {
            1
        } else {
            2
        };
        let current = match self {
            IntSet::I16(_) => 0,
            IntSet::I32(_) => 1,
            IntSet::I64(_) => 2,
        };
        if needed <= current {
            return;
        }
        let all: Vec<i64> = self.iter().collect();
        *self = if needed == 1 {
            IntSet::I32(all.into_iter().map(|v| v as i32).collect())
        } else {
            IntSet::I64(all)
        };
    }

    /// Removes `x`; true if it was a member.
    pub fn remove(&mut self, x: i64) -> bool {
        match self {
            IntSet::I16(v) => i16::try_from(x).is_ok_and(|x| remove_sorted(v, x)),
            IntSet::I32(v) => i32::try_from(x).is_ok_and(|x| remove_sorted(v, x)),
            IntSet::I64(v) => remove_sorted(v, x),
        }
    }

    /// The member at `i` in ascending order.
    pub fn get(&self, i: usize) -> i64 {
        match self {
            IntSet::I16(v) => v[i] as i64,
            IntSet::I32(v) => v[i] as i64,
            IntSet::I64(v) => v[i],
        }
    }

    /// Removes the member at `i` (ascending order) and returns it.
    pub fn remove_at(&mut self, i: usize) -> i64 {
        let x = self.get(i);
        self.remove(x);
        x
    }

    /// The smallest member.
    pub fn min(&self) -> Option<i64> {
        (!self.is_empty()).then(|| self.get(0))
    }

    /// The largest member.
    pub fn max(&self) -> Option<i64> {
        (!self.is_empty()).then(|| self.get(self.len() - 1))
    }

    /// The members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Heap bytes held.
    pub fn heap_size(&self) -> usize {
        match self {
            IntSet::I16(v) => v.capacity() * 2,
            IntSet::I32(v) => v.capacity() * 4,
            IntSet::I64(v) => v.capacity() * 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_once_and_stays_sorted() {
        let mut s = IntSet::default();
        assert!(s.insert(5) && s.insert(-3) && !s.insert(5));
        assert!(matches!(s, IntSet::I16(_)));
        assert!(s.insert(100_000));
        assert!(matches!(s, IntSet::I32(_)));
        assert!(s.insert(i64::MIN));
        assert!(matches!(s, IntSet::I64(_)));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, -3, 5, 100_000]);
        assert!(s.remove(i64::MIN) && !s.remove(i64::MIN));
        assert!(matches!(s, IntSet::I64(_)), "never narrows, as Redis");
        assert!(s.contains(-3) && !s.contains(4));
        assert_eq!((s.min(), s.max()), (Some(-3), Some(100_000)));
        assert_eq!(s.remove_at(0), -3);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn lookups_outside_the_width_miss() {
        let mut s = IntSet::default();
        s.insert(1);
        assert!(!s.contains(1 << 40) && !s.remove(1 << 40));
    }
}
