//! A hostile "Imgur" for tests: a raw HTTP/1.1 server on loopback that reads each request
//! whole and then misbehaves in one chosen way (redirects, huge, dripping, cut-off or
//! unreadable answers), and a bystander server on another loopback address that records
//! whatever reaches it. Shared by the API client's and the CLI's hostile suites.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// One GiB: the size of the huge answers, streamed lazily (never allocated).
pub const GIB: u64 = 1 << 30;

/// How the server answers every request.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// A redirect with this status to this location.
    Redirect { status: u16, location: String },
    /// `200` with `Content-Length: 1 GiB`, the body streamed as long as the peer reads.
    HugeWithLength,
    /// `200` with a chunked 1 GiB body (no length to refuse up front).
    HugeChunked,
    /// `200` and its headers (`Content-Length: 100`), then one byte every 5 s.
    Drip,
    /// Reads the request and never answers.
    Silent,
    /// Reads the request whole and closes the connection without a word.
    Hangup,
    /// `200` with `Content-Length: 1000`, 10 bytes, then the connection closed.
    Truncated,
    /// This status and body, `application/json` unless it starts with `<`.
    Body { status: u16, body: Vec<u8> },
    /// `200` with these extra header lines (`Name: value\r\n` each) and this body.
    WithHeaders { headers: String, body: Vec<u8> },
    /// Reads the first `slow_bytes` of a body slowly (`chunk` bytes every `pause`), the rest
    /// at full speed, then answers this body with `200`: an upload on a slow uplink.
    SlowReader {
        slow_bytes: usize,
        chunk: usize,
        pause: Duration,
        body: Vec<u8>,
    },
    /// Reads the request head and then never reads again (nor answers), holding the
    /// connection open: a server that stopped taking the upload. Its receive buffer is small,
    /// so the client's writes stop soon.
    Deaf,
}

/// What one request looked like.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The request line and headers.
    pub head: String,
    /// How many body bytes arrived.
    pub body_len: usize,
}

/// A running server and what it saw.
pub struct Server {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Connections accepted (a client that connects and sends nothing still counts).
    pub connections: Arc<Mutex<usize>>,
    /// Every byte received, in order, for checks such as "no secret arrived".
    pub raw: Arc<Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// `http://ADDR`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests seen so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many connections were accepted.
    pub fn connection_count(&self) -> usize {
        *self.connections.lock().unwrap()
    }

    /// Everything received, as text (lossy).
    pub fn received_text(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }
}

/// The other loopback address the bystander listens on: 127.0.0.2 where it can be bound
/// (Linux routes all of 127/8 to loopback), else 127.0.0.1 on another port.
pub async fn bystander_listener() -> TcpListener {
    match TcpListener::bind("127.0.0.2:0").await {
        Ok(listener) => listener,
        Err(_) => TcpListener::bind("127.0.0.1:0").await.unwrap(),
    }
}

/// A server on `127.0.0.1` that behaves as told.
pub async fn start(behaviour: Behaviour) -> Server {
    let socket = TcpSocket::new_v4().unwrap();
    // A small receive buffer, so that a slow reader really slows the sender down.
    if matches!(behaviour, Behaviour::SlowReader { .. } | Behaviour::Deaf) {
        socket.set_recv_buffer_size(64 * 1024).unwrap();
    }
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(64).unwrap();
    serve(listener, Some(behaviour))
}

/// A bystander on another loopback address: it records what arrives and answers a plain
/// success envelope (as another host's JSON would look), so a followed redirect would show.
pub async fn start_bystander() -> Server {
    serve(
        bystander_listener().await,
        Some(Behaviour::Body {
            status: 200,
            body: br#"{"data":{"id":"Bystand","link":"https://bystander.example/x.png","deletehash":"fromthewronghost"},"success":true,"status":200}"#.to_vec(),
        }),
    )
}

fn serve(listener: TcpListener, behaviour: Option<Behaviour>) -> Server {
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(Mutex::new(0));
    let raw = Arc::new(Mutex::new(Vec::new()));
    let (seen2, connections2, raw2) = (seen.clone(), connections.clone(), raw.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            *connections2.lock().unwrap() += 1;
            let behaviour = behaviour.clone();
            let (seen, raw) = (seen2.clone(), raw2.clone());
            tokio::spawn(async move {
                let _ = handle(stream, behaviour, seen, raw).await;
            });
        }
    });
    Server {
        addr,
        seen,
        connections,
        raw,
        task,
    }
}

