//! Where the memory goes: the breakdown MEMORY STATS, MEMORY DOCTOR and INFO memory report,
//! in Redis' terms (`getMemoryOverheadData`). `used_memory` counts every allocation of the
//! process (see `memory`); the overhead is what is not the data set: what the server held
//! before loading data, replication buffers, clients' buffers, scripts, the key tables; the
//! data set is the rest.
//!
//! Differences from Redis, by design: Lua's states allocate through the same allocator as
//! everything else, so they are inside `used_memory` and counted as overhead (Redis keeps
//! Lua outside `used_memory`); expiry times live in the key's entry, so there is no expires
//! table (`overhead.hashtable.expires` is 0); the allocator's active bytes are what mimalloc
//! committed, as far as it is resident (mimalloc commits arena space ahead, which Linux backs
//! only once touched), and the process' RSS stands for its resident bytes.

use crate::local::Local;

/// What one executor holds besides its data, gathered on its thread.
#[derive(Clone, Debug, Default)]
pub struct ShardMemory {
    /// Per database: keys, bytes of its key table.
    pub dbs: Vec<(usize, usize)>,
    /// Clients served here, and their query buffers plus pending pub/sub messages.
    pub clients: usize,
    pub client_buffers: usize,
    /// This thread's Lua states: EVAL's, FUNCTION's.
    pub lua: (usize, usize),
}

impl ShardMemory {
    /// Runs on the executor's own thread (`call_all`).
    pub fn of(l: &Local) -> ShardMemory {
        let shard = l.shard_ref();
        let clients = l.clients.borrow();
        let client_buffers = clients
            .values()
            .map(|c| {
                let mailbox = c.mailbox.borrow().upgrade();
                c.qbuf.get() + mailbox.map_or(0, |m| m.queued_bytes())
            })
            .sum();
        ShardMemory {
            dbs: shard
                .dbs
                .iter()
                .map(|d| (d.len(), d.table_bytes()))
                .collect(),
            clients: clients.len(),
            client_buffers,
            lua: crate::scripting::thread_vm_memory(),
        }
    }
}

/// The whole server's breakdown.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub peak: u64,
    pub total: u64,
    pub startup: u64,
    /// The replication backlog, and stream bytes held beyond it for slow replicas.
    pub backlog: u64,
    pub replica_buffers: u64,
    pub replicas: usize,
    pub clients: usize,
    pub client_buffers: u64,
    /// EVAL scripts cached (count, bytes of their bodies) and function libraries (count of
    /// libraries, of functions, bytes of their code).
    pub scripts: (usize, u64),
    pub functions: (usize, usize, u64),
    /// Lua states of every thread: EVAL's, FUNCTION's.
    pub lua: (u64, u64),
    /// Non-empty databases: index, keys, key-table bytes.
    pub dbs: Vec<(usize, u64, u64)>,
    pub rss: u64,
    /// The allocator's active bytes (see the module's comment).
    pub committed: u64,
}

impl Report {
    pub fn new(local: &Local, shards: &[ShardMemory]) -> Report {
        let leader = &local.shared.leader;
        let (backlog, replica_buffers, replicas) = if leader.is_on() {
            leader.memory(local.shared.config().repl_backlog_size)
        } else {
            (0, 0, 0)
        };
        let store = &local.shared.scripts.store;
        let (scripts, script_bytes) = store.script_stats();
        let (libraries, functions) = store.function_counts();
        // Every shard has the same databases: summed by index.
        let databases = shards.first().map_or(0, |s| s.dbs.len());
        let mut dbs: Vec<(usize, u64, u64)> = (0..databases).map(|i| (i, 0, 0)).collect();
        for (i, &(keys, table)) in shards.iter().flat_map(|s| s.dbs.iter().enumerate()) {
            dbs[i].1 += keys as u64;
            dbs[i].2 += table as u64;
        }
        dbs.retain(|d| d.1 > 0);
        let sum = |f: fn(&ShardMemory) -> usize| shards.iter().map(f).sum::<usize>() as u64;
        let rss = crate::memory::rss();
        Report {
            peak: crate::memory::peak(),
            total: crate::memory::used(),
            startup: crate::memory::startup(),
            backlog,
            replica_buffers,
            replicas,
            clients: shards.iter().map(|s| s.clients).sum(),
            client_buffers: sum(|s| s.client_buffers),
            scripts: (scripts, script_bytes as u64),
            functions: (libraries, functions, store.function_bytes() as u64),
            lua: (sum(|s| s.lua.0), sum(|s| s.lua.1)),
            dbs,
            rss,
            committed: crate::memory::committed().min(rss),
        }
    }

