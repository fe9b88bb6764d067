//! A network of the run's own. The server tests (tests/servers.rs, tests/fidelity.rs) and the lab
//! of `scripts/demo.sh` and the benchmarks (`examples/lab.rs netns`) run their servers inside
//! Linux namespaces made for the run with util-linux's `unshare`:
//!
//! - **network**: a loopback of its own, brought up here. On Linux 127.0.0.1/8 on `lo` answers
//!   every address of 127.0.0.0/8, so a server binds any 127.0.0.N without `ip addr add`
//!   (Postfix alone wants its addresses on an interface: the lab adds them to this `lo`);
//!   nothing the run binds can meet a mail server of the host (a Dovecot on the host's
//!   127.0.0.1:143) or another run, and nothing leaves the namespace (no other interface);
//! - **mount**: private `/etc/hosts` and `/etc/resolv.conf` (and the lab's `/etc/postfix`, see
//!   [`private_copy`]), so that no file of the host is edited and name resolution is the same on
//!   every host;
//! - **pid**: every process the run starts dies with it, however it ends, and a pid file can only
//!   name a process of the run.
//!
//! The program calls [`enter`] first thing. On the host it creates the run's directory, runs a
//! copy of itself inside the namespaces (marked by [`INSIDE`]) and exits with its status; inside,
//! [`enter`] sets the namespaces up, checks them ([`check`]) and returns the run's directory.
//! Only the program is run again inside: cargo (which may need the network) stays outside. A
//! program that cannot make the namespaces (not root, no `unshare`) fails, saying so: there is no
//! fallback to the host's network.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Set inside the namespaces: the host's network namespace (`net:[N]`) they were made from.
pub const INSIDE: &str = "MAILTLS_NETNS";

/// Where the run keeps its files: a directory made for the run (removed when the run passes,
/// kept when it fails), or the one this variable names (always kept). Set inside to the one in
/// use; `TMPDIR` is a directory in it.
pub const RUN_DIR: &str = "MAILTLS_LAB_DIR";

/// The namespace's `/etc/hosts`.
const HOSTS: &str = "# mailtls test namespace\n127.0.0.1\tlocalhost\n::1\tlocalhost\n";
/// The namespace's `/etc/resolv.conf`: nothing answers there; every test names its resolver.
const RESOLV_CONF: &str = "# mailtls test namespace: no system resolver; tests use --dns\n\
                           nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";

/// Written in the run's directory once the namespaces are set up: its absence after a failed
/// run means they could not be made.
const ENTERED: &str = "netns-entered";

/// On the host: runs this program again inside new namespaces and exits with its status (never
/// returns). Inside: sets them up and returns the run's directory. `label` names the run's
/// directory (`mailtls-LABEL-…` in the temporary directory).
pub fn enter(label: &str) -> Result<PathBuf, String> {
    enter_with(label, None)
}

/// What [`enter_with`] calls on the host.
pub type OnHost = dyn Fn(u32) -> Result<(), String>;

/// [`enter`], and on the host `on_host` is called with the pid (on the host) of the
/// namespaces' first process once it runs, e.g. to relay a port of the host into them.
pub fn enter_with(label: &str, on_host: Option<&OnHost>) -> Result<PathBuf, String> {
    if std::env::var_os(INSIDE).is_some() {
        let dir = std::env::var_os(RUN_DIR)
            .map(PathBuf::from)
            .ok_or_else(|| format!("{INSIDE} is set but {RUN_DIR} is not"))?;
        set_up(&dir)?;
        check()?;
        write(&dir.join(ENTERED), "")?;
        return Ok(dir);
    }
    let code = outside(label, on_host).unwrap_or_else(|error| {
        eprintln!("netns: {error}");
        1
    });
    std::process::exit(code)
}

