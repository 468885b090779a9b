//! Offsets of the master's command stream, counted as Redis' replica counts them: the
//! applied offset (`slave_repl_offset`, what REPLCONF ACK reports) moves by the bytes of
//! each whole command once it ran, except inside a MULTI, whose commands count only once
//! its EXEC ran (so a link lost mid-transaction resumes before its MULTI, and the master
//! sends the whole transaction again).

/// Where the stream is, in master offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamOffsets {
    /// The end of the last whole command parsed.
    position: u64,
    /// Where the MULTI whose EXEC has not come yet starts.
    open_multi: Option<u64>,
}

impl StreamOffsets {
    /// Offsets continuing after `applied` (the last byte applied).
    pub fn new(applied: u64) -> StreamOffsets {
        StreamOffsets {
            position: applied,
            open_multi: None,
        }
    }

    /// A command of `len` bytes named `name` is next (call once it is queued to run; what
    /// is queued counts once it ran, see [`applied`](Self::applied)).
    pub fn command(&mut self, name: &[u8], len: u64) {
        if name.eq_ignore_ascii_case(b"multi") {
            self.open_multi.get_or_insert(self.position);
        } else if name.eq_ignore_ascii_case(b"exec") || name.eq_ignore_ascii_case(b"discard") {
            self.open_multi = None;
        }
        self.position += len;
    }

    /// Bytes that are not a command (an empty line, `*0`): counted, nothing to run.
    pub fn skip(&mut self, len: u64) {
        self.position += len;
    }

    /// The applied offset, once every command passed to [`command`](Self::command) ran.
    pub fn applied(&self) -> u64 {
        self.open_multi.unwrap_or(self.position)
    }

    /// Whether a MULTI is open (its commands are not counted yet).
    pub fn in_multi(&self) -> bool {
        self.open_multi.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_count_their_bytes() {
        let mut o = StreamOffsets::new(100);
        assert_eq!(o.applied(), 100);
        o.command(b"SET", 30);
        o.skip(1);
        assert_eq!(o.applied(), 131);
    }

    #[test]
    fn a_transaction_counts_at_its_exec() {
        let mut o = StreamOffsets::new(0);
        o.command(b"select", 20);
        o.command(b"MULTI", 15);
        o.command(b"SET", 30);
        assert!(o.in_multi());
        assert_eq!(o.applied(), 20, "before the MULTI while it is open");
        o.command(b"INCR", 25);
        o.command(b"Exec", 14);
        assert!(!o.in_multi());
        assert_eq!(o.applied(), 104);
        o.command(b"multi", 15);
        o.command(b"DEL", 20);
        o.command(b"DISCARD", 17);
        assert_eq!(o.applied(), 156);
    }

    #[test]
    fn a_nested_multi_keeps_the_first_start() {
        let mut o = StreamOffsets::new(0);
        o.command(b"MULTI", 15);
        o.command(b"MULTI", 15);
        assert_eq!(o.applied(), 0);
        o.command(b"EXEC", 14);
        assert_eq!(o.applied(), 44);
    }
}
