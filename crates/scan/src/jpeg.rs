//! A baseline JPEG decoder for what recognition reads of a fine scan: the luma (grey) plane at
//! 1/2, 1/4 or 1/8 of the stored size, scaled in the DCT domain.
//!
//! A 300-dpi A4 scan is about a megabyte of entropy-coded data and 136,000 blocks; recognition
//! reads it at 150 dpi ([`crate::RECOGNITION_DPI`]). Decoding it whole and averaging it down
//! spends a third of the time on inverse DCTs of detail that is then thrown away. Here each
//! block's coefficients are Huffman-decoded as usual, but only the low-frequency N × N corner
//! goes through an N-point inverse DCT (libjpeg's scaled decoding), which is the block's
//! average over N × N cells; chroma blocks are decoded only to be skipped.
//!
//! Only what scanners write is handled: 8-bit baseline or extended sequential Huffman JPEG,
//! grey or YCbCr, one interleaved scan (or the luma alone in the first scan), with or without
//! restart markers. For anything else — progressive, arithmetic coding, 12-bit, CMYK, RGB, a
//! damaged stream — [`parse`] or [`Jpeg::decode_luma_scaled`] returns `None` and the caller
//! decodes the whole image with `zune-jpeg`, which also reports the errors.
//!
//! Phases: [`parse`] reads the markers up to the first scan, [`Scan::decode`] walks the MCUs
//! with a [`BitReader`] and [`HuffmanTable`]s, decoding each luma block's kept coefficients
//! straight into its corner, and [`Idct`] (on x86-64 its SSE2 twin for the 4 × 4 case) turns
//! the corner into N × N pixels.

use std::f64::consts::PI;

/// The natural (row-major) index of the k-th coefficient in zig-zag order.
const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Bits looked up at once when decoding a Huffman code; longer codes take the slow path.
const LOOKUP_BITS: u32 = 11;

/// The run a fast AC entry gives for "end of block": past any coefficient index.
const EOB_RUN: usize = 0x80;

/// A JPEG whose headers this decoder reads, up to its first scan.
pub(crate) struct Jpeg {
    frame: Frame,
    scan: Scan,
}

impl Jpeg {
    /// Width and height of the image as stored.
    pub(crate) fn stored_size(&self) -> (u32, u32) {
        (u32::from(self.frame.width), u32::from(self.frame.height))
    }

