//! Per-shard counters, summed across shards by INFO.

use ahash::AHashMap;

#[derive(Default, Clone, Copy)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
}

#[derive(Default, Clone)]
pub struct ShardStats {
    pub commands: u64,
    pub connections_received: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub error_replies: u64,
    pub cross_shard_hops: u64,
    pub per_command: AHashMap<&'static str, CmdStat>,
    /// Error replies by their code (`ERR`, `WRONGTYPE`...), for INFO errorstats.
    pub error_codes: AHashMap<Box<str>, u64>,
    /// Recent samples for the instantaneous_* rates: (unix ms, commands, input bytes,
    /// output bytes).
    pub samples: Vec<(u64, u64, u64, u64)>,
}

impl ShardStats {
    /// Counts a command that ran; `reply` is its reply, looked at only when it failed.
    pub fn record(&mut self, name: &'static str, usec: u64, failed: bool, reply: &[u8]) {
        self.commands += 1;
        let s = self.per_command.entry(name).or_default();
        s.calls += 1;
        s.usec += usec;
        if failed {
            s.failed += 1;
            self.count_error(reply);
        }
    }

    /// Counts a command refused before it ran (unknown, arity, authentication).
    pub fn reject(&mut self, name: Option<&'static str>, error: &[u8]) {
        if let Some(name) = name {
            self.per_command.entry(name).or_default().rejected += 1;
        }
        self.count_error(&[b"-", error].concat());
    }

    /// Counts one error reply by its code, the first word after the `-`.
    fn count_error(&mut self, reply: &[u8]) {
        self.error_replies += 1;
        let code = reply
            .strip_prefix(b"-")
            .map(|r| {
                &r[..r
                    .iter()
                    .position(|&c| c == b' ' || c == b'\r')
                    .unwrap_or(r.len())]
            })
            .unwrap_or(b"ERR");
        let code = String::from_utf8_lossy(&code[..code.len().min(64)]);
        match self.error_codes.get_mut(code.as_ref()) {
            Some(n) => *n += 1,
            None => {
                self.error_codes.insert(code.into(), 1);
            }
        }
    }

    pub fn merge(&mut self, o: &ShardStats) {
        self.commands += o.commands;
        self.connections_received += o.connections_received;
        self.rejected_connections += o.rejected_connections;
        self.net_input_bytes += o.net_input_bytes;
        self.net_output_bytes += o.net_output_bytes;
        self.error_replies += o.error_replies;
        self.cross_shard_hops += o.cross_shard_hops;
        for (k, v) in &o.error_codes {
            *self.error_codes.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.per_command {
            let s = self.per_command.entry(k).or_default();
            s.calls += v.calls;
            s.usec += v.usec;
            s.rejected += v.rejected;
            s.failed += v.failed;
        }
    }

    /// Keeps a sample of the counters (called by the shard's cron every 100 ms).
    pub fn sample(&mut self, now_ms: u64) {
        self.samples.push((
            now_ms,
            self.commands,
            self.net_input_bytes,
            self.net_output_bytes,
        ));
        if self.samples.len() > 16 {
            self.samples.remove(0);
        }
    }

    /// Commands, input bytes and output bytes per second over the sampled window (as
    /// Redis, a mean over its last samples).
    pub fn rates(&self) -> (f64, f64, f64) {
        match (self.samples.first(), self.samples.last()) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                let secs = (b.0 - a.0) as f64 / 1000.0;
                (
                    b.1.saturating_sub(a.1) as f64 / secs,
                    b.2.saturating_sub(a.2) as f64 / secs,
                    b.3.saturating_sub(a.3) as f64 / secs,
                )
            }
            _ => (0.0, 0.0, 0.0),
        }
    }

    pub fn reset(&mut self) {
        *self = ShardStats::default();
    }
}
