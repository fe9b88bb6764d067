//! A STARTTLS relay for oracles that speak only implicit TLS (NSS's `tstclnt`): it accepts one
//! connection on 127.0.0.1, speaks the mail protocol's plain-text part with the real server up
//! to its STARTTLS go-ahead, then passes bytes both ways, so the oracle's TLS handshake and
//! certificate check happen with the real server exactly as a client's would after STARTTLS.
//! When the server offers no STARTTLS, the relay closes the connection: the oracle connects to
//! nothing, as the client would.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Longest wait for one line of the server, or for the oracle to connect.
const STEP: Duration = Duration::from_secs(10);
/// Longest line read from the server, and most lines in one reply.
const MAX_LINE: usize = 4096;
const MAX_LINES: usize = 64;

/// The plain-text part before TLS.
#[derive(Debug, Clone, Copy)]
pub enum Dialogue {
    /// EHLO, STARTTLS (RFC 3207).
    Smtp,
    /// STARTTLS (RFC 3501).
    Imap,
    /// STLS (RFC 2595).
    Pop3,
}

impl Dialogue {
    /// The dialogue a STARTTLS port needs, or None for an implicit-TLS port.
    pub fn for_port(port: u16) -> Option<Dialogue> {
        match port {
            25 | 587 => Some(Dialogue::Smtp),
            143 => Some(Dialogue::Imap),
            110 => Some(Dialogue::Pop3),
            _ => None,
        }
    }
}

/// Listens on 127.0.0.1 for one connection that it relays to `server` after `dialogue`;
/// returns the port to connect to. The relay thread ends with the connection, or after
/// [`STEP`] when nobody connects.
pub fn relay_once(server: SocketAddr, dialogue: Dialogue) -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    listener.set_nonblocking(true)?;
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + STEP;
        let client = loop {
            match listener.accept() {
                Ok((client, _)) => break client,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if std::time::Instant::now() > deadline {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return,
            }
        };
        let Ok(mut upstream) = TcpStream::connect_timeout(&server, STEP) else {
            return;
        };
        if upstream.set_read_timeout(Some(STEP)).is_err()
            || client.set_nonblocking(false).is_err()
            || starttls(&mut upstream, dialogue).is_err()
        {
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        splice(client, upstream);
    });
    Ok(port)
}

/// Speaks the plain-text part up to the server's go-ahead; an error when the server does not
/// offer STARTTLS or refuses it.
fn starttls(server: &mut TcpStream, dialogue: Dialogue) -> Result<(), String> {
    match dialogue {
        Dialogue::Smtp => {
            expect(&reply(server)?, "220")?;
            server
                .write_all(b"EHLO oracle.test\r\n")
                .map_err(|e| e.to_string())?;
            let ehlo = reply(server)?;
            expect(&ehlo, "250")?;
            if !ehlo.iter().any(|l| {
                l.get(4..)
                    .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"))
            }) {
                return Err("STARTTLS not offered".to_string());
            }
            server
                .write_all(b"STARTTLS\r\n")
                .map_err(|e| e.to_string())?;
            expect(&reply(server)?, "220")
        }
        Dialogue::Imap => {
            expect(&[line(server)?], "* OK")?;
            server
                .write_all(b"a STARTTLS\r\n")
                .map_err(|e| e.to_string())?;
            loop {
                let answer = line(server)?;
                if answer.starts_with("* ") {
                    continue;
                }
                return expect(&[answer], "a OK");
            }
        }
        Dialogue::Pop3 => {
            expect(&[line(server)?], "+OK")?;
            server.write_all(b"STLS\r\n").map_err(|e| e.to_string())?;
            expect(&[line(server)?], "+OK")
        }
    }
}

fn expect(lines: &[String], start: &str) -> Result<(), String> {
    match lines.last() {
        Some(last) if last.starts_with(start) => Ok(()),
        _ => Err(format!("expected {start}, got {lines:?}")),
    }
}

/// An SMTP reply: lines until one whose fourth character is not `-`.
fn reply(server: &mut TcpStream) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    while lines.len() < MAX_LINES {
        let next = line(server)?;
        let last = next.as_bytes().get(3) != Some(&b'-');
        if next.len() < 4 {
            return Err(format!("not an SMTP reply: {next:?}"));
        }
        lines.push(next);
        if last {
            return Ok(lines);
        }
    }
    Err("an endless reply".to_string())
}

/// One line, read a byte at a time so that nothing after it (the TLS that follows the
/// go-ahead) is taken from the socket.
fn line(server: &mut TcpStream) -> Result<String, String> {
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while bytes.len() < MAX_LINE {
        match server.read(&mut byte) {
            Ok(0) => return Err("the server closed the connection".to_string()),
            Ok(_) if byte[0] == b'\n' => {
                return Ok(String::from_utf8_lossy(&bytes).trim_end().to_string());
            }
            Ok(_) => bytes.push(byte[0]),
            Err(e) => return Err(e.to_string()),
        }
    }
    Err("a line too long".to_string())
}

/// Passes bytes both ways until either side closes.
fn splice(client: TcpStream, server: TcpStream) {
    let (Ok(mut client_read), Ok(mut server_read)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    let _ = server.set_read_timeout(Some(STEP));
    let _ = client.set_read_timeout(Some(STEP));
    let (mut client_write, mut server_write) = (client, server);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut server_write);
        let _ = server_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server_read, &mut client_write);
    let _ = client_write.shutdown(Shutdown::Both);
    let _ = up.join();
}