    /// The luma plane at 1/`denominator` (2, 4 or 8) of the stored size, rounded up: width,
    /// height, pixels. `data` is the file [`parse`] read. `None` when its data is damaged.
    pub(crate) fn decode_luma_scaled(
        &self,
        data: &[u8],
        denominator: u32,
    ) -> Option<(u32, u32, Vec<u8>)> {
        let (frame, scan) = (&self.frame, &self.scan);
        match denominator {
            2 => scan.decode::<4>(data, frame),
            4 => scan.decode::<2>(data, frame),
            8 => scan.decode::<1>(data, frame),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Component {
    id: u8,
    h: u8,
    v: u8,
    quant: u8,
}

struct Frame {
    width: u16,
    height: u16,
    components: Vec<Component>,
    quant: [Option<[u16; 64]>; 4],
    restart_interval: u16,
}

/// The first scan: which components it holds with which tables, and where its data starts.
struct Scan {
    /// Index into the frame's components, DC table, AC table.
    members: Vec<(usize, usize, usize)>,
    dc: [Option<HuffmanTable>; 4],
    ac: [Option<HuffmanTable>; 4],
    data_start: usize,
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

/// Reads the markers up to the first start of scan; `None` if this decoder does not read the
/// file.
pub(crate) fn parse(data: &[u8]) -> Option<Jpeg> {
    if data.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2;
    let mut frame: Option<Frame> = None;
    let mut quant: [Option<[u16; 64]>; 4] = [None; 4];
    let mut dc: [Option<HuffmanTable>; 4] = Default::default();
    let mut ac: [Option<HuffmanTable>; 4] = Default::default();
    let mut restart_interval = 0;
    let mut adobe_transform: Option<u8> = None;
    loop {
        if *data.get(pos)? != 0xFF {
            return None;
        }
        while *data.get(pos)? == 0xFF {
            pos += 1;
        }
        let marker = *data.get(pos)?;
        pos += 1;
        let len = usize::from(be16(data, pos)?);
        let body = data.get(pos + 2..pos + len)?;
        match marker {
            // Baseline and extended sequential, Huffman coded.
            0xC0 | 0xC1 => {
                if frame.is_some() || *body.first()? != 8 {
                    return None;
                }
                let height = be16(body, 1)?;
                let width = be16(body, 3)?;
                let count = usize::from(*body.get(5)?);
                if width == 0 || height == 0 || !(count == 1 || count == 3) {
                    return None;
                }
                let mut components = Vec::with_capacity(count);
                for c in 0..count {
                    let b = body.get(6 + 3 * c..9 + 3 * c)?;
                    let (h, v) = (b[1] >> 4, b[1] & 15);
                    if !(1..=4).contains(&h) || !(1..=4).contains(&v) || b[2] > 3 {
                        return None;
                    }
                    components.push(Component {
                        id: b[0],
                        h,
                        v,
                        quant: b[2],
                    });
                }
                frame = Some(Frame {
                    width,
                    height,
                    components,
                    quant: [None; 4],
                    restart_interval: 0,
                });
            }
            // Progressive, lossless, hierarchical, arithmetic coded: not here.
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xC4 => {
                let mut at = 0;
                while at < body.len() {
                    let class_id = body[at];
                    let counts: [u8; 16] = body.get(at + 1..at + 17)?.try_into().ok()?;
                    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let symbols = body.get(at + 17..at + 17 + total)?;
                    let table = HuffmanTable::new(&counts, symbols)?;
                    let (class, id) = (class_id >> 4, usize::from(class_id & 15));
                    match (class, id) {
                        (0, 0..=3) => dc[id] = Some(table),
                        (1, 0..=3) => ac[id] = Some(table),
                        _ => return None,
                    }
                    at += 17 + total;
                }
            }
            0xDB => {
                let mut at = 0;
                while at < body.len() {
                    let (precision, id) = (body[at] >> 4, usize::from(body[at] & 15));
                    if id > 3 {
                        return None;
                    }
                    let mut table = [0u16; 64];
                    match precision {
                        0 => {
                            for (t, &q) in table.iter_mut().zip(body.get(at + 1..at + 65)?) {
                                *t = u16::from(q);
                            }
                            at += 65;
                        }
                        1 => {
                            for (k, t) in table.iter_mut().enumerate() {
                                *t = be16(body, at + 1 + 2 * k)?;
                            }
                            at += 129;
                        }
                        _ => return None,
                    }
                    quant[id] = Some(table);
                }
            }
            0xDD => restart_interval = be16(body, 0)?,
            // Adobe: transform 0 means the three components are RGB, not YCbCr.
            0xEE if body.starts_with(b"Adobe") => adobe_transform = body.get(11).copied(),
            0xDA => {
                let mut frame = frame?;
                let count = usize::from(*body.first()?);
                let mut members = Vec::with_capacity(count);
                for s in 0..count {
                    let b = body.get(1 + 2 * s..3 + 2 * s)?;
                    let c = frame.components.iter().position(|c| c.id == b[0])?;
                    members.push((c, usize::from(b[1] >> 4), usize::from(b[1] & 15)));
                }
                let tail = body.get(1 + 2 * count..4 + 2 * count)?;
                // Sequential scans cover all 64 coefficients at full precision.
                if tail != [0, 63, 0] {
                    return None;
                }
                // Either every component interleaved, or the luma alone first.
                let interleaved = count == frame.components.len();
                if !(interleaved || (count == 1 && members[0].0 == 0)) {
                    return None;
                }
                if frame.components.len() == 3 {
                    let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
                    if adobe_transform == Some(0) || ids == b"RGB" {
                        return None;
                    }
                    // The luma must be the finest component, or its plane is not the image.
                    let luma = frame.components[0];
                    if frame
                        .components
                        .iter()
                        .any(|c| c.h > luma.h || c.v > luma.v)
                    {
                        return None;
                    }
                }
                for &(c, d, a) in &members {
                    dc.get(d)?.as_ref()?;
                    ac.get(a)?.as_ref()?;
                    quant[usize::from(frame.components[c].quant)]?;
                }
                frame.quant = quant;
                frame.restart_interval = restart_interval;
                return Some(Jpeg {
                    frame,
                    scan: Scan {
                        members,
                        dc,
                        ac,
                        data_start: pos + len,
                    },
                });
            }
            0xD8 | 0xD9 | 0xD0..=0xD7 | 0xDC | 0xDE | 0xDF => return None,
            _ => {}
        }
        pos += len;
    }
}

/// A Huffman table: a direct lookup for codes of up to [`LOOKUP_BITS`] bits, canonical limits
/// for longer ones, and for AC tables a second lookup that also holds the coefficient's value
/// when code and value bits fit in [`LOOKUP_BITS`] together.
#[derive(Clone)]
struct HuffmanTable {
    /// `length << 8 | symbol`, 0 where no code of up to [`LOOKUP_BITS`] bits starts.
    lookup: [u16; 1 << LOOKUP_BITS],
    /// `value << 16 | run << 8 | bits used` (run [`EOB_RUN`] for end of block), 0 where the fast
    /// path does not apply.
    fast_ac: [i32; 1 << LOOKUP_BITS],
    /// Largest code of each length (index 1–16), -1 for none.
    max_code: [i32; 18],
    /// Symbol index minus first code, per length.
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl HuffmanTable {
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<HuffmanTable> {
        let mut table = HuffmanTable {
            lookup: [0; 1 << LOOKUP_BITS],
            fast_ac: [0; 1 << LOOKUP_BITS],
            max_code: [-1; 18],
            offset: [0; 17],
            symbols: symbols.to_vec(),
        };
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = u32::from(counts[len as usize - 1]);
            table.offset[len as usize] = k as i32 - code as i32;
            for _ in 0..n {
                if code >= 1 << len {
                    return None;
                }
                if len <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - len;
                    let first = (code << shift) as usize;
                    for slot in &mut table.lookup[first..first + (1 << shift)] {
                        *slot = (len << 8) as u16 | u16::from(symbols[k]);
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                table.max_code[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        table.max_code[17] = i32::MAX;
        for (bits, slot) in table.fast_ac.iter_mut().enumerate() {
            let entry = table.lookup[bits];
            let len = u32::from(entry >> 8);
            let (run, size) = (u32::from(entry & 0xFF) >> 4, u32::from(entry & 15));
            if len == 0 || len + size > LOOKUP_BITS {
                continue;
            }
            if size == 0 {
                // End of block; sixteen zeros (fifteen skipped, one written).
                *slot = match run {
                    0 => (EOB_RUN << 8) as i32 | len as i32,
                    15 => (15 << 8) | len as i32,
                    _ => 0,
                };
                continue;
            }
            let raw = (bits as u32 >> (LOOKUP_BITS - len - size)) & ((1 << size) - 1);
            *slot = (extend(raw, size) << 16) | (run << 8) as i32 | (len + size) as i32;
        }
        Some(table)
    }
}

/// A received value of `size` bits to its signed coefficient (JPEG's EXTEND).
#[inline]
fn extend(raw: u32, size: u32) -> i32 {
    if size == 0 {
        0
    } else if raw < 1 << (size - 1) {
        raw as i32 - (1 << size) + 1
    } else {
        raw as i32
    }
}

/// Entropy-coded bits, MSB first, with 0xFF00 unstuffed. At a marker it feeds zero bytes and
/// counts them, so that a segment that ends early is noticed instead of read as zeros.
struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bits, left-aligned.
    acc: u64,
    bits: u32,
    /// Zero bytes fed in at a marker or the end of the data.
    padding: u32,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8], pos: usize) -> BitReader<'a> {
        BitReader {
            data,
            pos,
            acc: 0,
            bits: 0,
            padding: 0,
        }
    }

    #[inline]
    fn refill(&mut self) {
        if self.bits > 56 {
            return;
        }
        // Most of the time the next eight bytes hold no 0xFF: take as many as fit at once.
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(chunk.try_into().expect("eight bytes"));
            let inverse = !word;
            let has_ff =
                inverse.wrapping_sub(0x0101_0101_0101_0101) & !inverse & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let take = (64 - self.bits) / 8;
                self.acc |= (word >> (64 - 8 * take)) << (64 - self.bits - 8 * take);
                self.pos += take as usize;
                self.bits += 8 * take;
                return;
            }
        }
        while self.bits <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(&0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                    self.pos += 2;
                    0xFF
                }
                Some(&0xFF) | None => {
                    self.padding += 1;
                    0
                }
                Some(&b) => {
                    self.pos += 1;
                    b
                }
            };
            self.acc |= u64::from(byte) << (56 - self.bits);
            self.bits += 8;
        }
    }

