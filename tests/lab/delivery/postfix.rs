//! A private Postfix instance (receivers or a sender): its own config directory, queue, data
//! directory and log file, chroot off, started under script(1) so start-up errors are seen
//! (see ../shared/notes/servers.md).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::lab::{run, run_daemon};

/// One instance, in `dir`.
#[derive(Debug, Clone)]
pub struct Instance {
    pub dir: PathBuf,
    pub conf: PathBuf,
    pub log: PathBuf,
}

impl Instance {
    /// Makes the instance's directories and configuration from the distribution's, and lists
    /// its config directory in the run's own /etc/postfix (Postfix refuses one not listed).
    pub fn new(dir: &Path) -> Result<Instance, String> {
        for binary in ["postfix", "postconf", "sendmail", "script"] {
            if run(Command::new("sh").args(["-c", &format!("command -v {binary}")])).is_err() {
                return Err(format!(
                    "{binary} is not installed: run scripts/test.sh (as root), which installs it"
                ));
            }
        }
        let conf = super::sub(dir, "conf")?;
        super::sub(dir, "queue")?;
        let data = super::sub(dir, "data")?;
        crate::lab::private_postfix_conf(&conf)?;
        run(Command::new("chown").arg("postfix").arg(&data))?;
        let instance = Instance {
            dir: dir.to_path_buf(),
            log: dir.join("postfix.log"),
            conf,
        };
        instance.set(&[
            "inet_protocols = ipv4".to_string(),
            format!("queue_directory = {}", dir.join("queue").display()),
            format!("data_directory = {}", data.display()),
            format!("maillog_file_prefixes = {}", dir.display()),
            format!("maillog_file = {}", instance.log.display()),
            "mydestination =".to_string(),
            "alias_maps =".to_string(),
            "alias_database =".to_string(),
            "relayhost =".to_string(),
        ])?;
        run(Command::new("postconf")
            .arg("-c")
            .arg(&instance.conf)
            .args(["-F", "*/*/chroot = n"]))?;
        // No listener unless the caller adds one.
        run(Command::new("postconf")
            .arg("-c")
            .arg(&instance.conf)
            .args(["-MX", "smtp/inet", "submission/inet", "smtps/inet"]))?;
        Ok(instance)
    }

    /// `postconf -e` with these `name = value` settings.
    pub fn set(&self, settings: &[String]) -> Result<(), String> {
        run(Command::new("postconf")
            .arg("-c")
            .arg(&self.conf)
            .arg("-e")
            .args(settings))
        .map(drop)
    }

    /// A master.cf entry (`postconf -M`).
    pub fn service(&self, entry: &str) -> Result<(), String> {
        run(Command::new("postconf")
            .arg("-c")
            .arg(&self.conf)
            .arg("-M")
            .arg(entry))
        .map(drop)
    }

    /// `postfix start` (under script(1): it reports start-up errors only to a terminal).
    pub fn start(&self) -> Result<(), String> {
        run_daemon(
            Command::new("script").args([
                "-qec",
                &format!("postfix -c {} start", self.conf.display()),
                "/dev/null",
            ]),
            &self.dir.join("start.out"),
        )
        .map_err(|e| format!("{e}\npostfix log: {}", self.log_text()))
    }

    /// What the instance logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
