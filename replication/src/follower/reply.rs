//! The master's replies during the handshake, judged as Redis' `syncWithMaster` and
//! `slaveTryPartialResynchronization` judge them.

use super::REPLID_LEN;

/// Whether the reply to the first PING lets the handshake go on: any `+` reply, or an
/// authentication error (AUTH comes next), as Redis accepts.
pub fn ping_accepted(line: &[u8]) -> bool {
    line.starts_with(b"+")
        || line.starts_with(b"-NOAUTH")
        || line.starts_with(b"-NOPERM")
        || line.starts_with(b"-ERR operation not permitted")
}

/// What the master answered to PSYNC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PsyncReply {
    /// `+FULLRESYNC <replid> <offset>`: an RDB follows, then the stream from `offset + 1`.
    /// A reply with a malformed id gives no `replid` (Redis then blanks it, so that no later
    /// PSYNC can continue from it).
    FullResync { replid: Option<String>, offset: u64 },
    /// `+CONTINUE [<replid>]`: the stream goes on from the follower's offset; the master may
    /// announce a new replication id (after a failover).
    Continue { replid: Option<String> },
    /// `-NOMASTERLINK`, `-LOADING`: the master cannot serve now; try again later.
    TryLater(String),
    /// Any other reply: the master does not do PSYNC, or something is wrong.
    Unsupported(String),
}

/// Parses the PSYNC reply line (without its line end; empty keep-alive lines are skipped
/// by the caller).
pub fn parse_psync_reply(line: &[u8]) -> PsyncReply {
    let text = String::from_utf8_lossy(line).into_owned();
    if let Some(rest) = line.strip_prefix(b"+FULLRESYNC") {
        let mut words = rest.split(|&c| c == b' ').filter(|w| !w.is_empty());
        let id = words.next();
        let offset = words.next();
        let replid = id
            .filter(|id| id.len() == REPLID_LEN && offset.is_some())
            .map(|id| String::from_utf8_lossy(id).into_owned());
        // strtoll: leading digits, 0 when there are none.
        let offset = offset.map_or(0, |o| {
            let digits: Vec<u8> = o.iter().copied().take_while(u8::is_ascii_digit).collect();
            std::str::from_utf8(&digits)
                .ok()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0)
        });
        return PsyncReply::FullResync { replid, offset };
    }
    if let Some(rest) = line.strip_prefix(b"+CONTINUE") {
        let id = rest.strip_prefix(b" ").unwrap_or(b"");
        let replid = (id.len() == REPLID_LEN).then(|| String::from_utf8_lossy(id).into_owned());
        return PsyncReply::Continue { replid };
    }
    if line.starts_with(b"-NOMASTERLINK") || line.starts_with(b"-LOADING") {
        return PsyncReply::TryLater(text);
    }
    PsyncReply::Unsupported(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_replies() {
        assert!(ping_accepted(b"+PONG"));
        assert!(ping_accepted(b"-NOAUTH Authentication required."));
        assert!(ping_accepted(b"-NOPERM this user has no permissions"));
        assert!(ping_accepted(b"-ERR operation not permitted"));
        assert!(!ping_accepted(b"-ERR unknown command"));
        assert!(!ping_accepted(b"$4"));
        assert!(!ping_accepted(b""));
    }

    #[test]
    fn fullresync() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            parse_psync_reply(format!("+FULLRESYNC {id} 1234").as_bytes()),
            PsyncReply::FullResync {
                replid: Some(id.into()),
                offset: 1234
            }
        );
        // A short id or a missing offset: no id to continue from later.
        assert_eq!(
            parse_psync_reply(b"+FULLRESYNC abc 5"),
            PsyncReply::FullResync {
                replid: None,
                offset: 5
            }
        );
        assert_eq!(
            parse_psync_reply(format!("+FULLRESYNC {id}").as_bytes()),
            PsyncReply::FullResync {
                replid: None,
                offset: 0
            }
        );
        assert_eq!(
            parse_psync_reply(format!("+FULLRESYNC {id} x").as_bytes()),
            PsyncReply::FullResync {
                replid: Some(id.into()),
                offset: 0
            }
        );
    }

    #[test]
    fn continue_with_and_without_id() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            parse_psync_reply(b"+CONTINUE"),
            PsyncReply::Continue { replid: None }
        );
        assert_eq!(
            parse_psync_reply(format!("+CONTINUE {id}").as_bytes()),
            PsyncReply::Continue {
                replid: Some(id.into())
            }
        );
        assert_eq!(
            parse_psync_reply(b"+CONTINUE short"),
            PsyncReply::Continue { replid: None }
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_psync_reply(b"-NOMASTERLINK Can't SYNC while not connected with my master"),
            PsyncReply::TryLater(
                "-NOMASTERLINK Can't SYNC while not connected with my master".into()
            )
        );
        assert!(matches!(
            parse_psync_reply(b"-LOADING Redis is loading"),
            PsyncReply::TryLater(_)
        ));
        assert!(matches!(
            parse_psync_reply(b"-ERR unknown command 'PSYNC'"),
            PsyncReply::Unsupported(_)
        ));
        assert!(matches!(
            parse_psync_reply(b"+WHAT"),
            PsyncReply::Unsupported(_)
        ));
    }
}