    #[inline]
    fn peek(&self, n: u32) -> u32 {
        (self.acc >> (64 - n)) as u32
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.bits -= n;
    }

    /// True when bits fed in as padding were read as data: the segment ended too early.
    fn overran(&self) -> bool {
        self.padding * 8 > self.bits
    }

    /// Decodes one Huffman symbol (the caller has refilled).
    #[inline]
    fn symbol(&mut self, table: &HuffmanTable) -> Option<u8> {
        let entry = table.lookup[self.peek(LOOKUP_BITS) as usize];
        if entry != 0 {
            self.consume(u32::from(entry >> 8));
            return Some(entry as u8);
        }
        let mut len = LOOKUP_BITS + 1;
        let mut code = self.peek(len) as i32;
        while code > table.max_code[len as usize] {
            len += 1;
            if len > 16 {
                return None;
            }
            code = self.peek(len) as i32;
        }
        self.consume(len);
        table
            .symbols
            .get((code + table.offset[len as usize]) as usize)
            .copied()
    }

    /// Reads `size` bits as a signed coefficient.
    #[inline]
    fn value(&mut self, size: u32) -> i32 {
        if size == 0 {
            return 0;
        }
        let raw = self.peek(size);
        self.consume(size);
        extend(raw, size)
    }

    /// At a restart interval's end: drops the padding bits and steps over the RSTn marker.
    fn restart(&mut self) -> Option<()> {
        if self.overran() {
            return None;
        }
        self.acc = 0;
        self.bits = 0;
        self.padding = 0;
        while self.data.get(self.pos) == Some(&0xFF) && self.data.get(self.pos + 1) == Some(&0xFF) {
            self.pos += 1;
        }
        match self.data.get(self.pos..self.pos + 2)? {
            [0xFF, 0xD0..=0xD7] => {
                self.pos += 2;
                Some(())
            }
            _ => None,
        }
    }
}

