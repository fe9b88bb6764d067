//! Running the mailtls binary from a test: exit status, stdout and stderr, never colour.
#![allow(dead_code)]

use std::process::Command;

/// Runs `command` with `NO_COLOR` set; returns (exit status, stdout, stderr).
pub fn output_of(command: &mut Command) -> (i32, String, String) {
    let output = command
        .env("NO_COLOR", "1")
        .output()
        .expect("the command runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs the mailtls binary with `args`.
pub fn mailtls(args: &[&str]) -> (i32, String, String) {
    output_of(Command::new(env!("CARGO_BIN_EXE_mailtls")).args(args))
}
