//! Each shard's periodic work (Redis' serverCron, per shard): active expiry and stats
//! sampling, `hz` times a second. Sleeps between ticks: an idle server uses no CPU.

use crate::local::{unix_ms, Local};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Entries the active expiry examines per database per tick (Redis' ACTIVE_EXPIRE_CYCLE
/// keys-per-loop is 20; we walk buckets, so examine a few more per step).
const EXPIRE_BUDGET: usize = 200;

pub async fn run(local: Rc<Local>) {
    let mut last_sample = 0;
    loop {
        let hz = local.shared.config().hz.clamp(1, 500);
        glommio::timer::sleep(Duration::from_millis(1000 / hz as u64)).await;
        let now = unix_ms();
        if local.shared.cron_paused.load(Ordering::Relaxed) {
            continue;
        }
        {
            let mut shard = local.shard.borrow_mut();
            if shard.active_expire {
                for db in shard.dbs.iter_mut() {
                    // Keep going while a large share of what we looked at was expired.
                    for _ in 0..16 {
                        if db.active_expire(now, EXPIRE_BUDGET) < EXPIRE_BUDGET / 4 {
                            break;
                        }
                    }
                }
            }
        }
        // Redis samples every 100 ms and averages the last 16 samples.
        if now >= last_sample + 100 {
            last_sample = now;
            local.stats.borrow_mut().sample(now);
        }
    }
}