/// Where each coefficient goes, by zig-zag index: its slot in the N × N corner kept (row by
/// row), or [`DROPPED`] for the rest. Decoding straight into the corner saves gathering it
/// from a whole block and clearing the block again.
fn corner_slots<const N: usize>() -> [u8; 64] {
    let mut slots = [DROPPED as u8; 64];
    for (slot, &natural) in slots.iter_mut().zip(&ZIGZAG) {
        let (row, col) = (usize::from(natural) / 8, usize::from(natural) % 8);
        if row < N && col < N {
            *slot = (row * N + col) as u8;
        }
    }
    slots
}

/// The slot every coefficient of a block is written to when none is kept (chroma blocks).
const ALL_DROPPED: [u8; 64] = [DROPPED as u8; 64];

/// The slot of a block's coefficients that are decoded but not kept, after the 4 × 4 corner.
const DROPPED: usize = 16;

/// A block's kept coefficients (quantised, row by row) and the slot for the dropped ones.
type Corner = [i32; DROPPED + 1];

/// The N-point inverse DCT of a block's N × N low-frequency corner with each basis function
/// averaged over the N cells: each output pixel is the mean of the 8/N × 8/N pixels it stands
/// for, less the higher frequencies' small share of it.
struct Idct<const N: usize> {
    /// `basis[x][u]`: the mean over cell x (8/N pixels) of the 8-point basis function u,
    /// ½·C(u)·cos((2i + 1)uπ / 16).
    basis: [[f32; N]; N],
    /// The same, transposed: `by_frequency[u][x]`.
    by_frequency: [[f32; N]; N],
}

impl<const N: usize> Idct<N> {
    fn new() -> Idct<N> {
        let cell = 8 / N;
        let mut basis = [[0f32; N]; N];
        let mut by_frequency = [[0f32; N]; N];
        for (x, row) in basis.iter_mut().enumerate() {
            for (u, b) in row.iter_mut().enumerate() {
                let c = if u == 0 { 0.5f64.sqrt() } else { 1.0 };
                let sum: f64 = (x * cell..(x + 1) * cell)
                    .map(|i| ((2 * i + 1) as f64 * u as f64 * PI / 16.0).cos())
                    .sum();
                *b = (0.5 * c * sum / cell as f64) as f32;
                by_frequency[u][x] = *b;
            }
        }
        Idct {
            basis,
            by_frequency,
        }
    }

    /// A block's kept coefficients (`quant`: their quantisation steps, in the same order) to
    /// pixels written at `out` with `stride`. Written as operations on whole rows of N so that
    /// they become vector instructions.
    #[inline]
    fn block(&self, corner: &Corner, quant: &[f32; DROPPED], out: &mut [u8], stride: usize) {
        let mut coef = [[0f32; N]; N];
        for (v, row) in coef.iter_mut().enumerate() {
            for (u, c) in row.iter_mut().enumerate() {
                *c = corner[v * N + u] as f32 * quant[v * N + u];
            }
        }
        // Along each row (over u), then down the columns (over v).
        let mut tmp = [[0f32; N]; N];
        for (t, c) in tmp.iter_mut().zip(coef) {
            for (&cu, b) in c.iter().zip(&self.by_frequency) {
                for (tx, bx) in t.iter_mut().zip(b) {
                    *tx += cu * bx;
                }
            }
        }
        for (y, b) in self.basis.iter().enumerate() {
            let mut row = [128f32; N];
            for (&bv, t) in b.iter().zip(&tmp) {
                for (r, tx) in row.iter_mut().zip(t) {
                    *r += bv * tx;
                }
            }
            for (px, r) in out[y * stride..y * stride + N].iter_mut().zip(row) {
                // Adding 2^23 leaves the value rounded to an integer in the low bits: unlike
                // `as u8`, one conversion per pixel, this becomes vector instructions.
                *px = (r.clamp(0.0, 255.0) + 8_388_608.0).to_bits() as u8;
            }
        }
    }
}

