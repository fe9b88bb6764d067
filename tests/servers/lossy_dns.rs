//! A DNS relay in front of the lab's dnsmasq that loses answers the way a resolver under load
//! does, but deterministically: the first `drops` copies of each question whose name matches
//! are not answered; every other question (and later copies) goes to dnsmasq and back. It notes
//! when each question came (with no drops, it is a counting relay: what a resolver sees).

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running relay; stops when dropped.
pub struct LossyDns {
    /// Where to send questions (`--dns`).
    pub address: SocketAddr,
    /// Questions not answered so far.
    pub dropped: Arc<AtomicUsize>,
    /// When each question came.
    pub questions: Arc<Mutex<Vec<Instant>>>,
    stop: Arc<AtomicBool>,
}

impl LossyDns {
    /// The most questions that came within any one second.
    pub fn peak_per_second(&self) -> usize {
        super::proxy::peak_per_second(&self.questions.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Drop for LossyDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Starts a relay on 127.0.0.1 to `upstream` that leaves the first `drops` copies of each
/// question about a name for which `lossy` holds unanswered.
pub fn start(
    upstream: SocketAddr,
    drops: usize,
    lossy: fn(&str) -> bool,
) -> std::io::Result<LossyDns> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.set_read_timeout(Some(Duration::from_millis(200)))?;
    let address = socket.local_addr()?;
    let dropped = Arc::new(AtomicUsize::new(0));
    let questions: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<HashMap<(String, u16), usize>>> = Arc::default();
    let socket = Arc::new(socket);
    {
        let (dropped, stop) = (Arc::clone(&dropped), Arc::clone(&stop));
        let questions = Arc::clone(&questions);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 1500];
            while !stop.load(Ordering::SeqCst) {
                let Ok((length, client)) = socket.recv_from(&mut buffer) else {
                    continue;
                };
                let packet = buffer[..length].to_vec();
                let Some(question) = question(&packet) else {
                    continue;
                };
                questions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Instant::now());
                if lossy(&question.0) {
                    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                    let copies = seen.entry(question).or_insert(0);
                    *copies += 1;
                    if *copies <= drops {
                        dropped.fetch_add(1, Ordering::SeqCst);
                        continue;
                    }
                }
                let socket = Arc::clone(&socket);
                std::thread::spawn(move || {
                    let _ = relay(&socket, &packet, client, upstream);
                });
            }
        });
    }
    Ok(LossyDns {
        address,
        dropped,
        questions,
        stop,
    })
}

/// Sends `packet` to `upstream` and its answer back to `client`.
fn relay(
    socket: &UdpSocket,
    packet: &[u8],
    client: SocketAddr,
    upstream: SocketAddr,
) -> std::io::Result<()> {
    let outgoing = UdpSocket::bind("127.0.0.1:0")?;
    outgoing.set_read_timeout(Some(Duration::from_secs(5)))?;
    outgoing.send_to(packet, upstream)?;
    let mut answer = [0u8; 4096];
    let length = outgoing.recv(&mut answer)?;
    socket.send_to(&answer[..length], client)?;
    Ok(())
}

/// The first question of a DNS query: (name in lower case without the final dot, type).
fn question(packet: &[u8]) -> Option<(String, u16)> {
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let length = usize::from(*packet.get(at)?);
        at += 1;
        if length == 0 {
            break;
        }
        // Queries carry no compression; anything else is not a question to judge.
        if length > 63 || labels.len() > 127 {
            return None;
        }
        labels.push(String::from_utf8_lossy(packet.get(at..at + length)?).to_ascii_lowercase());
        at += length;
    }
    let kind = u16::from_be_bytes([*packet.get(at)?, *packet.get(at + 1)?]);
    Some((labels.join("."), kind))
}