    /// Everything that is not the data set.
    pub fn overhead(&self) -> u64 {
        self.startup
            + self.backlog
            + self.replica_buffers
            + self.client_buffers
            + self.scripts.1
            + self.functions.2
            + self.lua.0
            + self.lua.1
            + self.dbs.iter().map(|d| d.2).sum::<u64>()
    }

    pub fn keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.1).sum()
    }

    pub fn dataset(&self) -> u64 {
        self.total.saturating_sub(self.overhead())
    }

    /// What the server holds beyond its start-up needs.
    fn net(&self) -> u64 {
        self.total.saturating_sub(self.startup)
    }

    pub fn dataset_percent(&self) -> f64 {
        percent(self.dataset(), self.net())
    }

    pub fn peak_percent(&self) -> f64 {
        percent(self.total, self.peak)
    }

    /// The fragmentation measures, in INFO's order and names (MEMORY STATS names them
    /// differently): (name, ratio, bytes) for the allocator's own overhead (committed over
    /// allocated), the resident part of what it committed, and the process over the
    /// allocator (code, stacks, rings' buffers), then RSS over used memory.
    pub fn fragmentation(&self) -> [(&'static str, f64, i64); 4] {
        let measure = |name, a: u64, b: u64| {
            let ratio = if b == 0 { 0.0 } else { a as f64 / b as f64 };
            (name, ratio, a as i64 - b as i64)
        };
        let resident = self.rss;
        [
            measure("allocator_frag", self.committed, self.total),
            measure("allocator_rss", resident, self.committed),
            measure("rss_overhead", self.rss, resident),
            measure("mem_fragmentation", self.rss, self.total),
        ]
    }

    /// MEMORY STATS: Redis' map, field for field.
    pub fn write_stats(&self, out: &mut shard::Reply) {
        out.map(27 + self.dbs.len());
        let int = |out: &mut shard::Reply, name: &str, v: u64| {
            out.bulk(name.as_bytes());
            out.int(v as i64);
        };
        let real = |out: &mut shard::Reply, name: &str, v: f64| {
            out.bulk(name.as_bytes());
            out.double(v);
        };
        int(out, "peak.allocated", self.peak);
        int(out, "total.allocated", self.total);
        int(out, "startup.allocated", self.startup);
        int(out, "replication.backlog", self.backlog);
        int(out, "clients.slaves", self.replica_buffers);
        int(out, "clients.normal", self.client_buffers);
        int(out, "cluster.links", 0);
        int(out, "aof.buffer", 0);
        int(out, "lua.caches", self.scripts.1);
        int(out, "functions.caches", self.functions.2);
        for &(db, _, table) in &self.dbs {
            out.bulk(format!("db.{db}").as_bytes());
            out.map(3);
            int(out, "overhead.hashtable.main", table);
            int(out, "overhead.hashtable.expires", 0);
            int(out, "overhead.hashtable.slot-to-keys", 0);
        }
        int(out, "overhead.total", self.overhead());
        int(out, "keys.count", self.keys());
        let per_key = self.net().checked_div(self.keys()).unwrap_or(0);
        int(out, "keys.bytes-per-key", per_key);
        int(out, "dataset.bytes", self.dataset());
        real(out, "dataset.percentage", self.dataset_percent());
        real(out, "peak.percentage", self.peak_percent());
        int(out, "allocator.allocated", self.total);
        int(out, "allocator.active", self.committed);
        int(out, "allocator.resident", self.rss);
        let names = [
            "allocator-fragmentation",
            "allocator-rss",
            "rss-overhead",
            "fragmentation",
        ];
        for (name, (_, ratio, bytes)) in names.into_iter().zip(self.fragmentation()) {
            let ratio_name = if name == "fragmentation" {
                name.to_string()
            } else {
                format!("{name}.ratio")
            };
            real(out, &ratio_name, ratio);
            out.bulk(format!("{name}.bytes").as_bytes());
            out.int(bytes);
        }
    }

    /// MEMORY DOCTOR: Redis' checks, on these numbers.
    pub fn doctor(&self) -> String {
        const MB: u64 = 1 << 20;
        if self.total < 5 * MB {
            return "Hi Sam, this instance is empty or is using very little memory, my issues \
                    detector can't be used in these conditions. Please, leave for your mission \
                    on Earth and fill it with some data. The new Sam and I will be back to our \
                    programming as soon as I finished rebooting.\n"
                .into();
        }
        let mut found = Vec::new();
        if self.peak as f64 / self.total as f64 > 1.5 {
            found.push(
                " * Peak memory: In the past this instance used more than 150% the memory that \
                 is currently using. The allocator is normally not able to release memory after \
                 a peak, so you can expect to see a big fragmentation ratio, however this is \
                 actually harmless and is only due to the memory peak, and if the instance \
                 Resident Set Size (RSS) is currently bigger than expected, the memory will be \
                 used as soon as you fill the instance with more data. If the memory peak was \
                 only occasional and you want to try to reclaim memory, please try the MEMORY \
                 PURGE command, otherwise the only other option is to shutdown and restart the \
                 instance.\n\n",
            );
        }
        let frag = self.rss as f64 / self.total as f64;
        if frag > 1.4 && self.rss.saturating_sub(self.total) > 10 * MB {
            found.push(
                " * High total RSS: This instance has a memory fragmentation and RSS overhead \
                 greater than 1.4 (this means that the Resident Set Size of the process is much \
                 larger than the sum of the logical allocations the server performed). This \
                 problem is usually due either to a large peak memory (check if there is a peak \
                 memory entry above in the report) or may result from a workload that causes \
                 the allocator to fragment memory a lot. If the problem is a large peak memory, \
                 then there is no issue. Otherwise, MEMORY PURGE returns freed pages to the \
                 system at once. Note: The currently used allocator is \"mimalloc\".\n\n",
            );
        }
        let normal = self.clients.saturating_sub(self.replicas) as u64;
        if normal > 0 && self.client_buffers / normal > 200 * 1024 {
            found.push(
                " * Big client buffers: The clients output buffers in this instance are greater \
                 than 200K per client (on average). This may result from different causes, like \
                 Pub/Sub clients subscribed to channels bot not receiving data fast enough, so \
                 that data piles on the output buffer, or clients sending commands with large \
                 replies or very large sequences of commands in the same pipeline. Please use \
                 the CLIENT LIST command in order to investigate the issue if it causes problems \
                 in your instance, or to understand better why certain clients are using a big \
                 amount of memory.\n\n",
            );
        }
        if self.replicas > 0 && self.replica_buffers > 10 * MB {
            found.push(
                " * Big replica buffers: The replica output buffers in this instance are \
                 greater than 10MB for each replica (on average). This likely means that there \
                 is some replica instance that is struggling receiving data, either because it \
                 is too slow or because of networking issues. As a result, data piles on the \
                 master output buffers. Please try to identify what replica is not receiving \
                 data correctly and why. You can use the INFO output in order to check the \
                 replicas delays and the CLIENT LIST command to check the output buffers of \
                 each replica.\n\n",
            );
        }
        if self.scripts.0 > 1000 {
            found.push(
                " * Many scripts: There seem to be many cached scripts in this instance (more \
                 than 1000). This may be because scripts are generated and `EVAL`ed, instead of \
                 being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. \
                 Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up \
                 consuming most of your memory.\n\n",
            );
        }
        if found.is_empty() {
            return "Hi Sam, I can't find any memory issue in your instance. I can only account \
                    for what occurs on this base.\n"
                .into();
        }
        let mut s =
            String::from("Sam, I detected a few issues in this instance memory implants:\n\n");
        for f in found {
            s.push_str(f);
        }
        s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
        s
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Gathers the report from every executor.
pub async fn gather(local: &std::rc::Rc<Local>) -> Report {
    let shards = local.call_all(|l| ShardMemory::of(l)).await;
    Report::new(local, &shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    fn report() -> Report {
        Report {
            peak: 100 * MB,
            total: 80 * MB,
            startup: MB,
            dbs: vec![(0, 1000, 4 * MB)],
            clients: 2,
            client_buffers: 1000,
            rss: 90 * MB,
            committed: 85 * MB,
            ..Report::default()
        }
    }

    #[test]
    fn overhead_and_dataset_add_up() {
        let r = report();
        assert_eq!(r.overhead(), MB + 1000 + 4 * MB);
        assert_eq!(r.dataset() + r.overhead(), r.total);
        assert_eq!(r.keys(), 1000);
        assert!((r.peak_percent() - 80.0).abs() < 1e-9);
    }

    #[test]
    fn doctor_names_what_it_finds() {
        let r = report();
        assert!(r
            .doctor()
            .starts_with("Hi Sam, I can't find any memory issue"));
        let empty = Report {
            total: MB,
            ..report()
        };
        assert!(empty
            .doctor()
            .contains("empty or is using very little memory"));
        let peaked = Report {
            peak: 200 * MB,
            rss: 200 * MB,
            ..report()
        };
        let text = peaked.doctor();
        assert!(text.contains("* Peak memory"), "{text}");
        assert!(text.contains("* High total RSS"), "{text}");
        assert!(text.ends_with("I want to help you.\n"));
        let buffers = Report {
            client_buffers: 2 * 300 * 1024,
            ..report()
        };
        assert!(buffers.doctor().contains("* Big client buffers"));
    }
}
