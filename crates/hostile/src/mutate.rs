//! A deterministic mutation fuzzer that runs on stable Rust.
//!
//! It is no replacement for libFuzzer's coverage guidance (see `fuzz/`), but it needs nothing
//! but `cargo test`: every seed is run as it is, then mutated a fixed number of times with a
//! fixed seed (bit flips, interesting numbers, cuts, duplications, tokens of the format,
//! splices with another seed), so a failure is reproducible from the seed and the iteration.
//! Panics are caught per input, also those raised on the reader's own threads; an input that
//! runs longer than the watchdog limit aborts the process after saving it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use crate::Target;

/// SplitMix64: small, fast and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

static SURVEY_TOKENS: &[&[u8]] = &[
    b"[[sections]]\n",
    b"[[sections.questions]]\n",
    b"id = \"",
    b"kind = \"single\"\n",
    b"kind = \"count\"\n",
    b"skip = [{ when = [\"1\"], to = \"a\" }]\n",
    b"options = [{ code = \"1\", label = \"x\" }, { code = \"2\", label = \"y\" }]\n",
    b"items = [{ code = \"a\", label = \"x\" }]\n",
    b"max = 1e308\n",
    b"min = -1\n",
    b"decimals = 255\n",
    b"version = 18446744073709551615\n",
    b"\"\"\"",
    b"'''",
    b"\"",
    b"=",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\n",
    b"\xEF\xBB\xBF",
    b"\x82\xA0",
    b"\xFF",
    b"nan",
    b"inf",
    b"\\u0000",
];

static TEXT_TOKENS: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b",",
    b",,,,,,,,",
    b"\t",
    b";",
    b"\r\n",
    b"\n",
    b"\r",
    b"\xEF\xBB\xBF",
    b"\x81",
    b"\x82\xA0",
    b"\x81\x7F",
    b"\xE3\x81",
    b"\xE3\x81\x82",
    b"\xC3\xA9",
    "○".as_bytes(),
    "１２３".as_bytes(),
    "−".as_bytes(),
    "ー".as_bytes(),
    "〒".as_bytes(),
    "施設コード".as_bytes(),
    "管理No".as_bytes(),
    "事業所番号".as_bytes(),
    "医療機関コード".as_bytes(),
    "正式名称".as_bytes(),
    "種類,キー,地区\n".as_bytes(),
    b"survey",
    b"dental",
    b"99999999999999999999999",
    b"1e400",
    b"-0",
    b"0x10",
    b"=",
    b" ",
];

static SCAN_TOKENS: &[&[u8]] = &[
    b"%PDF-1.4\n",
    b"%%EOF",
    b" obj\n",
    b"endobj\n",
    b"stream\n",
    b"\nendstream\n",
    b"xref\n",
    b"trailer\n",
    b"startxref\n",
    b"/Filter /CCITTFaxDecode ",
    b"/Filter /FlateDecode ",
    b"/Filter /DCTDecode ",
    b"/DecodeParms << /K -1 /Columns 30000 >> ",
    b"/K 4 ",
    b"/BlackIs1 true ",
    b"/EncodedByteAlign true ",
    b"/Width 30000 ",
    b"/Height 0 ",
    b"/BitsPerComponent 16 ",
    b"/ColorSpace /DeviceCMYK ",
    b"/ColorSpace [/Indexed /DeviceRGB 255 <00>] ",
    b"/ImageMask true ",
    b"/Decode [1 0] ",
    b"/Rotate 90 ",
    b"/Encrypt ",
    b"/Predictor 15 ",
    b"II*\0",
    b"MM\0*",
    b"\x00\x01",
    b"\x01\x01",
    b"\x02\x01",
    b"\x03\x01",
    b"\x06\x01",
    b"\x11\x01",
    b"\x16\x01",
    b"\x17\x01",
    b"\x24\x01",
    b"\x25\x01",
    b"\x0a\x01",
    b"\x30\x75",
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\xff",
    b"\xFF\xC0",
    b"\xFF\xDA",
    b"\xFF\xC4",
    b"IHDR",
    b"IDAT",
];

static CODE_TOKENS: &[&[u8]] = &[b"\0\0\0\0", b"\xff\xff\xff\xff"];

/// Tokens of each format, inserted or written over the input.
fn dictionary(target: Target) -> &'static [&'static [u8]] {
    match target {
        Target::Survey => SURVEY_TOKENS,
        Target::Replies | Target::Roster | Target::Jptext => TEXT_TOKENS,
        Target::Scan => SCAN_TOKENS,
        Target::PageCode => CODE_TOKENS,
    }
}

