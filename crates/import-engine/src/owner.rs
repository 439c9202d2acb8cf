//! Who runs an import: an owner name that says which process on which boot of which machine,
//! so that a run left behind by a process that died can be taken over at once rather than
//! when its lease lapses.

/// The owner name of a new run of this process: `BOOT_ID/PID/START_TICKS/RUN`.
pub(crate) fn new_owner() -> String {
    let (boot, pid, start) = this_process();
    format!("{boot}/{pid}/{start}/{}", uuid::Uuid::new_v4())
}

/// Whether the process that took `owner` has certainly ended: it ran on this machine's current
/// boot, and no process with its PID and start time exists any more. `false` whenever that
/// cannot be told (another machine, no `/proc`): then only the lease decides.
pub(crate) fn is_gone(owner: &str) -> bool {
    let mut parts = owner.split('/');
    let (Some(boot), Some(pid), Some(start)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some(current_boot) = boot_id() else {
        return false;
    };
    if boot != current_boot || boot.is_empty() {
        return false;
    }
    match start_ticks(pid) {
        Some(ticks) => ticks != start,
        None => std::path::Path::new("/proc/self").exists(),
    }
}

fn this_process() -> (String, u32, String) {
    let pid = std::process::id();
    (
        boot_id().unwrap_or_default(),
        pid,
        start_ticks(&pid.to_string()).unwrap_or_default(),
    )
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
}

/// A process's start time in clock ticks since boot (field 22 of `/proc/PID/stat`), which
/// tells a PID reused by another process apart.
fn start_ticks(pid: &str) -> Option<String> {
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_one_is_gone() {
        let me = new_owner();
        assert!(!is_gone(&me), "{me}");
        if boot_id().is_some() {
            // A child that has exited: its PID no longer runs with that start time.
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id().to_string();
            let ticks = start_ticks(&pid).unwrap_or_else(|| "0".into());
            child.wait().unwrap();
            let boot = boot_id().unwrap();
            assert!(is_gone(&format!("{boot}/{pid}/{ticks}/run")));
            assert!(!is_gone(&format!("another-boot/{pid}/{ticks}/run")));
        }
        assert!(
            !is_gone("pid 7 run x"),
            "an owner of another form is never judged"
        );
    }
}
