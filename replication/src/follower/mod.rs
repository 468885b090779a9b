//! The follower's side of Redis' replication protocol, without I/O: the handshake's reply
//! lines, the framing of the RDB transfer, and the offsets of the command stream. The server
//! (`server/src/follower/`) reads the socket and feeds these.

pub mod line;
pub mod offsets;
pub mod reply;
pub mod transfer;

/// Bytes of a replication id (Redis' `CONFIG_RUN_ID_SIZE`): 40 hex digits.
pub const REPLID_LEN: usize = 40;

/// Where the follower is in the data set of a master: its replication id and the offset of
/// the last byte of its stream applied here. A reconnect asks to continue from it (PSYNC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The master's replication id.
    pub replid: String,
    /// The offset of the last byte applied.
    pub offset: u64,
}

/// The link with the master, in the words of ROLE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Waiting to connect (after REPLICAOF, between attempts).
    Connect,
    /// The TCP connection is being made.
    Connecting,
    /// PING, AUTH, REPLCONF and PSYNC are being exchanged.
    Handshake,
    /// The master's RDB is being received and loaded.
    Transfer,
    /// Applying the master's command stream.
    Connected,
}

impl LinkState {
    /// ROLE's name for the state (Redis' `replstateToString` for ROLE).
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// One command in RESP (a multibulk of bulk strings), as a replica sends them to its master.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = Vec::new();
    shard::effects::encode_command(&mut out, args.iter());
    out
}

/// The PSYNC request: continue after `cursor` (`PSYNC <replid> <offset+1>`), or a full
/// synchronization when there is nothing to continue from (`PSYNC ? -1`).
pub fn psync_command(cursor: Option<&Cursor>) -> Vec<u8> {
    match cursor {
        Some(c) => encode_command(&[
            "PSYNC".to_string(),
            c.replid.clone(),
            (c.offset + 1).to_string(),
        ]),
        None => encode_command(&["PSYNC", "?", "-1"]),
    }
}

/// `REPLCONF ACK <offset>`: how far the follower applied the stream.
pub fn ack_command(offset: u64) -> Vec<u8> {
    encode_command(&["REPLCONF".to_string(), "ACK".into(), offset.to_string()])
}

/// A fresh replication id (40 lowercase hex digits) from `seed` (splitmix64 steps: the id
/// only has to differ from every other id the data set had).
pub fn random_replid(seed: u64) -> String {
    let mut s = seed;
    let mut out = String::with_capacity(REPLID_LEN);
    while out.len() < REPLID_LEN {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.push_str(&format!("{z:016x}"));
    }
    out.truncate(REPLID_LEN);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_resp_multibulks() {
        assert_eq!(encode_command(&["PING"]), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            psync_command(None),
            b"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n"
        );
        let c = Cursor {
            replid: "a".repeat(40),
            offset: 99,
        };
        let expected = format!(
            "*3\r\n$5\r\nPSYNC\r\n$40\r\n{}\r\n$3\r\n100\r\n",
            "a".repeat(40)
        );
        assert_eq!(psync_command(Some(&c)), expected.as_bytes());
        assert_eq!(
            ack_command(1234),
            b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$4\r\n1234\r\n"
        );
    }

    #[test]
    fn replids_are_forty_hex_digits_and_differ() {
        let a = random_replid(1);
        let b = random_replid(2);
        assert_eq!(a.len(), REPLID_LEN);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn role_names_are_redis_words() {
        let names: Vec<_> = [
            LinkState::Connect,
            LinkState::Connecting,
            LinkState::Handshake,
            LinkState::Transfer,
            LinkState::Connected,
        ]
        .iter()
        .map(|s| s.role_name())
        .collect();
        assert_eq!(
            names,
            ["connect", "connecting", "handshake", "sync", "connected"]
        );
    }
}