/// The 4 × 4 inverse DCT (half scale, the case of every 300-dpi scan) in SSE2 vector
/// instructions, which every x86-64 processor has: the compiler's vectors for the generic
/// [`Idct::block`] spend as many instructions on shuffles as on arithmetic. The sums are taken in
/// the same order and rounded the same way, so the pixels are the same.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::{
        __m128, _mm_add_ps, _mm_cvtepi32_ps, _mm_cvtps_epi32, _mm_cvtsi128_si32, _mm_mul_ps,
        _mm_packs_epi32, _mm_packus_epi16, _mm_set1_ps, _mm_setr_epi32, _mm_setr_ps,
        _mm_setzero_ps, _mm_shuffle_ps, _mm_srli_si128,
    };

    use super::{Corner, DROPPED, Idct};

    pub(super) struct Idct4 {
        /// Rows of [`Idct::by_frequency`].
        by_frequency: [__m128; 4],
        /// `basis[y][v]`, each repeated across a vector.
        basis: [[__m128; 4]; 4],
        /// The quantisation steps of each row of the corner.
        quant: [__m128; 4],
    }

    impl Idct4 {
        /// The kernel for `idct` if it is the 4 × 4 one.
        pub(super) fn new<const N: usize>(idct: &Idct<N>, quant: &[f32; DROPPED]) -> Option<Idct4> {
            // SAFETY: this module is compiled only for targets with SSE2 (all of x86-64).
            (N == 4).then(|| unsafe { Idct4::with_sse2(idct, quant) })
        }

        #[target_feature(enable = "sse2")]
        fn with_sse2<const N: usize>(idct: &Idct<N>, quant: &[f32; DROPPED]) -> Idct4 {
            let row = |r: &[f32]| _mm_setr_ps(r[0], r[1], r[2], r[3]);
            Idct4 {
                by_frequency: std::array::from_fn(|u| row(&idct.by_frequency[u])),
                basis: std::array::from_fn(|y| {
                    std::array::from_fn(|v| _mm_set1_ps(idct.basis[y][v]))
                }),
                quant: std::array::from_fn(|v| row(&quant[4 * v..])),
            }
        }

        /// As [`Idct::block`] for N = 4.
        #[inline]
        pub(super) fn block(&self, corner: &Corner, out: &mut [u8], stride: usize) {
            // SAFETY: as in `new`.
            unsafe { self.block_sse2(corner, out, stride) }
        }

        #[target_feature(enable = "sse2")]
        fn block_sse2(&self, corner: &Corner, out: &mut [u8], stride: usize) {
            let mut tmp = [_mm_setzero_ps(); 4];
            for (v, t) in tmp.iter_mut().enumerate() {
                let c = &corner[4 * v..4 * v + 4];
                let c = _mm_cvtepi32_ps(_mm_setr_epi32(c[0], c[1], c[2], c[3]));
                let c = _mm_mul_ps(c, self.quant[v]);
                let splat = [
                    _mm_shuffle_ps::<0x00>(c, c),
                    _mm_shuffle_ps::<0x55>(c, c),
                    _mm_shuffle_ps::<0xAA>(c, c),
                    _mm_shuffle_ps::<0xFF>(c, c),
                ];
                for (cu, b) in splat.into_iter().zip(self.by_frequency) {
                    *t = _mm_add_ps(*t, _mm_mul_ps(cu, b));
                }
            }
            let rows = self.basis.map(|b| {
                let mut row = _mm_set1_ps(128.0);
                for (bv, t) in b.into_iter().zip(tmp) {
                    row = _mm_add_ps(row, _mm_mul_ps(bv, t));
                }
                // Rounded to the nearest integer; the packs saturate to 0..=255.
                _mm_cvtps_epi32(row)
            });
            let words = _mm_packs_epi32(rows[0], rows[1]);
            let mut pixels = _mm_packus_epi16(words, _mm_packs_epi32(rows[2], rows[3]));
            for y in 0..4 {
                let four = _mm_cvtsi128_si32(pixels).to_le_bytes();
                out[y * stride..y * stride + 4].copy_from_slice(&four);
                pixels = _mm_srli_si128::<4>(pixels);
            }
        }
    }
}

