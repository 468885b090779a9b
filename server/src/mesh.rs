//! Messages between shards.
//!
//! Each shard has a mailbox: an unbounded queue of jobs (closures to run on that shard's
//! thread) and the waker of the task that drains it. A sender pushes and wakes; it never waits
//! for space, so two shards flooding each other cannot deadlock (the trap of bounded channel
//! meshes, glommio issue 555). Memory in flight is bounded by the requests clients have in
//! flight, which the connections bound.
//!
//! Waking a parked executor costs one eventfd write (glommio queues foreign wakes and only
//! signals an executor that is about to sleep); a busy one pays nothing extra.

use crate::local::Local;
use atomic_waker::AtomicWaker;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::Poll;

/// Work for another shard. It runs on that shard's thread with its [`Local`] state.
pub type Job = Box<dyn FnOnce(&Rc<Local>) + Send>;

struct Mailbox {
    jobs: Mutex<Vec<Job>>,
    waker: AtomicWaker,
}

/// The mailboxes of all shards; shared by every thread.
pub struct Mesh {
    boxes: Box<[Mailbox]>,
}

impl Mesh {
    pub fn new(shards: usize) -> Mesh {
        Mesh {
            boxes: (0..shards)
                .map(|_| Mailbox {
                    jobs: Mutex::new(Vec::new()),
                    waker: AtomicWaker::new(),
                })
                .collect(),
        }
    }

    pub fn shards(&self) -> usize {
        self.boxes.len()
    }

    /// Queues `job` for `shard` and wakes its mailbox task.
    pub fn send(&self, shard: usize, job: Job) {
        let b = &self.boxes[shard];
        b.jobs.lock().unwrap_or_else(|e| e.into_inner()).push(job);
        b.waker.wake();
    }

    /// Whether jobs wait for `shard`. Seen from its own thread, false means every job sent to
    /// it so far has run (its mailbox task runs a batch without yielding).
    pub fn has_pending(&self, shard: usize) -> bool {
        !self.boxes[shard]
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Waits for the jobs sent to `shard` (must be the caller's own shard).
    async fn receive(&self, shard: usize, spare: &mut Vec<Job>) -> Vec<Job> {
        let b = &self.boxes[shard];
        poll_fn(|cx| {
            // Register before looking, so a job pushed in between still wakes us.
            b.waker.register(cx.waker());
            let mut q = b.jobs.lock().unwrap_or_else(|e| e.into_inner());
            if q.is_empty() {
                Poll::Pending
            } else {
                Poll::Ready(std::mem::replace(&mut *q, std::mem::take(spare)))
            }
        })
        .await
    }
}

/// The task that runs the jobs other shards send to this one, for the life of the shard.
pub async fn serve_mailbox(local: Rc<Local>) {
    let mesh = local.mesh.clone();
    let mut spare = Vec::new();
    loop {
        let mut jobs = mesh.receive(local.id, &mut spare).await;
        for job in jobs.drain(..) {
            job(&local);
        }
        spare = jobs;
        crate::propagate::drain_if_behind(&local);
        // Let this shard's own connections run between bursts of remote work.
        glommio::yield_if_needed().await;
    }
}
