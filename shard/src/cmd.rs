//! A parsed request: the arguments of one command, as slices of the frame it arrived in.
//!
//! The frame is a reference-counted `Bytes` cut out of the connection's read buffer, so a
//! command can travel to another shard without copying its arguments (a 100 MB SET is not
//! copied on its way to the owning shard).

use bytes::Bytes;
use smallvec::SmallVec;
use std::ops::Index;

/// Offsets of one argument inside the frame.
type Span = (u32, u32);

#[derive(Clone)]
pub struct Cmd {
    frame: Bytes,
    spans: SmallVec<[Span; 5]>,
}

impl Cmd {
    /// Builds a command from a frame and the spans of its arguments in it.
    /// Spans must lie inside the frame (the parser guarantees it).
    pub fn from_spans(frame: Bytes, spans: SmallVec<[Span; 5]>) -> Cmd {
        debug_assert!(spans
            .iter()
            .all(|&(s, e)| s <= e && e as usize <= frame.len()));
        Cmd { frame, spans }
    }

    /// Builds a command from argument slices (copies them into one frame).
    pub fn from_args<A: AsRef<[u8]>>(args: &[A]) -> Cmd {
        let total: usize = args.iter().map(|a| a.as_ref().len()).sum();
        let mut buf = Vec::with_capacity(total);
        let mut spans = SmallVec::with_capacity(args.len());
        for a in args {
            let start = buf.len() as u32;
            buf.extend_from_slice(a.as_ref());
            spans.push((start, buf.len() as u32));
        }
        Cmd {
            frame: Bytes::from(buf),
            spans,
        }
    }

    /// Number of arguments, the command name included.
    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    #[inline]
    pub fn arg(&self, i: usize) -> &[u8] {
        let (s, e) = self.spans[i];
        &self.frame[s as usize..e as usize]
    }

    /// The argument as a reference-counted slice of the frame (no copy).
    pub fn arg_bytes(&self, i: usize) -> Bytes {
        let (s, e) = self.spans[i];
        self.frame.slice(s as usize..e as usize)
    }

    pub fn args(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.spans
            .iter()
            .map(move |&(s, e)| &self.frame[s as usize..e as usize])
    }

    /// A new command made of the name and a subset of this command's arguments (no copy).
    /// Used to split a multi-key command into per-shard parts.
    pub fn select(&self, idx: impl IntoIterator<Item = usize>) -> Cmd {
        Cmd {
            frame: self.frame.clone(),
            spans: idx.into_iter().map(|i| self.spans[i]).collect(),
        }
    }

    /// Bytes held by the frame (for client-query-buffer accounting).
    pub fn frame_len(&self) -> usize {
        self.frame.len()
    }
}

impl Index<usize> for Cmd {
    type Output = [u8];
    #[inline]
    fn index(&self, i: usize) -> &[u8] {
        self.arg(i)
    }
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.args().map(String::from_utf8_lossy))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_shares_the_frame() {
        let c = Cmd::from_args(&["MSET", "a", "1", "b", "2"]);
        let sub = c.select([0, 3, 4]);
        assert_eq!(sub.len(), 3);
        assert_eq!(&sub[1], b"b");
        assert_eq!(&sub[2], b"2");
        assert_eq!(sub.arg_bytes(1).as_ptr(), c.arg_bytes(3).as_ptr());
    }
}
