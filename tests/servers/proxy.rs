//! A counting TCP proxy in front of a lab server: what the server side sees of a client's
//! politeness. It counts the connections open at once (and the most ever), all connections, and
//! the most connections started within any one second, and the names clients greet SMTP with.
//! It can also hold every piece it passes on for a while, each way: a server that far away.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Connections the proxy has open now, the most it ever had, how many it took in all, and when
/// each started.
#[derive(Default)]
pub struct Counter {
    open: AtomicUsize,
    /// The most connections open at once.
    pub peak: AtomicUsize,
    /// Connections taken in all.
    pub total: AtomicUsize,
    starts: Mutex<Vec<Instant>>,
    /// The names clients greeted SMTP with (`EHLO NAME` in clear, before any TLS), each once.
    greetings: Mutex<Vec<String>>,
    /// How long each piece is held before it is passed on, each way (microseconds).
    delay_us: AtomicU64,
}

impl Counter {
    fn enter(&self) {
        let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        self.total.fetch_add(1, Ordering::SeqCst);
        self.starts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Instant::now());
    }

    fn leave(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }

    /// Forgets what was counted (connections open now stay open).
    pub fn reset(&self) {
        self.peak
            .store(self.open.load(Ordering::SeqCst), Ordering::SeqCst);
        self.total.store(0, Ordering::SeqCst);
        self.starts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.greetings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Holds every piece passed on from now for `delay`, each way: a server a round trip of
    /// twice that away (the benchmark's, through `examples/lab.rs`).
    #[allow(dead_code)]
    pub fn set_delay(&self, delay: Duration) {
        let us = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.delay_us.store(us, Ordering::SeqCst);
    }

    fn delay(&self) -> Duration {
        Duration::from_micros(self.delay_us.load(Ordering::SeqCst))
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// The EHLO names seen since the last reset.
    pub fn greetings(&self) -> Vec<String> {
        self.greetings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Notes an `EHLO NAME` line at the start of what a client sent.
    fn note_greeting(&self, sent: &[u8]) {
        let Some(line) = sent.strip_prefix(b"EHLO ") else {
            return;
        };
        let Some(end) = line.iter().position(|b| *b == b'\r') else {
            return;
        };
        let name = String::from_utf8_lossy(&line[..end]).into_owned();
        let mut greetings = self.greetings.lock().unwrap_or_else(|p| p.into_inner());
        if !greetings.contains(&name) {
            greetings.push(name);
        }
    }

    /// The most connections started within any one second.
    pub fn peak_per_second(&self) -> usize {
        peak_per_second(&self.starts.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The most of `times` within any one second.
pub fn peak_per_second(times: &[Instant]) -> usize {
    let mut times = times.to_vec();
    times.sort();
    let mut most = 0;
    let mut first = 0;
    for (last, at) in times.iter().enumerate() {
        while *at - times[first] >= Duration::from_secs(1) {
            first += 1;
        }
        most = most.max(last - first + 1);
    }
    most
}

/// Proxies every connection to `listen` on to `backend`. A connection counts as a server sees
/// it: from its accept until one side closes (the client, or the server after QUIT). The close
/// is counted before it is passed on, so a client that waits for it before opening its next
/// connection (as the engine does) is never counted twice.
pub async fn proxy(listener: TcpListener, backend: SocketAddr, counter: Arc<Counter>) {
    while let Ok((client, _)) = listener.accept().await {
        counter.enter();
        let counter = Arc::clone(&counter);
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(backend).await else {
                counter.leave();
                return;
            };
            let closed = std::sync::Once::new();
            let close = || closed.call_once(|| counter.leave());
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let upstream = async {
                let mut buffer = vec![0u8; 16 * 1024];
                while let Ok(n) = client_read.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    counter.note_greeting(&buffer[..n]);
                    hold(counter.delay()).await;
                    if server_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
                close();
                let _ = server_write.shutdown().await;
            };
            let downstream = async {
                let mut buffer = vec![0u8; 16 * 1024];
                while let Ok(n) = server_read.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    hold(counter.delay()).await;
                    if client_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
                close();
                let _ = client_write.shutdown().await;
            };
            tokio::join!(upstream, downstream);
        });
    }
}

/// Waits `delay`, if any.
async fn hold(delay: Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}