const INTERESTING: [u64; 12] = [
    0,
    1,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0xFFFF,
    30_000,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
    u64::MAX,
];

/// Mutates `data` in place: one to four stacked changes, the result at most `max_len` bytes.
pub fn mutate(rng: &mut Rng, target: Target, data: &mut Vec<u8>, other: &[u8], max_len: usize) {
    let dict = dictionary(target);
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = data.len();
        match rng.below(11) {
            // A bit.
            0 if len > 0 => {
                let at = rng.below(len);
                data[at] ^= 1 << rng.below(8);
            }
            // A byte.
            1 if len > 0 => {
                let at = rng.below(len);
                data[at] = rng.next_u64() as u8;
            }
            // A small step up or down.
            2 if len > 0 => {
                let at = rng.below(len);
                let d = 1 + rng.below(16) as u8;
                data[at] = if rng.below(2) == 0 {
                    data[at].wrapping_add(d)
                } else {
                    data[at].wrapping_sub(d)
                };
            }
            // An interesting number, 1, 2, 4 or 8 bytes, either byte order.
            3 if len > 0 => {
                let v = INTERESTING[rng.below(INTERESTING.len())];
                let width = 1 << rng.below(4);
                let bytes: Vec<u8> = if rng.below(2) == 0 {
                    v.to_le_bytes()[..width].to_vec()
                } else {
                    v.to_be_bytes()[8 - width..].to_vec()
                };
                let at = rng.below(len);
                let end = (at + bytes.len()).min(len);
                data[at..end].copy_from_slice(&bytes[..end - at]);
            }
            // Cut a range out.
            4 if len > 1 => {
                let at = rng.below(len);
                let most = if rng.below(4) == 0 { len } else { 64 };
                let n = 1 + rng.below((len - at).min(most));
                data.drain(at..at + n);
            }
            // Copy a range elsewhere.
            5 if len > 0 => {
                let from = rng.below(len);
                let n = 1 + rng.below((len - from).min(256));
                let piece = data[from..from + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, piece);
            }
            // Random bytes.
            6 => {
                let n = 1 + rng.below(16);
                let at = rng.below(len + 1);
                let piece: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                data.splice(at..at, piece);
            }
            // A token, inserted or written over.
            7 | 8 => {
                let token = dict[rng.below(dict.len())];
                let at = rng.below(len + 1);
                if rng.below(2) == 0 || at + token.len() > len {
                    data.splice(at..at, token.iter().copied());
                } else {
                    data[at..at + token.len()].copy_from_slice(token);
                }
            }
            // Cut the end off.
            9 if len > 0 => {
                data.truncate(rng.below(len));
            }
            // The start of this input and the end of another.
            10 if !other.is_empty() => {
                let keep = rng.below(len + 1);
                let from = rng.below(other.len());
                data.truncate(keep);
                data.extend_from_slice(&other[from..]);
            }
            _ => {
                let at = rng.below(len + 1);
                data.insert(at, rng.next_u64() as u8);
            }
        }
        if data.len() > max_len {
            data.truncate(max_len);
        }
    }
}

/// A panic (or invariant failure) found.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The target.
    pub target: Target,
    /// Which seed the input came from, and the mutation number (0 = the seed itself).
    pub origin: String,
    /// The panic message with its location.
    pub message: String,
    /// Where the input was saved.
    pub saved: Option<PathBuf>,
    /// The input.
    pub input: Vec<u8>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}] {} ({} bytes{}): {}",
            self.target.name(),
            self.origin,
            self.input.len(),
            self.saved
                .as_ref()
                .map(|p| format!(", saved as {}", p.display()))
                .unwrap_or_default(),
            self.message
        )
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Inputs run.
    pub execs: u64,
    /// Panics found (one per distinct message location).
    pub findings: Vec<Finding>,
    /// The slowest input: its origin and time.
    pub slowest: Option<(String, Duration)>,
    /// Wall time.
    pub elapsed: Duration,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Mutations per seed.
    pub mutations_per_seed: usize,
    /// The random seed.
    pub seed: u64,
    /// An input running longer than this is saved and the process aborted.
    pub watchdog: Duration,
    /// Where findings and hung inputs are saved.
    pub save_dir: PathBuf,
    /// Stop after the round running when this much time has passed (long runs are asked
    /// for by time, whatever the machine's speed); `None`: all rounds.
    pub time_limit: Option<Duration>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            mutations_per_seed: 50,
            seed: 1,
            watchdog: Duration::from_secs(120),
            save_dir: std::env::temp_dir().join("capsurvey-hostile-findings"),
            time_limit: None,
        }
    }
}

