//! Each shard's periodic work (Redis' serverCron, per shard): active expiry, eviction while
//! memory is over `maxmemory`, and stats sampling, `hz` times a second, and handing freed memory back to the OS once the shard
//! goes quiet. Sleeps between ticks: an idle server uses no CPU.

use crate::local::{unix_ms, Local};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Entries the active expiry examines per database per tick (Redis' ACTIVE_EXPIRE_CYCLE
/// keys-per-loop is 20; we walk buckets, so examine a few more per step).
const EXPIRE_BUDGET: usize = 200;

pub async fn run(local: Rc<Local>) {
    let mut last_sample = 0;
    let mut last_collect = 0;
    let mut quiet = Quiet::default();
    loop {
        let hz = local.shared.config().hz.clamp(1, 500);
        glommio::timer::sleep(Duration::from_millis(1000 / hz as u64)).await;
        let now = unix_ms();
        if local.shared.cron_paused.load(Ordering::Relaxed) {
            continue;
        }
        {
            let mut shard = local.shard();
            if shard.active_expire {
                let timer = crate::latency::start(&local);
                for db in shard.dbs.iter_mut() {
                    // Keep going while a large share of what we looked at was expired.
                    for _ in 0..16 {
                        if db.active_expire(now, EXPIRE_BUDGET) < EXPIRE_BUDGET / 4 {
                            break;
                        }
                    }
                }
                shard.record_expired();
                crate::latency::end(&local, crate::latency::event::EXPIRE_CYCLE, timer);
            }
        }
        crate::maxmemory::evict_in_background(&local).await;
        // Expired keys' DELs, and a retry after a failed write.
        crate::aof::retry(&local);
        crate::propagate::drain_if_behind(&local);
        // Redis samples every 100 ms and averages the last 16 samples.
        if now >= last_sample + 100 {
            last_sample = now;
            local.stats.borrow_mut().sample(now);
        }
        if now >= last_collect + 1000 {
            last_collect = now;
            if local.id == 0 {
                crate::aof_rewrite::maybe_start(&local).await;
                crate::leader::cron(&local, now / 1000);
                crate::rdb_save::maybe_save(&local).await;
            }
            if quiet.went_quiet(activity(&local)) {
                crate::memory::release_free_pages();
            }
        }
    }
}

/// What changes while a shard works: writes, commands run, bytes read.
fn activity(local: &Local) -> (u64, u64, u64) {
    let stats = local.stats.borrow();
    (
        local.shard_ref().dirty,
        stats.commands,
        stats.net_input_bytes,
    )
}

/// Notices the end of a burst of work: true once, the first time the shard's activity has
/// stayed the same for a whole period after it changed. Handing freed pages back walks the
/// whole heap, so it runs once per quiet spell rather than every second; while a shard is
/// busy its own frees keep purging expired pages.
#[derive(Default)]
struct Quiet {
    last: (u64, u64, u64),
    released: bool,
}

impl Quiet {
    fn went_quiet(&mut self, now: (u64, u64, u64)) -> bool {
        if now != self.last {
            self.last = now;
            self.released = false;
            return false;
        }
        !std::mem::replace(&mut self.released, true)
    }
}

#[cfg(test)]
mod tests {
    use super::Quiet;

    #[test]
    fn releases_once_per_quiet_spell() {
        let mut q = Quiet::default();
        assert!(
            q.went_quiet((0, 0, 0)),
            "a server that never worked is quiet"
        );
        assert!(!q.went_quiet((0, 0, 0)));
        assert!(!q.went_quiet((1, 5, 9)), "busy");
        assert!(!q.went_quiet((2, 6, 9)), "still busy");
        assert!(q.went_quiet((2, 6, 9)), "quiet for one period");
        assert!(!q.went_quiet((2, 6, 9)), "already released");
    }
}
