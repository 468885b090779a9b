//! shardis-bench: a memtier_benchmark-class load generator for Redis-protocol
//! servers. See docs/SHARDIS_BENCH.md.

mod client;
mod config;
mod engine;
mod histogram;
mod keys;
mod protocol;
mod report;
mod run;
mod stats;
mod sys;
mod workload;

use config::{Config, Engine, Stop};
use histogram::{write_hgrm, Latency};
use keys::{KeyPattern, KeySpace};
use report::{aggregate, describe, table, PreloadReport, Report, RunReport};
use run::{execute, file_safe, Limit, RunPlan};
use stats::Stats;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::sync::Arc;
use workload::{set_command, Workload};

/// Exit status when the run completed but saw errors (1 = could not run at all,
/// 2 = bad command line, from clap).
const EXIT_RUN_ERRORS: u8 = 3;

fn main() -> ExitCode {
    let cfg = match config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    if cfg.engine == Engine::Glommio {
        // io_uring buffers count against RLIMIT_MEMLOCK; an executor that still cannot
        // start reports one clear line from the worker.
        if let Err(e) = sys::raise_memlock_limit() {
            eprintln!("shardis-bench: warning: cannot raise RLIMIT_MEMLOCK: {e}");
        }
    }
    match bench(&cfg) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_RUN_ERRORS),
        Err(e) => fail(&e),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("shardis-bench: {msg}");
    ExitCode::FAILURE
}

