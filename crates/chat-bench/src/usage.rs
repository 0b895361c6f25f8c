//! What a scenario cost: CPU seconds of the server and of this tool, the server's peak RSS and
//! the whole machine's busy core-seconds, all from /proc; and what machine this is.

use std::time::Instant;

use serde::Serialize;

/// Reads the counters of the server process, this process and the machine.
#[derive(Debug, Clone)]
pub(crate) struct Meter {
    /// The server's pids, when known: one, or each node of a cluster (their CPU and memory
    /// are summed).
    server_pids: Vec<u32>,
    /// The PostgreSQL postmaster's pid, when found.
    postmaster: Option<u32>,
    /// Clock ticks per second (`getconf CLK_TCK`, usually 100).
    ticks: f64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    /// When.
    at: Instant,
    /// Server utime+stime, in ticks.
    server: Option<u64>,
    /// Our own utime+stime, in ticks.
    tool: Option<u64>,
    /// PostgreSQL's: the postmaster, its live children and the children it reaped.
    postgres: Option<u64>,
    /// Busy ticks of all cores (total minus idle and iowait).
    machine: Option<u64>,
}

/// What one scenario cost.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct Usage {
    /// Wall-clock seconds.
    pub(crate) wall_s: f64,
    /// The server's CPU seconds.
    pub(crate) server_cpu_s: Option<f64>,
    /// The server's peak resident set (VmHWM, reset before the scenario when allowed), in KiB.
    pub(crate) server_peak_rss_kib: Option<u64>,
    /// This tool's CPU seconds.
    pub(crate) tool_cpu_s: Option<f64>,
    /// PostgreSQL's CPU seconds (all its processes).
    pub(crate) postgres_cpu_s: Option<f64>,
    /// Busy core-seconds of the whole machine (server, PostgreSQL, tool, everything else).
    pub(crate) machine_busy_core_s: Option<f64>,
}

impl Meter {
    /// A meter for the server `server_pid` and the PostgreSQL listening on `pg_port`.
    pub(crate) fn new(server_pid: Option<u32>, pg_port: Option<u16>) -> Self {
        let ticks = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
            .unwrap_or(100.0);
        Self {
            server_pids: server_pid.into_iter().collect(),
            postmaster: pg_port.and_then(postmaster),
            ticks,
        }
    }

    /// The same meter for other server processes (the nodes of a cluster, summed).
    pub(crate) fn for_servers(&self, pids: &[u32]) -> Self {
        Self {
            server_pids: pids.to_vec(),
            ..self.clone()
        }
    }

    /// The CPU seconds (utime+stime) process `pid` has used so far.
    pub(crate) fn process_cpu_s(&self, pid: u32) -> Option<f64> {
        process_ticks(&pid.to_string()).map(|t| t as f64 / self.ticks)
    }

    /// Resets the server's peak RSS (writing 5 to clear_refs; needs the right to) and reads
    /// the counters.
    pub(crate) fn start(&self) -> Snapshot {
        for pid in &self.server_pids {
            let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        }
        self.snapshot()
    }

    /// The counters now.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            at: Instant::now(),
            server: self.server_ticks(),
            tool: process_ticks("self"),
            postgres: self.postmaster.and_then(postgres_ticks),
            machine: machine_busy_ticks(),
        }
    }

    /// What happened since `before`.
    pub(crate) fn since(&self, before: &Snapshot) -> Usage {
        let now = self.snapshot();
        let seconds =
            |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?) as f64 / self.ticks);
        Usage {
            wall_s: now.at.duration_since(before.at).as_secs_f64(),
            server_cpu_s: seconds(before.server, now.server),
            server_peak_rss_kib: self.servers_kib("VmHWM:"),
            tool_cpu_s: seconds(before.tool, now.tool),
            postgres_cpu_s: seconds(before.postgres, now.postgres),
            machine_busy_core_s: seconds(before.machine, now.machine),
        }
    }

    /// The servers' utime+stime in ticks, summed; `None` unless every one could be read.
    fn server_ticks(&self) -> Option<u64> {
        if self.server_pids.is_empty() {
            return None;
        }
        self.server_pids
            .iter()
            .map(|pid| process_ticks(&pid.to_string()))
            .sum()
    }

    /// A `kB` line of the servers' `/proc/<pid>/status`, summed; `None` unless every one
    /// could be read.
    fn servers_kib(&self, key: &str) -> Option<u64> {
        if self.server_pids.is_empty() {
            return None;
        }
        self.server_pids
            .iter()
            .map(|&pid| status_kib(pid, key))
            .sum()
    }

    /// The (first) server's open-files soft limit.
    pub(crate) fn server_open_files_limit(&self) -> Option<u64> {
        self.server_pids
            .first()
            .and_then(|pid| open_files_limit(&pid.to_string()))
    }

    /// Refuses to go on when this tool's open-files limit is below `tool_needs` or the
    /// server's below `server_needs`, to hold `sockets` sockets, saying how to raise them.
    pub(crate) fn check_open_files(
        &self,
        sockets: u64,
        tool_needs: u64,
        server_needs: u64,
    ) -> anyhow::Result<()> {
        let tool = open_files_limit("self");
        let server = self.server_open_files_limit();
        let short = |limit: Option<u64>, needs| limit.is_some_and(|l| l < needs);
        if short(tool, tool_needs) || short(server, server_needs) {
            let show = |l: Option<u64>| l.map_or_else(|| "unknown".to_owned(), |l| l.to_string());
            anyhow::bail!(
                "the open-files limit is too low for {sockets} sockets: chat-bench has {} and \
                 needs {tool_needs}, the server has {} and needs {server_needs}; raise it \
                 (`ulimit -n` in the shell before `cargo xtask bench`, or `prlimit`)",
                show(tool),
                show(server),
            );
        }
        Ok(())
    }

    /// The server's current resident set in KiB (the nodes' sum).
    pub(crate) fn server_rss_kib(&self) -> Option<u64> {
        self.servers_kib("VmRSS:")
    }
}