impl Scan {
    /// Decodes the scan's MCUs; keeps the luma plane at N pixels per block side.
    fn decode<const N: usize>(&self, data: &[u8], frame: &Frame) -> Option<(u32, u32, Vec<u8>)> {
        let (w, h) = (usize::from(frame.width), usize::from(frame.height));
        let h_max = frame.components.iter().map(|c| c.h).max()? as usize;
        let v_max = frame.components.iter().map(|c| c.v).max()? as usize;
        let interleaved = self.members.len() > 1;
        // Blocks per MCU and MCUs across and down.
        let (mcus_x, mcus_y) = if interleaved {
            (w.div_ceil(8 * h_max), h.div_ceil(8 * v_max))
        } else {
            let luma = frame.components[0];
            (
                (w * usize::from(luma.h)).div_ceil(h_max).div_ceil(8),
                (h * usize::from(luma.v)).div_ceil(v_max).div_ceil(8),
            )
        };
        let luma = frame.components[self.members[0].0];
        let (luma_h, luma_v) = if interleaved {
            (usize::from(luma.h), usize::from(luma.v))
        } else {
            (1, 1)
        };
        let stride = mcus_x * luma_h * N;
        let plane_h = mcus_y * luma_v * N;
        let out_w = w.div_ceil(8 / N);
        let out_h = h.div_ceil(8 / N);
        let mut plane = vec![0u8; stride * plane_h];

        let slots = corner_slots::<N>();
        let idct = Idct::<N>::new();
        let luma_quant = frame.quant[usize::from(luma.quant)]?;
        let mut quant = [0f32; DROPPED];
        for (&slot, &q) in slots.iter().zip(&luma_quant) {
            if let Some(kept) = quant.get_mut(usize::from(slot)) {
                *kept = f32::from(q);
            }
        }
        let tables: Vec<(&HuffmanTable, &HuffmanTable, usize)> = self
            .members
            .iter()
            .map(|&(c, d, a)| {
                let comp = frame.components[c];
                let blocks = if interleaved {
                    usize::from(comp.h) * usize::from(comp.v)
                } else {
                    1
                };
                Some((self.dc[d].as_ref()?, self.ac[a].as_ref()?, blocks))
            })
            .collect::<Option<_>>()?;

        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        let vector_idct = sse2::Idct4::new(&idct, &quant);
        let mut corner: Corner = [0; DROPPED + 1];
        let mut chroma: Corner = [0; DROPPED + 1];
        let mut reader = BitReader::new(data, self.data_start);
        let mut predictors = vec![0i32; self.members.len()];
        let restart = usize::from(frame.restart_interval);
        for mcu in 0..mcus_x * mcus_y {
            if restart > 0 && mcu > 0 && mcu % restart == 0 {
                reader.restart()?;
                predictors.iter_mut().for_each(|p| *p = 0);
            }
            let (mx, my) = (mcu % mcus_x, mcu / mcus_x);
            for (m, &(dc_table, ac_table, blocks)) in tables.iter().enumerate() {
                for b in 0..blocks {
                    reader.refill();
                    let size = u32::from(reader.symbol(dc_table)?);
                    if size > 11 {
                        return None;
                    }
                    predictors[m] += reader.value(size);
                    if m != 0 {
                        // A chroma block: decoded only to step over it.
                        decode_ac(&mut reader, ac_table, &ALL_DROPPED, &mut chroma)?;
                        continue;
                    }
                    corner[0] = predictors[0];
                    decode_ac(&mut reader, ac_table, &slots, &mut corner)?;
                    let (bx, by) = (mx * luma_h + b % luma_h, my * luma_v + b / luma_h);
                    let at = by * N * stride + bx * N;
                    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
                    if let Some(vector_idct) = &vector_idct {
                        vector_idct.block(&corner, &mut plane[at..], stride);
                    } else {
                        idct.block(&corner, &quant, &mut plane[at..], stride);
                    }
                    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
                    idct.block(&corner, &quant, &mut plane[at..], stride);
                    corner = [0; DROPPED + 1];
                }
            }
        }
        if reader.overran() {
            return None;
        }
        // Drop the padding blocks beyond the image's edge.
        if stride == out_w {
            plane.truncate(out_w * out_h);
            return Some((out_w as u32, out_h as u32, plane));
        }
        let mut pixels = Vec::with_capacity(out_w * out_h);
        for row in plane.chunks_exact(stride).take(out_h) {
            pixels.extend_from_slice(&row[..out_w]);
        }
        Some((out_w as u32, out_h as u32, pixels))
    }
}