/// The host's side: the run's directory, the program again inside, its exit status, the
/// clean-up.
fn outside(label: &str, on_host: Option<&OnHost>) -> Result<i32, String> {
    let host = namespace_id()?;
    let (dir, ours) = match std::env::var_os(RUN_DIR) {
        Some(dir) => (PathBuf::from(dir), false),
        None => (new_run_dir(label)?, true),
    };
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    // Daemons that drop root (postgres, dovenull) write their temporary files there too.
    run(Command::new("chmod").arg("1777").arg(&tmp))?;
    let _ = std::fs::remove_file(dir.join(ENTERED));
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    // `--fork` makes the first process the namespace's init, which must reap the daemons the
    // run leaves to it: a shell waiting for the program does (Rust's std has no wait for any
    // child). `0<&0` keeps standard input, which a background job would lose. The namespaces
    // end when unshare does (--kill-child), and unshare when this process does (setpriv's
    // parent-death signal), however it ends.
    let mut child = Command::new("setpriv")
        .args([
            "--pdeathsig",
            "KILL",
            "--",
            "unshare",
            "--net",
            "--mount",
            "--propagation",
            "private",
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "--",
            "sh",
            "-c",
            "\"$0\" \"$@\" 0<&0 & wait $!",
        ])
        .arg(&exe)
        .args(std::env::args_os().skip(1))
        .env(INSIDE, &host)
        .env(RUN_DIR, &dir)
        .env("TMPDIR", &tmp)
        .spawn()
        .map_err(|e| format!("setpriv and unshare (util-linux) could not run: {e}"))?;
    let hooked = on_host.map_or(Ok(()), |hook| first_process(child.id()).and_then(hook));
    if hooked.is_err() {
        // --kill-child: the namespaces end, and everything in them.
        let _ = child.kill();
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for unshare: {e}"))?;
    let entered = dir.join(ENTERED).exists();
    if !entered {
        if ours {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return Err(format!(
            "could not run {} in network, mount and pid namespaces of its own ({status}); \
             it needs root and util-linux's unshare. Nothing ran on the host's network.",
            exe.display()
        ));
    }
    hooked?;
    if status.success() {
        if ours {
            let _ = std::fs::remove_dir_all(&dir);
        }
    } else {
        eprintln!("netns: the files of this run are kept in {}", dir.display());
    }
    Ok(status.code().unwrap_or(1))
}

/// The pid of the namespaces' first process: the only child of `unshare` (pid `unshare`: setpriv
/// execs it), once it has forked (bounded wait).
fn first_process(unshare: u32) -> Result<u32, String> {
    let children = format!("/proc/{unshare}/task/{unshare}/children");
    for _ in 0..100 {
        let text = std::fs::read_to_string(&children).map_err(|e| format!("{children}: {e}"))?;
        if let Some(pid) = text.split_whitespace().next().and_then(|p| p.parse().ok()) {
            return Ok(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err(format!("unshare (pid {unshare}) started no process in 5 s"))
}

/// A new directory for one run, whose name no other run can have.
fn new_run_dir(label: &str) -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "mailtls-{label}-{}-{:08x}",
            std::process::id(),
            nanos.wrapping_add(attempt)
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        }
    }
    Err(format!(
        "no new directory could be made in {}",
        base.display()
    ))
}

/// Inside: loopback up, private /etc/hosts and /etc/resolv.conf.
fn set_up(dir: &Path) -> Result<(), String> {
    run(Command::new("ip").args(["link", "set", "lo", "up"]))?;
    let etc = dir.join("etc");
    std::fs::create_dir_all(&etc).map_err(|e| format!("{}: {e}", etc.display()))?;
    for (name, text) in [("hosts", HOSTS), ("resolv.conf", RESOLV_CONF)] {
        let file = etc.join(name);
        write(&file, text)?;
        run(Command::new("mount")
            .arg("--bind")
            .arg(&file)
            .arg(Path::new("/etc").join(name)))?;
    }
    Ok(())
}

/// Whether this process runs in namespaces [`enter`] made: another network namespace than the
/// host's, with no interface but a loopback that is up, and the private /etc/hosts. The lab
/// refuses to start otherwise.
pub fn check() -> Result<(), String> {
    let how = "run it through tests/lab/netns.rs (cargo test --test servers, \
               examples/lab netns -- COMMAND)";
    let host = std::env::var(INSIDE)
        .map_err(|_| format!("not in a network namespace of the run's own: {how}"))?;
    let here = namespace_id()?;
    if here == host {
        return Err(format!(
            "{INSIDE} is set, but this is the host's network ({host}): {how}"
        ));
    }
    // The first two lines of /proc/self/net/dev are headings; one line per interface follows.
    let dev = std::fs::read_to_string("/proc/self/net/dev")
        .map_err(|e| format!("/proc/self/net/dev: {e}"))?;
    let interfaces: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    if interfaces != ["lo"] {
        return Err(format!(
            "the run's network has interfaces {interfaces:?}, not a loopback alone"
        ));
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("the run's loopback: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_secs(2))
        .map_err(|e| format!("the run's loopback is not up: {e}"))?;
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    if hosts != HOSTS {
        return Err("/etc/hosts is the host's, not the run's own".to_string());
    }
    Ok(())
}

/// Inside: puts a private copy (in the run's directory) over `path`, a directory of the host's
/// /etc that a server of the run edits, so the edits stay in the run. Once per run: a path
/// already mounted over is left as it is.
pub fn private_copy(path: &Path) -> Result<(), String> {
    check()?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
    // The fifth field of a line is the mount point.
    let target = path.display().to_string();
    if mounts
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(target.as_str()))
    {
        return Ok(());
    }
    let dir = std::env::var_os(RUN_DIR)
        .map(PathBuf::from)
        .ok_or_else(|| format!("{RUN_DIR} is not set"))?;
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: no file name", path.display()))?;
    let etc = dir.join("etc");
    let copy = etc.join(name);
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&etc).map_err(|e| format!("{}: {e}", etc.display()))?;
    run(Command::new("cp").arg("-a").arg(path).arg(&copy))?;
    run(Command::new("mount").arg("--bind").arg(&copy).arg(path)).map(drop)
}

/// This process's network namespace, as `net:[N]`.
fn namespace_id() -> Result<String, String> {
    std::fs::read_link("/proc/self/ns/net")
        .map(|p| p.display().to_string())
        .map_err(|e| format!("/proc/self/ns/net: {e}"))
}

fn run(command: &mut Command) -> Result<String, String> {
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
