//! LATENCY LATEST / HISTORY / GRAPH / DOCTOR / RESET / HISTOGRAM / HELP, answered for the
//! whole server from every executor's monitor and histograms.

use super::histogram::{self, Histogram};
use super::{doctor, graph, merge, Events};
use crate::command::connection::subcommand_error;
use crate::command::meta;
use crate::local::{unix_ms, Local};
use shard::{Cmd, Reply};
use std::collections::BTreeMap;
use std::rc::Rc;

pub async fn latency(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) {
    let sub = cmd[1].to_ascii_lowercase();
    match (sub.as_slice(), cmd.len()) {
        (b"latest", 2) => {
            let events = events(local).await;
            out.array(events.len());
            for (name, series) in &events {
                let last = series.last();
                out.array(4);
                out.bulk(name.as_bytes());
                out.int(last.time as i64);
                out.int(last.latency as i64);
                out.int(series.max as i64);
            }
        }
        (b"history", 3) => {
            let events = events(local).await;
            // Event names are matched exactly here (RESET ignores case), as in Redis.
            let samples = events
                .iter()
                .find(|(name, _)| name.as_bytes() == &cmd[2][..])
                .map(|(_, s)| s.samples.clone())
                .unwrap_or_default();
            out.array(samples.len());
            for s in samples {
                out.array(2);
                out.int(s.time as i64);
                out.int(s.latency as i64);
            }
        }
        (b"graph", 3) => {
            let events = events(local).await;
            match events
                .iter()
                .find(|(name, _)| name.as_bytes() == &cmd[2][..])
            {
                Some((name, series)) => out.verbatim(
                    "txt",
                    graph::render(name, series, unix_ms() / 1000).as_bytes(),
                ),
                None => out.error(&format!(
                    "ERR No samples available for event '{}'",
                    String::from_utf8_lossy(&cmd[2])
                )),
            }
        }
        (b"doctor", 2) => {
            let events = events(local).await;
            let settings = {
                let c = local.shared.config();
                doctor::Settings {
                    threshold_ms: c.latency_monitor_threshold,
                    slowlog_slower_than: c.slowlog_log_slower_than,
                    appendfsync_always: c.appendfsync == crate::config::AppendFsync::Always,
                    hz: c.hz,
                }
            };
            let report = doctor::report(&events, &settings, unix_ms() / 1000);
            out.verbatim("txt", report.as_bytes());
        }
        (b"reset", _) => {
            let names: Vec<Vec<u8>> = cmd.args().skip(2).map(<[u8]>::to_vec).collect();
            let removed = local.call_all(move |l| l.latency.reset(&names)).await;
            // An event sampled on several executors is still one event.
            let mut distinct: Vec<&str> = removed.into_iter().flatten().collect();
            distinct.sort_unstable();
            distinct.dedup();
            out.int(distinct.len() as i64);
        }
        (b"histogram", _) => {
            let all = histograms(local).await;
            let shown: Vec<(&str, &Histogram)> = if cmd.len() == 2 {
                all.iter().map(|(n, h)| (*n, &**h)).collect()
            } else {
                cmd.args()
                    .skip(2)
                    .filter_map(meta::lookup_path)
                    .flat_map(|spec| std::iter::once(spec).chain(spec.subcommands))
                    .filter_map(|spec| all.get(spec.name).map(|h| (spec.name, &**h)))
                    .collect()
            };
            out.map(shown.len());
            for (name, h) in shown {
                out.bulk(name.as_bytes());
                out.map(2);
                out.bulk(b"calls");
                out.int(h.len() as i64);
                out.bulk(b"histogram_usec");
                let buckets = histogram::cumulative(h);
                out.map(buckets.len());
                for (usec, calls) in buckets {
                    out.int(usec as i64);
                    out.int(calls as i64);
                }
            }
        }
        (b"help", 2) => crate::command::connection::write_help(out, HELP),
        // Only reached past the command table's arity checks by a bug: an error, not a panic.
        (b"latest" | b"history" | b"graph" | b"doctor" | b"help", _) => {
            subcommand_error(out, "LATENCY", &cmd[1], true)
        }
        _ => subcommand_error(out, "LATENCY", &cmd[1], false),
    }
}

const HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the \
     specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Print this help.",
];

/// Every executor's events, merged.
async fn events(local: &Rc<Local>) -> Events {
    merge(local.call_all(|l| l.latency.events()).await)
}

/// Every executor's command histograms, added up by command name.
pub async fn histograms(local: &Rc<Local>) -> BTreeMap<&'static str, Box<Histogram>> {
    let parts = local.call_all(|l| l.stats.borrow().histograms()).await;
    let mut total: BTreeMap<&'static str, Option<Box<Histogram>>> = BTreeMap::new();
    for (name, h) in parts.into_iter().flatten() {
        histogram::add(total.entry(name).or_default(), &h);
    }
    total
        .into_iter()
        .filter_map(|(name, h)| Some((name, h?)))
        .collect()
}