/// Preload, runs, reports. `Ok(false)` when any error was seen.
fn bench(cfg: &Config) -> Result<bool, String> {
    let data = (cfg.data_size_min, cfg.data_size_max);
    let preload = if cfg.preload > 0 {
        Some(preload(cfg, data)?)
    } else {
        None
    };
    let preload_errors = preload.as_ref().map_or(0, |p| p.errors);

    let workload = Arc::new(Workload::new(
        cfg.commands.clone(),
        &cfg.key_prefix,
        data,
        cfg.seed,
    ));
    let mut runs: Vec<RunReport> = Vec::new();
    let mut run_stats: Vec<(Stats, f64, f64)> = Vec::new();
    let runs_wanted = if cfg.stop == Stop::Requests(0) {
        0
    } else {
        cfg.run_count
    };
    if runs_wanted > 0 {
        println!(
            "shardis-bench {}: {}",
            env!("CARGO_PKG_VERSION"),
            describe(cfg)
        );
    }
    for r in 1..=runs_wanted {
        let plan = RunPlan {
            label: format!("run {r}/{runs_wanted}"),
            workload: workload.clone(),
            pipeline: cfg.pipeline,
            limit: match cfg.stop {
                Stop::Requests(n) => Limit::PerClient(n),
                Stop::Duration(_) => Limit::Unlimited,
            },
            duration_s: match cfg.stop {
                Stop::Duration(d) => Some(d),
                Stop::Requests(_) => None,
            },
            rate: cfg.rate,
            progress: !cfg.quiet,
            hlog_prefix: cfg.hdr_out.as_ref().map(|p| format!("{p}_run{r}")),
        };
        let outcome = execute(cfg, &plan)?;
        if let Some(prefix) = &cfg.hdr_out {
            write_hgrms(&format!("{prefix}_run{r}"), &workload, &outcome.stats)?;
        }
        run_stats.push((outcome.stats.clone(), outcome.elapsed_s, outcome.cpu_s));
        let report = RunReport::from_outcome(r, &workload, outcome);
        print!("{}", table(&format!("RUN #{r} of {runs_wanted}"), &report));
        runs.push(report);
    }

    let agg = (!run_stats.is_empty()).then(|| aggregate(&workload, &run_stats));
    if let Some(agg) = &agg {
        if runs_wanted > 1 {
            print!(
                "{}",
                table(&format!("AGGREGATED ({runs_wanted} runs)"), agg)
            );
        }
        if let Some(prefix) = &cfg.hdr_out {
            let mut all = Stats::new(workload.commands.len());
            run_stats.iter().for_each(|(s, _, _)| all.merge(s));
            write_hgrms(prefix, &workload, &all)?;
        }
    }
    let run_errors = agg.as_ref().map_or(0, |a| a.totals.errors);
    let ok = run_errors == 0 && preload_errors == 0;

    if let Some(path) = &cfg.json_out {
        let report = Report {
            tool: "shardis-bench",
            version: env!("CARGO_PKG_VERSION"),
            config: cfg,
            preload,
            runs,
            duration_s: agg.as_ref().map_or(0.0, |a| a.duration_s),
            totals: agg.as_ref().map(|a| a.totals.clone()),
            commands: agg.as_ref().map(|a| a.commands.clone()).unwrap_or_default(),
            errors_by_kind: agg
                .as_ref()
                .map(|a| a.errors_by_kind.clone())
                .unwrap_or_default(),
            ok,
        };
        let f = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let mut f = BufWriter::new(f);
        serde_json::to_writer_pretty(&mut f, &report)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        f.flush()
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }

    if !ok {
        let kinds = agg
            .as_ref()
            .map(|a| {
                a.errors_by_kind
                    .iter()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        eprintln!(
            "\n!!! shardis-bench: THE RUN HAD ERRORS: {} during the run{}, {} during preload. \
             Results are not clean; exiting with status {EXIT_RUN_ERRORS}.",
            run_errors,
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({kinds})")
            },
            preload_errors
        );
    }
    Ok(ok)
}

/// SETs `key-minimum .. key-minimum+N-1` once, each client writing its own slice.
fn preload(cfg: &Config, data: (usize, usize)) -> Result<PreloadReport, String> {
    let last = cfg
        .key_minimum
        .checked_add(cfg.preload - 1)
        .ok_or("--preload: key range overflows")?;
    let keys = KeySpace {
        pattern: KeyPattern::Parallel,
        min: cfg.key_minimum,
        max: last,
        median: 0.0,
        stddev: 1.0,
    };
    let wl = Arc::new(Workload::new(
        vec![set_command(1, keys, None)],
        &cfg.key_prefix,
        data,
        cfg.seed,
    ));
    let plan = RunPlan {
        label: "preload".into(),
        workload: wl,
        // Loading is about throughput, whatever the measured run's pipeline is.
        pipeline: cfg.pipeline.max(64),
        limit: Limit::Slices { keys: cfg.preload },
        duration_s: None,
        rate: None,
        progress: !cfg.quiet,
        hlog_prefix: None,
    };
    let o = execute(cfg, &plan)?;
    let errors = o.stats.errors.total();
    let ops = o.stats.ops();
    let ops_per_sec = if o.elapsed_s > 0.0 {
        ops as f64 / o.elapsed_s
    } else {
        0.0
    };
    eprintln!(
        "shardis-bench: preloaded {} keys ({}{}..{}) in {:.2} s, {} ops/s{}",
        ops,
        cfg.key_prefix,
        cfg.key_minimum,
        last,
        o.elapsed_s,
        run::group_thousands(ops_per_sec),
        if errors > 0 {
            format!(", {errors} ERRORS: {:?}", o.stats.errors.sorted())
        } else {
            String::new()
        }
    );
    Ok(PreloadReport {
        keys: cfg.preload,
        duration_s: o.elapsed_s,
        ops_per_sec,
        errors,
    })
}

/// `<prefix>_<CMD>.hgrm` percentile distributions, one per command plus `ALL`.
fn write_hgrms(prefix: &str, w: &Workload, stats: &Stats) -> Result<(), String> {
    let all = stats.total_latency();
    let hists: Vec<(&str, &Latency)> = w
        .commands
        .iter()
        .map(|c| c.name.as_str())
        .zip(stats.cmds.iter().map(|c| &c.latency))
        .chain([("ALL", &all)])
        .collect();
    for (name, h) in hists {
        let path = format!("{prefix}_{}.hgrm", file_safe(name));
        let f = File::create(&path).map_err(|e| format!("cannot create {path}: {e}"))?;
        let mut f = BufWriter::new(f);
        write_hgrm(h, &mut f)
            .and_then(|_| f.flush())
            .map_err(|e| format!("writing {path}: {e}"))?;
    }
    Ok(())
}