/// Fields 3.. of `/proc/<pid>/stat` (after the command name, which may hold spaces).
fn stat_fields(pid: &str) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    // Field 3 (state) is a letter: keep its place with 0.
    Some(
        rest.split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// utime+stime (fields 14 and 15) in ticks.
fn process_ticks(pid: &str) -> Option<u64> {
    let f = stat_fields(pid)?;
    Some(f.get(11)? + f.get(12)?)
}

/// The pid of the postmaster started with `-p port`.
fn postmaster(port: u16) -> Option<u32> {
    let port = port.to_string();
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_postgres = args.first()?.ends_with(b"/postgres");
        let on_port = args
            .windows(2)
            .any(|w| w[0] == b"-p" && w[1] == port.as_bytes());
        (is_postgres && on_port).then_some(pid)
    })
}

/// CPU ticks of PostgreSQL: the postmaster (own and reaped children's) and its live children.
fn postgres_ticks(postmaster: u32) -> Option<u64> {
    let f = stat_fields(&postmaster.to_string())?;
    let own: u64 = f.get(11..15)?.iter().sum();
    let children: u64 = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name();
            let f = stat_fields(name.to_str()?)?;
            // Field 4 (ppid) is at position 1.
            if f.get(1) != Some(&u64::from(postmaster)) {
                return None;
            }
            Some(f.get(11)? + f.get(12)?)
        })
        .sum();
    Some(own + children)
}

/// Busy ticks over all cores from the first line of /proc/stat.
fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .take(8) // user nice system idle iowait irq softirq steal (guest is inside user)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
    Some(total.saturating_sub(idle))
}

/// The open-files soft limit of a process (`self` for this one), from `/proc/<pid>/limits`.
pub(crate) fn open_files_limit(pid: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

/// A `kB` line of `/proc/<pid>/status`.
fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// The machine the run happened on.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Machine {
    /// Online cores.
    pub(crate) cores: usize,
    /// The CPU model from /proc/cpuinfo.
    pub(crate) cpu: String,
    /// Total memory in GiB.
    pub(crate) memory_gib: f64,
    /// The kernel release.
    pub(crate) kernel: String,
    /// This process's open-files soft limit.
    pub(crate) open_files_limit: Option<u64>,
}

impl Machine {
    /// Reads /proc.
    pub(crate) fn detect() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
        let memory_kib: u64 = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0);
        Self {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            cpu,
            memory_gib: memory_kib as f64 / (1024.0 * 1024.0),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            open_files_limit: open_files_limit("self"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Machine, Meter};

    #[test]
    fn reads_own_counters() {
        let meter = Meter::new(Some(std::process::id()), None);
        let before = meter.start();
        let usage = meter.since(&before);
        assert!(usage.tool_cpu_s.is_some());
        assert!(usage.server_peak_rss_kib.unwrap_or(0) > 0);
        let me = std::process::id();
        let twice = meter.for_servers(&[me, me]);
        let (one, two) = (meter.server_rss_kib(), twice.server_rss_kib());
        assert!(one.is_some() && two.is_some());
        assert!(meter.process_cpu_s(me).is_some());
        assert_eq!(meter.for_servers(&[]).server_rss_kib(), None);
        assert!(Machine::detect().cores >= 1);
    }
}
