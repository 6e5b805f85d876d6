//! Compressing what many documents share once.
//!
//! Forms of one survey differ in a few lines of text; their shared layers ([`super::Page::over`])
//! encode to the same content-stream bytes, and the glyphs of those layers, numbered first, make
//! the same leading part of every font subset. Compressing those bytes again for every document
//! was most of the time spent writing a form. This module keeps their compressed form:
//!
//! - [`deflate_shared`]: a whole stream, looked up by its exact bytes;
//! - [`deflate_segments`]: a zlib stream made of independently compressed segments (each ended
//!   by a full flush, which leaves the bit stream byte-aligned and lets nothing refer back past
//!   it), of which the shared ones come from the cache; the result is one valid zlib stream whose
//!   Adler-32 covers all the data.
//!
//! The cache holds at most [`CAPACITY`] bytes and forgets the oldest entries first. Entries are
//! compared byte for byte, so a hash collision can never give wrong output.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use flate2::FlushCompress;

/// Most bytes (uncompressed and compressed) the cache holds.
pub(crate) const CAPACITY: usize = 48 * 1024 * 1024;

/// Segments shorter than this are not worth caching.
const MIN_SHARED: usize = 1024;

struct Entry {
    /// What `compressed` is: a whole zlib stream or a raw deflate segment.
    kind: Kind,
    hash: u64,
    raw: Vec<u8>,
    compressed: Arc<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zlib,
    Segment,
}

static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

fn hash(data: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    data.hash(&mut h);
    h.finish()
}

/// Looks `raw` up, or compresses it with `compress` and remembers the result.
fn cached(kind: Kind, raw: &[u8], compress: impl FnOnce(&[u8]) -> Vec<u8>) -> Arc<Vec<u8>> {
    let h = hash(raw);
    {
        let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = cache
            .iter()
            .find(|e| e.kind == kind && e.hash == h && e.raw == raw)
        {
            return Arc::clone(&e.compressed);
        }
    }
    // Compress outside the lock; two threads may do the same work once, which is harmless.
    let compressed = Arc::new(compress(raw));
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if !cache
        .iter()
        .any(|e| e.kind == kind && e.hash == h && e.raw == raw)
    {
        let size = |e: &Entry| e.raw.len() + e.compressed.len();
        let mut total: usize = cache.iter().map(size).sum::<usize>() + raw.len() + compressed.len();
        while total > CAPACITY && !cache.is_empty() {
            total -= size(&cache.remove(0));
        }
        cache.push(Entry {
            kind,
            hash: h,
            raw: raw.to_vec(),
            compressed: Arc::clone(&compressed),
        });
    }
    compressed
}

/// `data` as a zlib stream (like [`super::content::deflate`]), compressed once per process.
pub(crate) fn deflate_shared(data: &[u8]) -> Arc<Vec<u8>> {
    cached(Kind::Zlib, data, super::content::deflate)
}

/// One zlib stream of `data` split at `cuts` (ascending byte offsets): each segment is compressed
/// on its own, and those marked shared in `shared` are taken from the cache.
pub(crate) fn deflate_segments(data: &[u8], cuts: &[usize], shared: &[bool]) -> Vec<u8> {
    let mut bounds = Vec::with_capacity(cuts.len() + 2);
    bounds.push(0);
    bounds.extend(cuts.iter().map(|&c| c.min(data.len())));
    bounds.push(data.len());
    let mut out = Vec::with_capacity(data.len() * 3 / 4 + 64);
    // zlib header: deflate, 32 K window, default level; (0x78 << 8 | 0x9C) % 31 == 0.
    out.extend_from_slice(&[0x78, 0x9C]);
    let segments = bounds.len() - 1;
    for i in 0..segments {
        let part = &data[bounds[i]..bounds[i + 1]];
        let last = i + 1 == segments;
        if !last && shared.get(i).copied().unwrap_or(false) && part.len() >= MIN_SHARED {
            out.extend_from_slice(&cached(Kind::Segment, part, |p| raw_deflate(p, false)));
        } else {
            out.extend_from_slice(&raw_deflate(part, last));
        }
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// Raw deflate (no zlib header): ended by a full flush, or as the final block if `last`.
fn raw_deflate(data: &[u8], last: bool) -> Vec<u8> {
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Full
    };
    super::content::zlib_with(false, data, flush)
}

/// The Adler-32 checksum zlib ends with.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before `b` could overflow.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Decompresses a zlib stream (tests).
#[cfg(test)]
pub(crate) fn inflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut d = flate2::write::ZlibDecoder::new(Vec::new());
    d.write_all(data).expect("valid zlib");
    d.finish().expect("valid zlib")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| ((i * 7919 + usize::from(seed)) % 251) as u8 ^ (i / 97) as u8)
            .collect()
    }

    #[test]
    fn segments_make_one_valid_zlib_stream() {
        let data = [sample(300, 1), sample(40_000, 2), sample(5_000, 3)].concat();
        for cuts in [vec![], vec![300], vec![300, 40_300], vec![0, 0, data.len()]] {
            let shared: Vec<bool> = (0..=cuts.len()).map(|i| i % 2 == 1).collect();
            let z = deflate_segments(&data, &cuts, &shared);
            assert_eq!(inflate(&z), data, "cuts {cuts:?}");
        }
        assert_eq!(inflate(&deflate_segments(&[], &[], &[])), Vec::<u8>::new());
    }

    #[test]
    fn shared_segments_are_reused_and_streams_cached() {
        let common = sample(50_000, 9);
        let a = [b"head-a".to_vec(), common.clone(), b"tail one".to_vec()].concat();
        let b = [b"head-bb".to_vec(), common.clone(), b"tail two!".to_vec()].concat();
        let za = deflate_segments(&a, &[6, 50_006], &[false, true]);
        let zb = deflate_segments(&b, &[7, 50_007], &[false, true]);
        assert_eq!(inflate(&za), a);
        assert_eq!(inflate(&zb), b);
        let s1 = deflate_shared(&common);
        let s2 = deflate_shared(&common);
        assert!(Arc::ptr_eq(&s1, &s2));
        assert_eq!(inflate(&s1), common);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }
}
