//! Measuring one child process: its wall time, CPU time and peak resident memory, its own and
//! nobody else's.
//!
//! Rust has no safe `wait4`, and the workspace forbids `unsafe`. So each measured command runs
//! under this same binary started as `upshot-bench measure-child`: a fresh process (a fork
//! starts with zeroed children's counters, and an exec keeps them) whose only child is the
//! measured command. When that child has been reaped, the wrapper's children's rusage is exactly
//! the child's own `wait4` rusage, with whatever processes the child itself waited for; the
//! benchmark process never reads its own children's rusage, which is a maximum over every child
//! it ever had (that once reported cargo's memory as Upshot's).

use crate::measure::BenchResult;
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeValLike;
use serde_json::json;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// What one measured process used.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// From its start to its exit.
    pub wall_secs: f64,
    /// User plus system CPU time.
    pub cpu_secs: f64,
    /// Peak resident set size.
    pub max_rss_mb: f64,
}

/// Runs `command` to completion under the measuring wrapper, its output thrown away and its
/// standard error kept in `log`. Fails, quoting the end of that log, if the command does not
/// exit successfully: a benchmark never reports the figures of a failed run.
pub fn run_measured(command: &Command, log: &Path) -> BenchResult<Usage> {
    let me = std::env::current_exe()
        .map_err(|error| format!("cannot find this benchmark's own binary: {error}"))?;
    let report = log.with_extension("usage.json");
    let mut wrapper = Command::new(me);
    wrapper
        .arg("measure-child")
        .arg("--report")
        .arg(&report)
        .arg("--")
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapper.env(key, value),
            None => wrapper.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapper.current_dir(dir);
    }
    let log_file = std::fs::File::create(log)
        .map_err(|error| format!("cannot create {}: {error}", log.display()))?;
    let status = wrapper
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .status()
        .map_err(|error| format!("cannot run the measuring wrapper: {error}"))?;
    let shown = describe(command);
    if !status.success() {
        return Err(format!(
            "measuring {shown} failed: {status}{}",
            log_tail(log)
        ));
    }
    let text = std::fs::read_to_string(&report)
        .map_err(|error| format!("no usage report for {shown}: {error}"))?;
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| format!("bad usage report: {error}"))?;
    if report["success"] != true {
        return Err(format!(
            "{shown} failed ({}){}",
            report["status"].as_str().unwrap_or("?"),
            log_tail(log)
        ));
    }
    let number = |key: &str| {
        report[key]
            .as_f64()
            .ok_or_else(|| format!("the usage report has no {key}"))
    };
    Ok(Usage {
        wall_secs: number("wall_secs")?,
        cpu_secs: number("user_secs")? + number("sys_secs")?,
        max_rss_mb: number("max_rss_kib")? / 1024.0,
    })
}

/// `upshot upload`, `curl --silent`: the program's name and its first argument.
fn describe(command: &Command) -> String {
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or(command.get_program())
        .to_string_lossy()
        .into_owned();
    match command.get_args().next() {
        Some(first) => format!("{program} {}", first.to_string_lossy()),
        None => program,
    }
}

/// The last lines of a log, to say why a command failed.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n    ");
    if tail.is_empty() {
        String::new()
    } else {
        format!("; its last output:\n    {tail}")
    }
}

/// `upshot-bench measure-child --report FILE -- COMMAND…`: runs the command as this process's
/// only child, with the standard streams inherited, then writes its usage to `FILE` as JSON.
/// Exits 0 when it measured (the command's own status is in the report), 2 when it could not.
pub fn measure_child(report: &Path, command: &[OsString]) -> ExitCode {
    match measure_child_inner(report, command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("upshot-bench measure-child: {error}");
            ExitCode::from(2)
        }
    }
}

fn measure_child_inner(report: &Path, command: &[OsString]) -> BenchResult<()> {
    let (program, args) = command.split_first().ok_or("no command to measure")?;
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|error| format!("cannot run {program:?}: {error}"))?;
    let wall = started.elapsed();
    // This process has had exactly one child, now reaped: these are that child's own figures.
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN)
        .map_err(|error| format!("getrusage failed: {error}"))?;
    let seconds = |time: nix::sys::time::TimeVal| time.num_microseconds() as f64 / 1e6;
    let text = json!({
        "success": status.success(),
        "status": status.to_string(),
        "wall_secs": wall.as_secs_f64(),
        "user_secs": seconds(usage.user_time()),
        "sys_secs": seconds(usage.system_time()),
        "max_rss_kib": usage.max_rss(),
    })
    .to_string();
    std::fs::write(report, text)
        .map_err(|error| format!("cannot write {}: {error}", report.display()))
}

/// A log file for one measured run, in `dir`.
pub fn log_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.log"))
}