/// The last panic message of any thread (readers panic on their own threads too).
static PANIC: Mutex<Option<String>> = Mutex::new(None);
static QUIET: AtomicBool = AtomicBool::new(false);

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.load(Ordering::Relaxed) {
                let mut last = PANIC.lock().unwrap_or_else(|e| e.into_inner());
                if last.is_none() {
                    let thread = std::thread::current();
                    *last = Some(format!(
                        "{info} (thread {})",
                        thread.name().unwrap_or("unnamed")
                    ));
                }
            } else {
                previous(info);
            }
        }));
    });
}

/// One run at a time: a panic on a reader's own thread cannot be told apart otherwise.
static RUNNING: Mutex<()> = Mutex::new(());

/// Runs one input, catching a panic on any thread; `Err` is the panic message.
pub fn run_one(target: Target, data: &[u8]) -> Result<(), String> {
    let _one = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    run_unlocked(target, data)
}

fn run_unlocked(target: Target, data: &[u8]) -> Result<(), String> {
    install_hook();
    *PANIC.lock().unwrap_or_else(|e| e.into_inner()) = None;
    QUIET.store(true, Ordering::Relaxed);
    let caught = catch_unwind(AssertUnwindSafe(|| target.run(data)));
    QUIET.store(false, Ordering::Relaxed);
    let message = PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
    match (caught, message) {
        (Ok(()), None) => Ok(()),
        (_, Some(m)) => Err(m),
        (Err(_), None) => Err("panic without a message".into()),
    }
}

fn save(dir: &std::path::Path, target: Target, data: &[u8], kind: &str) -> Option<PathBuf> {
    std::fs::create_dir_all(dir).ok()?;
    // FNV-1a names the input by its content.
    let hash = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let path = dir.join(format!("{}-{kind}-{hash:016x}", target.name()));
    std::fs::write(&path, data).ok()?;
    Some(path)
}

/// Runs every seed, then `mutations_per_seed` mutations of each, for one target.
/// Findings are collected (one per panic location), not raised.
pub fn fuzz(target: Target, seeds: &[(String, Vec<u8>)], opts: &Options) -> Summary {
    let _one = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut seen = std::collections::HashSet::new();
    let mut rng = Rng::new(opts.seed ^ (target as u64).wrapping_mul(0x1000_0000_01b3));
    // The input running and since when, for the watchdog.
    type Current = Arc<Mutex<Option<(Instant, Vec<u8>)>>>;
    let current: Current = Arc::new(Mutex::new(None));
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let current = Arc::clone(&current);
        let done = Arc::clone(&done);
        let limit = opts.watchdog;
        let dir = opts.save_dir.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::park_timeout(Duration::from_millis(200));
                let guard = current.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((since, input)) = guard.as_ref()
                    && since.elapsed() > limit
                {
                    let saved = save(&dir, target, input, "hang");
                    eprintln!(
                        "[{}] an input ran longer than {limit:?}: saved as {saved:?}; aborting",
                        target.name()
                    );
                    std::process::abort();
                }
            }
        })
    };
    let max_len = target.max_len();
    let mut exec = |origin: String, input: Vec<u8>, summary: &mut Summary| {
        *current.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), input.clone()));
        let t = Instant::now();
        let result = run_unlocked(target, &input);
        let took = t.elapsed();
        *current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        summary.execs += 1;
        if summary.slowest.as_ref().is_none_or(|(_, d)| took > *d) {
            summary.slowest = Some((origin.clone(), took));
        }
        if let Err(message) = result {
            // One finding per panic location (the first line of the message).
            let key = message.lines().next().unwrap_or_default().to_owned();
            if seen.insert(key) {
                let saved = save(&opts.save_dir, target, &input, "crash");
                summary.findings.push(Finding {
                    target,
                    origin,
                    message,
                    saved,
                    input,
                });
            }
        }
    };
    for (name, bytes) in seeds {
        let mut input = bytes.clone();
        input.truncate(max_len);
        exec(format!("{name} as is"), input, &mut summary);
    }
    if !seeds.is_empty() {
        for round in 1..=opts.mutations_per_seed {
            if opts.time_limit.is_some_and(|l| started.elapsed() > l) {
                break;
            }
            for (name, bytes) in seeds {
                let mut input = bytes.clone();
                input.truncate(max_len);
                let other = &seeds[rng.below(seeds.len())].1;
                mutate(&mut rng, target, &mut input, other, max_len);
                exec(format!("{name} mutation {round}"), input, &mut summary);
            }
        }
    }
    summary.elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    watchdog.thread().unpark();
    let _ = watchdog.join();
    summary
}