/// Decodes a block's AC coefficients into `corner`, each at its slot in `slots` (by zig-zag
/// index): the nonzero ones are written, the others left as they were. Inlined, so that the
/// bit reader stays in registers from block to block.
#[inline(always)]
fn decode_ac(
    reader: &mut BitReader,
    table: &HuffmanTable,
    slots: &[u8; 64],
    corner: &mut Corner,
) -> Option<()> {
    let mut k = 1usize;
    while k < 64 {
        if reader.bits < 32 {
            reader.refill();
        }
        let fast = table.fast_ac[reader.peek(LOOKUP_BITS) as usize];
        if fast != 0 {
            reader.consume((fast & 0xFF) as u32);
            let run = ((fast >> 8) & 0xFF) as usize;
            k += run;
            if k > 63 {
                if run == EOB_RUN {
                    break;
                }
                return None;
            }
            corner[usize::from(slots[k])] = fast >> 16;
            k += 1;
            continue;
        }
        let rs = reader.symbol(table)?;
        let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
        if size == 0 {
            if run == 15 {
                k += 16;
                continue;
            }
            break;
        }
        k += run;
        if k > 63 {
            return None;
        }
        corner[usize::from(slots[k])] = reader.value(size);
        k += 1;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

    /// The next number of a xorshift sequence, for repeatable test data.
    fn xorshift(state: &mut u32) -> u32 {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        *state
    }

    /// A page-like test picture: paper with noise, black bars, thin lines, a grey ramp.
    fn picture(w: usize, h: usize, seed: u32) -> Vec<u8> {
        let mut state = seed | 1;
        let mut noise = move || (xorshift(&mut state) % 13) as i32 - 6;
        let mut px = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut v = 235;
                if (x / 37 + y / 23) % 7 == 0 {
                    v = 20;
                }
                if x % 29 == 3 || y % 31 == 5 {
                    v = 90;
                }
                if y > h * 3 / 4 {
                    v = (x * 255 / w) as i32;
                }
                px[y * w + x] = (v + noise()).clamp(0, 255) as u8;
            }
        }
        px
    }

    struct Options {
        colour: Option<SamplingFactor>,
        restart: u16,
        optimized: bool,
        progressive: bool,
        quality: u8,
    }

    const PLAIN: Options = Options {
        colour: None,
        restart: 0,
        optimized: false,
        progressive: false,
        quality: 85,
    };

    fn encode(grey: &[u8], w: usize, h: usize, o: &Options) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = Encoder::new(&mut out, o.quality);
        enc.set_restart_interval(o.restart);
        enc.set_optimized_huffman_tables(o.optimized);
        enc.set_progressive(o.progressive);
        match o.colour {
            None => enc.encode(grey, w as u16, h as u16, ColorType::Luma),
            Some(sampling) => {
                enc.set_sampling_factor(sampling);
                // A tint, so that the chroma blocks carry data to step over.
                let rgb: Vec<u8> = grey
                    .iter()
                    .enumerate()
                    .flat_map(|(i, &g)| [g, g.saturating_sub((i % 40) as u8), g / 2 + 100])
                    .collect();
                enc.encode(&rgb, w as u16, h as u16, ColorType::Rgb)
            }
        }
        .unwrap();
        out
    }

    /// The whole image decoded by zune-jpeg, each d × d cell averaged (as libjpeg's scaled
    /// output is meant to be).
    fn reference(data: &[u8], d: usize) -> (usize, usize, Vec<u8>) {
        let (w, h, full) = crate::raster::jpeg_grey(data).unwrap();
        let (w, h) = (w as usize, h as usize);
        let (ow, oh) = (w.div_ceil(d), h.div_ceil(d));
        let mut out = vec![0u8; ow * oh];
        for oy in 0..oh {
            for ox in 0..ow {
                let (mut sum, mut n) = (0u32, 0u32);
                for y in oy * d..((oy + 1) * d).min(h) {
                    for x in ox * d..((ox + 1) * d).min(w) {
                        sum += u32::from(full[y * w + x]);
                        n += 1;
                    }
                }
                out[oy * ow + ox] = ((sum + n / 2) / n) as u8;
            }
        }
        (ow, oh, out)
    }

    fn decode_luma_scaled(data: &[u8], d: u32) -> Option<(u32, u32, Vec<u8>)> {
        parse(data)?.decode_luma_scaled(data, d)
    }

    /// Mean and largest difference to the reference.
    fn compare(data: &[u8], d: u32) -> (f64, u8) {
        let (w, h, got) = decode_luma_scaled(data, d).expect("decoded");
        let (rw, rh, want) = reference(data, d as usize);
        assert_eq!((w as usize, h as usize), (rw, rh));
        let diffs: Vec<u8> = got.iter().zip(&want).map(|(a, b)| a.abs_diff(*b)).collect();
        let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
        (mean, diffs.into_iter().max().unwrap_or(0))
    }

    #[test]
    fn scaled_luma_matches_the_averaged_full_decode() {
        let cases = [
            ("grey", PLAIN),
            (
                "grey, restarts",
                Options {
                    restart: 7,
                    ..PLAIN
                },
            ),
            (
                "colour 4:2:0 with restarts",
                Options {
                    colour: Some(SamplingFactor::R_4_2_0),
                    restart: 5,
                    ..PLAIN
                },
            ),
            (
                "colour 4:4:4",
                Options {
                    colour: Some(SamplingFactor::R_4_4_4),
                    ..PLAIN
                },
            ),
            (
                "colour 4:2:2, quality 98",
                Options {
                    colour: Some(SamplingFactor::R_4_2_2),
                    quality: 98,
                    ..PLAIN
                },
            ),
            (
                "grey, quality 30",
                Options {
                    quality: 30,
                    ..PLAIN
                },
            ),
        ];
        // Sizes that are and are not whole blocks and MCUs.
        for (w, h) in [(256, 192), (251, 197), (17, 9)] {
            let grey = picture(w, h, (w * h) as u32);
            for (name, options) in &cases {
                let data = encode(&grey, w, h, options);
                for d in [2, 4, 8] {
                    let (mean, max) = compare(&data, d);
                    // At 1/8 the block's mean is exact (but for rounding and the full decode's
                    // clipping), so any slip in the Huffman decoding shows. At 1/2 and 1/4 the
                    // dropped high frequencies make up the difference: black bars and lines on
                    // white ring where they cross a cell (see the smooth test for the rest).
                    let (mean_limit, max_limit) = if d == 8 { (0.6, 4) } else { (8.0, 60) };
                    assert!(
                        mean < mean_limit && max <= max_limit,
                        "{name} {w}×{h} 1/{d}: mean difference {mean:.2}, largest {max}"
                    );
                }
            }
        }
    }

    #[test]
    fn smooth_pictures_match_the_averaged_full_decode_closely() {
        // Without sharp edges there is little above the kept frequencies: a wrong basis, sign
        // or transposition would show here at once.
        let (w, h) = (128, 96);
        let grey: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64, (i / w) as f64);
                (128.0 + 60.0 * (x / 23.0).sin() + 40.0 * (y / 17.0).cos() + 0.3 * x) as u8
            })
            .collect();
        for options in [
            PLAIN,
            Options {
                colour: Some(SamplingFactor::R_4_2_0),
                ..PLAIN
            },
        ] {
            let data = encode(&grey, w, h, &options);
            for d in [2, 4, 8] {
                let (mean, max) = compare(&data, d);
                assert!(
                    mean < 1.5 && max <= 4,
                    "1/{d}: mean {mean:.2}, largest {max}"
                );
            }
        }
    }

    #[test]
    fn what_it_does_not_read_is_left_to_the_full_decoder() {
        let grey = picture(64, 64, 3);
        let progressive = encode(
            &grey,
            64,
            64,
            &Options {
                progressive: true,
                ..PLAIN
            },
        );
        assert!(decode_luma_scaled(&progressive, 2).is_none());
        let plain = encode(&grey, 64, 64, &PLAIN);
        assert!(decode_luma_scaled(&plain, 3).is_none());
        assert!(decode_luma_scaled(b"not a jpeg", 2).is_none());
        // Cut inside the entropy-coded data: the bits run out before the last block.
        assert!(decode_luma_scaled(&plain[..plain.len() * 2 / 3], 2).is_none());
    }

    #[test]
    fn damaged_data_never_panics() {
        let grey = picture(48, 40, 9);
        for options in [
            PLAIN,
            Options {
                colour: Some(SamplingFactor::R_4_2_0),
                restart: 2,
                ..PLAIN
            },
            Options {
                optimized: true,
                ..PLAIN
            },
        ] {
            let data = encode(&grey, 48, 40, &options);
            let mut state = 0x9E37_79B9u32;
            for _ in 0..3000 {
                let mut bad = data.clone();
                for _ in 0..3 {
                    xorshift(&mut state);
                    let at = state as usize % bad.len();
                    bad[at] = (state >> 8) as u8;
                }
                if let Some((w, h, px)) = decode_luma_scaled(&bad, 2) {
                    assert_eq!(px.len(), w as usize * h as usize);
                }
            }
        }
    }

    #[test]
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    fn vector_idct_gives_the_generic_pixels() {
        let idct = Idct::<4>::new();
        let mut state = 0x2545_F491u32;
        let mut next = move || xorshift(&mut state);
        let stride = 7;
        for round in 0..20_000 {
            let quant: [f32; DROPPED] = std::array::from_fn(|_| (1 + next() % 64) as f32);
            // Mostly what a scan holds; every tenth block far out of range, to be clipped.
            let spread = if round % 10 == 0 { 40_000 } else { 300 };
            let mut corner: Corner =
                std::array::from_fn(|_| (next() % spread) as i32 - spread as i32 / 2);
            corner[0] = (next() % 2048) as i32 - 1024;
            let vector = sse2::Idct4::new(&idct, &quant).expect("4 × 4");
            let (mut want, mut got) = ([0u8; 4 * 7], [0u8; 4 * 7]);
            idct.block(&corner, &quant, &mut want, stride);
            vector.block(&corner, &mut got, stride);
            assert_eq!(got, want, "corner {corner:?}, quant {quant:?}");
        }
        assert!(sse2::Idct4::new(&Idct::<2>::new(), &[1.0; DROPPED]).is_none());
    }
}