async fn handle(
    mut stream: TcpStream,
    behaviour: Option<Behaviour>,
    seen: Arc<Mutex<Vec<Seen>>>,
    raw: Arc<Mutex<Vec<u8>>>,
) -> std::io::Result<()> {
    loop {
        // The head.
        let mut buffer = Vec::new();
        let head_end = loop {
            if let Some(end) = find(&buffer, b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 8192];
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(());
            }
            raw.lock().unwrap().extend_from_slice(&chunk[..read]);
            buffer.extend_from_slice(&chunk[..read]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        if matches!(behaviour, Some(Behaviour::Deaf)) {
            seen.lock().unwrap().push(Seen { head, body_len: 0 });
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        // The body.
        let mut body_len = buffer.len() - head_end;
        let mut chunk = vec![0u8; 64 * 1024];
        while body_len < length {
            let want = (length - body_len).min(chunk.len());
            let want = match &behaviour {
                Some(Behaviour::SlowReader {
                    slow_bytes,
                    chunk: slow_chunk,
                    pause,
                    ..
                }) if body_len < *slow_bytes => {
                    tokio::time::sleep(*pause).await;
                    want.min(*slow_chunk)
                }
                _ => want,
            };
            let read = stream.read(&mut chunk[..want]).await?;
            if read == 0 {
                return Ok(());
            }
            // Bodies are recorded too (a secret in a form must not reach the bystander).
            raw.lock().unwrap().extend_from_slice(&chunk[..read]);
            body_len += read;
        }
        seen.lock().unwrap().push(Seen { head, body_len });
        let Some(behaviour) = &behaviour else {
            return Ok(());
        };
        if !answer(&mut stream, behaviour).await? {
            return Ok(());
        }
    }
}

/// Writes the answer; whether the connection may serve another request.
async fn answer(stream: &mut TcpStream, behaviour: &Behaviour) -> std::io::Result<bool> {
    match behaviour {
        Behaviour::Redirect { status, location } => {
            let text = format!(
                "HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
            );
            stream.write_all(text.as_bytes()).await?;
            Ok(true)
        }
        Behaviour::HugeWithLength => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {GIB}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            let block = vec![b' '; 64 * 1024];
            let mut sent = 0u64;
            while sent < GIB {
                stream.write_all(&block).await?;
                sent += block.len() as u64;
            }
            Ok(false)
        }
        Behaviour::HugeChunked => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                )
                .await?;
            let block = vec![b' '; 64 * 1024];
            let mut frame = format!("{:x}\r\n", block.len()).into_bytes();
            frame.extend_from_slice(&block);
            frame.extend_from_slice(b"\r\n");
            let mut sent = 0u64;
            while sent < GIB {
                stream.write_all(&frame).await?;
                sent += block.len() as u64;
            }
            stream.write_all(b"0\r\n\r\n").await?;
            Ok(false)
        }
        Behaviour::Drip => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
                )
                .await?;
            for _ in 0..100 {
                stream.write_all(b" ").await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            Ok(false)
        }
        Behaviour::Hangup => {
            stream.shutdown().await?;
            Ok(false)
        }
        Behaviour::Silent => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(false)
        }
        Behaviour::Truncated => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"data\":{",
                )
                .await?;
            stream.flush().await?;
            stream.shutdown().await?;
            Ok(false)
        }
        Behaviour::Body { status, body } => {
            write_body(stream, *status, body).await?;
            Ok(true)
        }
        Behaviour::Deaf => Ok(false),
        Behaviour::SlowReader { body, .. } => {
            write_body(stream, 200, body).await?;
            Ok(true)
        }
        Behaviour::WithHeaders { headers, body } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body).await?;
            stream.flush().await?;
            Ok(true)
        }
    }
}

async fn write_body(stream: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    let kind = if body.first() == Some(&b'<') {
        "text/html"
    } else {
        "application/json"
    };
    let head = format!(
        "HTTP/1.1 {status} Answer\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// JSON nested `depth` deep: `[[[…]]]`.
pub fn nested_json(depth: usize) -> Vec<u8> {
    let mut body = vec![b'['; depth];
    body.extend(std::iter::repeat_n(b']', depth));
    body
}

/// A well-formed upload answer.
pub fn good_upload_answer() -> Vec<u8> {
    br#"{"data":{"id":"Good123","deletehash":"abcdefghijklmno","link":"https://i.imgur.com/Good123.png","type":"image/png"},"success":true,"status":200}"#.to_vec()
}

/// The peak resident memory of this process so far, in KiB (`VmHWM`).
pub fn own_peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix("VmHWM:")?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}
