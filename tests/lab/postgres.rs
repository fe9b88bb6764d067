//! A real PostgreSQL for the scan tests: Debian's package, its own data directory under the lab
//! directory, listening on the run's own loopback only (tests/lab/netns.rs), trust
//! authentication (nothing but the tests can reach it). initdb refuses to run as root, so it
//! runs as the `postgres` user the package creates.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The port it listens on (127.0.0.1 only).
pub const PORT: u16 = 55432;

/// A running PostgreSQL.
#[derive(Debug)]
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
}

/// The URL of database `name` on the lab's PostgreSQL.
pub fn url(name: &str) -> String {
    format!("postgres://postgres@127.0.0.1:{PORT}/{name}")
}

fn bin_dir() -> Result<PathBuf, String> {
    let base = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(base)
        .map_err(|_| {
            "PostgreSQL is not installed: run scripts/test.sh (as root), which installs it"
                .to_string()
        })?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| "no initdb under /usr/lib/postgresql: install postgresql".to_string())
}

fn as_postgres(command: &str) -> Result<String, String> {
    let output = Command::new("runuser")
        .args(["-u", "postgres", "--", "sh", "-c", command])
        .output()
        .map_err(|e| format!("runuser: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{command}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

impl Postgres {
    /// Starts a fresh server in `dir` (removing what an earlier run left there; a server of an
    /// earlier run died with that run's namespace, see tests/lab/netns.rs).
    pub fn start(dir: &Path) -> Result<Postgres, String> {
        let bin = bin_dir()?;
        let postgres = Postgres {
            dir: dir.to_path_buf(),
            bin,
        };
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir)
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        as_postgres(&format!(
            "{}/initdb -D {}/data -U postgres --auth=trust -E UTF8 >/dev/null",
            postgres.bin.display(),
            dir.display()
        ))?;
        postgres.resume()?;
        Ok(postgres)
    }

    /// Starts the server on its existing data directory (after [`Postgres::pause`]).
    pub fn resume(&self) -> Result<(), String> {
        as_postgres(&format!(
            "{bin}/pg_ctl -D {dir}/data -o \"-k {dir} -h 127.0.0.1 -p {PORT}\" -l {dir}/log -w start >/dev/null",
            bin = self.bin.display(),
            dir = self.dir.display()
        ))
        .map(drop)
    }

    /// Stops the server at once, as a crash or a failover would (clients lose their
    /// connections).
    pub fn pause(&self) -> Result<(), String> {
        as_postgres(&format!(
            "{}/pg_ctl -D {}/data -m immediate -w stop >/dev/null",
            self.bin.display(),
            self.dir.display()
        ))
        .map(drop)
    }

    /// Creates database `name`.
    pub fn create_database(&self, name: &str) -> Result<(), String> {
        as_postgres(&format!(
            "{}/createdb -h 127.0.0.1 -p {PORT} -U postgres {name}",
            self.bin.display()
        ))
        .map(drop)
    }

    /// Runs one SQL statement in database `name`; returns what psql printed (unaligned).
    pub fn sql(&self, name: &str, statement: &str) -> Result<String, String> {
        let output = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &PORT.to_string(), "-U", "postgres"])
            .args(["-d", name, "-A", "-t", "-c", statement])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Stops whatever runs from this directory; quiet when nothing does.
    pub fn stop(&self) {
        if self.dir.join("data/postmaster.pid").exists() {
            let _ = as_postgres(&format!(
                "{}/pg_ctl -D {}/data -m fast -w stop >/dev/null 2>&1",
                self.bin.display(),
                self.dir.display()
            ));
        }
    }
}
