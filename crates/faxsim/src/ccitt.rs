//! CCITT fax encoding: ITU-T T.4 one-dimensional (Modified Huffman) and two-dimensional
//! (Modified READ) coding, and T.6 (Modified Modified READ, "Group 4").
//!
//! A line is first reduced to its *changing elements*: the columns where the colour changes,
//! starting from white. One-dimensional coding writes the alternating white and black run
//! lengths; two-dimensional coding describes each changing element relative to the line above
//! (pass, horizontal and vertical modes, T.4 §4.2.1.3). The code tables below are T.4 tables
//! 1–4, written out from the standard as bit strings and turned into `(code, length)` pairs at
//! compile time.
//!
//! Input pixels are grey bytes; values below 128 are black.

use capsurvey_scan::PageImage;

/// How lines are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// T.4 Group 3. Every line starts with an EOL (optionally padded so that it ends on a byte
    /// boundary, TIFF T4Options bit 2). With `two_d: Some(k)` every k-th line (starting with
    /// the first) is one-dimensional and the others two-dimensional, each tagged by the bit
    /// after its EOL (T4Options bit 0); with `None` all lines are one-dimensional.
    G3(G3Options),
    /// T.6 Group 4: every line two-dimensional, no EOLs, ending with EOFB (two EOLs).
    G4,
    /// CCITT RLE (TIFF compression 2): one-dimensional codes, each line starting on a byte
    /// boundary, no EOLs.
    Rle,
}

/// Group 3 details, as fax servers vary in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct G3Options {
    /// `Some(k)`: two-dimensional coding with a one-dimensional line every k lines (T.4
    /// recommends k = 2 at standard and 4 at fine resolution). `None`: one-dimensional only.
    pub two_d: Option<u32>,
    /// Fill bits before each EOL so that it ends on a byte boundary (T4Options bit 2), which
    /// most fax servers write.
    pub eol_fill: bool,
    /// End the page with RTC (six EOLs), as on the telephone line. TIFF does not need it.
    pub rtc: bool,
}

impl G3Options {
    /// One-dimensional MH with byte-aligned EOLs, no RTC.
    pub const ONE_D: G3Options = G3Options {
        two_d: None,
        eol_fill: true,
        rtc: false,
    };

    /// Two-dimensional MR with a 1-D line every `k` lines and byte-aligned EOLs, no RTC.
    pub fn two_d(k: u32) -> G3Options {
        G3Options {
            two_d: Some(k.max(1)),
            eol_fill: true,
            rtc: false,
        }
    }

    /// The TIFF T4Options value (tag 292) that describes this data.
    pub fn t4_options(&self) -> u32 {
        u32::from(self.two_d.is_some()) | if self.eol_fill { 4 } else { 0 }
    }
}

/// Parses a code written as a string of `0` and `1`.
const fn bits(s: &str) -> (u16, u8) {
    let b = s.as_bytes();
    let mut v: u16 = 0;
    let mut i = 0;
    while i < b.len() {
        assert!(b[i] == b'0' || b[i] == b'1');
        v = (v << 1) | (b[i] - b'0') as u16;
        i += 1;
    }
    assert!(!b.is_empty() && b.len() <= 13);
    (v, b.len() as u8)
}

const fn table<const N: usize>(codes: [&str; N]) -> [(u16, u8); N] {
    let mut out = [(0u16, 0u8); N];
    let mut i = 0;
    while i < N {
        out[i] = bits(codes[i]);
        i += 1;
    }
    out
}

/// T.4 table 2, white terminating codes, run lengths 0–63.
#[rustfmt::skip]
static WHITE_TERM: [(u16, u8); 64] = table([
    "00110101", "000111", "0111", "1000", "1011", "1100", "1110", "1111",
    "10011", "10100", "00111", "01000", "001000", "000011", "110100", "110101",
    "101010", "101011", "0100111", "0001100", "0001000", "0010111", "0000011", "0000100",
    "0101000", "0101011", "0010011", "0100100", "0011000", "00000010", "00000011", "00011010",
    "00011011", "00010010", "00010011", "00010100", "00010101", "00010110", "00010111", "00101000",
    "00101001", "00101010", "00101011", "00101100", "00101101", "00000100", "00000101", "00001010",
    "00001011", "01010010", "01010011", "01010100", "01010101", "00100100", "00100101", "01011000",
    "01011001", "01011010", "01011011", "01001010", "01001011", "00110010", "00110011", "00110100",
]);

/// T.4 table 2, black terminating codes, run lengths 0–63.
#[rustfmt::skip]
static BLACK_TERM: [(u16, u8); 64] = table([
    "0000110111", "010", "11", "10", "011", "0011", "0010", "00011",
    "000101", "000100", "0000100", "0000101", "0000111", "00000100", "00000111", "000011000",
    "0000010111", "0000011000", "0000001000", "00001100111", "00001101000", "00001101100", "00000110111", "00000101000",
    "00000010111", "00000011000", "000011001010", "000011001011", "000011001100", "000011001101", "000001101000", "000001101001",
    "000001101010", "000001101011", "000011010010", "000011010011", "000011010100", "000011010101", "000011010110", "000011010111",
    "000001101100", "000001101101", "000011011010", "000011011011", "000001010100", "000001010101", "000001010110", "000001010111",
    "000001100100", "000001100101", "000001010010", "000001010011", "000000100100", "000000110111", "000000111000", "000000100111",
    "000000101000", "000001011000", "000001011001", "000000101011", "000000101100", "000001011010", "000001100110", "000001100111",
]);

/// T.4 table 3, white make-up codes for 64, 128, …, 1728.
#[rustfmt::skip]
static WHITE_MAKEUP: [(u16, u8); 27] = table([
    "11011", "10010", "010111", "0110111", "00110110", "00110111", "01100100", "01100101",
    "01101000", "01100111", "011001100", "011001101", "011010010", "011010011", "011010100", "011010101",
    "011010110", "011010111", "011011000", "011011001", "011011010", "011011011", "010011000", "010011001",
    "010011010", "011000", "010011011",
]);

/// T.4 table 3, black make-up codes for 64, 128, …, 1728.
#[rustfmt::skip]
static BLACK_MAKEUP: [(u16, u8); 27] = table([
    "0000001111", "000011001000", "000011001001", "000001011011", "000000110011", "000000110100", "000000110101", "0000001101100",
    "0000001101101", "0000001001010", "0000001001011", "0000001001100", "0000001001101", "0000001110010", "0000001110011", "0000001110100",
    "0000001110101", "0000001110110", "0000001110111", "0000001010010", "0000001010011", "0000001010100", "0000001010101", "0000001011010",
    "0000001011011", "0000001100100", "0000001100101",
]);

/// T.4 table 3 (extension), make-up codes for 1792, 1856, …, 2560, both colours.
#[rustfmt::skip]
static EXT_MAKEUP: [(u16, u8); 13] = table([
    "00000001000", "00000001100", "00000001101", "000000010010", "000000010011", "000000010100", "000000010101",
    "000000010110", "000000010111", "000000011100", "000000011101", "000000011110", "000000011111",
]);

const EOL: (u16, u8) = bits("000000000001");
const PASS: (u16, u8) = bits("0001");
const HORIZONTAL: (u16, u8) = bits("001");
/// Vertical modes VL3, VL2, VL1, V0, VR1, VR2, VR3 (T.4 table 4), indexed by `a1 − b1 + 3`.
static VERTICAL: [(u16, u8); 7] =
    table(["0000010", "000010", "010", "1", "011", "000011", "0000011"]);

/// MSB-first bit writer.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn new(capacity: usize) -> BitWriter {
        BitWriter {
            out: Vec::with_capacity(capacity),
            acc: 0,
            n: 0,
        }
    }

    #[inline]
    fn put(&mut self, (code, len): (u16, u8)) {
        self.put_bits(u32::from(code), u32::from(len));
    }

    #[inline]
    fn put_bits(&mut self, code: u32, len: u32) {
        // At most 7 pending bits plus 16 new ones: the accumulator never overflows in a way
        // that matters (only its low n bits are ever read).
        self.acc = (self.acc << len) | u64::from(code);
        self.n += len;
        while self.n >= 8 {
            self.n -= 8;
            self.out.push((self.acc >> self.n) as u8);
        }
    }

    fn bit_pos(&self) -> usize {
        self.out.len() * 8 + self.n as usize
    }

    /// Zero bits up to the next byte boundary.
    fn align(&mut self) {
        if self.n > 0 {
            self.put_bits(0, 8 - self.n);
        }
    }

    /// An EOL, after fill bits so that it ends on a byte boundary if `fill`.
    fn eol(&mut self, fill: bool) {
        if fill {
            let pad = (8 - (self.bit_pos() + 12) % 8) % 8;
            if pad > 0 {
                self.put_bits(0, pad as u32);
            }
        }
        self.put(EOL);
    }

    fn finish(mut self) -> Vec<u8> {
        self.align();
        self.out
    }

    /// One run length: make-up codes (2560 as often as needed, then one for the multiple of
    /// 64) and the terminating code.
    fn run(&mut self, white: bool, mut run: u32) {
        while run >= 2560 + 64 {
            self.put(EXT_MAKEUP[12]);
            run -= 2560;
        }
        if run >= 64 {
            let m = run / 64; // 1..=40
            if m <= 27 {
                self.put(if white {
                    WHITE_MAKEUP[m as usize - 1]
                } else {
                    BLACK_MAKEUP[m as usize - 1]
                });
            } else {
                self.put(EXT_MAKEUP[m as usize - 28]);
            }
            run -= m * 64;
        }
        self.put(if white {
            WHITE_TERM[run as usize]
        } else {
            BLACK_TERM[run as usize]
        });
    }
}

/// The changing elements of a row of grey pixels (`< 128` is black): the columns where the
/// colour differs from the pixel before, the imaginary pixel before the first being white.
pub fn changes(row: &[u8], out: &mut Vec<u32>) {
    out.clear();
    let mut black = false;
    let mut i = 0;
    let n = row.len();
    while i < n {
        if !black {
            // Skip white quickly, eight pixels at a time.
            while i + 8 <= n && row[i..i + 8].iter().all(|&p| p >= 128) {
                i += 8;
            }
            while i < n && row[i] >= 128 {
                i += 1;
            }
        } else {
            while i + 8 <= n && row[i..i + 8].iter().all(|&p| p < 128) {
                i += 8;
            }
            while i < n && row[i] < 128 {
                i += 1;
            }
        }
        if i < n {
            out.push(i as u32);
            black = !black;
        }
    }
}

fn encode_1d(w: &mut BitWriter, changes: &[u32], width: u32) {
    let mut pos = 0;
    let mut white = true;
    for &c in changes {
        w.run(white, c - pos);
        pos = c;
        white = !white;
    }
    w.run(white, width - pos);
}

/// Two-dimensional coding of `cur` against `reference`. Both hold the changing elements
/// followed by at least three sentinels equal to `width`.
fn encode_2d(w: &mut BitWriter, cur: &[u32], reference: &[u32], width: u32) {
    let width = i64::from(width);
    let mut a0: i64 = -1;
    // Colour of the pixels from a0: 0 white, 1 black. Changing elements at even indices turn
    // the line black, at odd ones white, so b1 (colour opposite to a0's) has index parity
    // equal to `color`.
    let mut color = 0usize;
    let mut ia = 0usize;
    // First index of `reference` right of a0; a0 only moves right, so this only moves right.
    let mut j = 0usize;
    loop {
        while i64::from(cur[ia]) <= a0 {
            ia += 1;
        }
        let a1 = i64::from(cur[ia]);
        while i64::from(reference[j]) <= a0 {
            j += 1;
        }
        // b1: the first element right of a0 with the parity of b1's colour; the list is
        // strictly increasing, so it is j or the one after.
        let ib = if j % 2 == color { j } else { j + 1 };
        let b1 = i64::from(reference[ib]);
        let b2 = i64::from(reference[ib + 1]);
        if b2 < a1 {
            w.put(PASS);
            a0 = b2;
        } else if (a1 - b1).abs() <= 3 {
            w.put(VERTICAL[(a1 - b1 + 3) as usize]);
            a0 = a1;
            color ^= 1;
        } else {
            let a2 = i64::from(cur[ia + 1]);
            w.put(HORIZONTAL);
            w.run(color == 0, (a1 - a0.max(0)) as u32);
            w.run(color != 0, (a2 - a1) as u32);
            a0 = a2;
        }
        if a0 >= width {
            return;
        }
    }
}

/// Encodes `height` rows of `width` grey pixels.
pub fn encode(pixels: &[u8], width: usize, height: usize, coding: Coding) -> Vec<u8> {
    assert!(pixels.len() >= width * height, "pixel buffer too small");
    let w32 = width as u32;
    let mut out = BitWriter::new(width * height / 40 + 64);
    let mut reference: Vec<u32> = vec![w32; 3];
    let mut cur: Vec<u32> = Vec::with_capacity(width + 4);
    for (r, row) in pixels.chunks_exact(width.max(1)).take(height).enumerate() {
        changes(row, &mut cur);
        match coding {
            Coding::Rle => {
                encode_1d(&mut out, &cur, w32);
                out.align();
            }
            Coding::G3(o) => {
                out.eol(o.eol_fill);
                match o.two_d {
                    None => encode_1d(&mut out, &cur, w32),
                    Some(k) => {
                        let one_d = (r as u32).is_multiple_of(k);
                        out.put_bits(u32::from(one_d), 1);
                        if one_d {
                            encode_1d(&mut out, &cur, w32);
                        } else {
                            cur.extend_from_slice(&[w32; 3]);
                            encode_2d(&mut out, &cur, &reference, w32);
                        }
                    }
                }
            }
            Coding::G4 => {
                cur.extend_from_slice(&[w32; 3]);
                encode_2d(&mut out, &cur, &reference, w32);
            }
        }
        if cur.len() < 3 || cur[cur.len() - 3..] != [w32; 3] {
            cur.extend_from_slice(&[w32; 3]);
        }
        std::mem::swap(&mut reference, &mut cur);
    }
    match coding {
        Coding::G3(o) if o.rtc => {
            for _ in 0..6 {
                out.eol(false);
                if o.two_d.is_some() {
                    out.put_bits(1, 1);
                }
            }
        }
        Coding::G4 => {
            out.put(EOL);
            out.put(EOL);
        }
        _ => {}
    }
    out.finish()
}

/// Encodes a page (grey pixels are thresholded at 128).
pub fn encode_page(page: &PageImage, coding: Coding) -> Vec<u8> {
    encode(
        &page.pixels,
        page.width as usize,
        page.height as usize,
        coding,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_prefix_free() {
        let check = |codes: Vec<(u16, u8)>| {
            for (i, a) in codes.iter().enumerate() {
                for (j, b) in codes.iter().enumerate() {
                    if i != j && a.1 <= b.1 {
                        assert_ne!(b.0 >> (b.1 - a.1), a.0, "{a:?} is a prefix of {b:?}");
                    }
                }
            }
        };
        let mut white: Vec<_> = WHITE_TERM
            .iter()
            .chain(&WHITE_MAKEUP)
            .chain(&EXT_MAKEUP)
            .copied()
            .collect();
        white.push(EOL);
        check(white);
        let mut black: Vec<_> = BLACK_TERM
            .iter()
            .chain(&BLACK_MAKEUP)
            .chain(&EXT_MAKEUP)
            .copied()
            .collect();
        black.push(EOL);
        check(black);
        let mut modes: Vec<_> = VERTICAL.to_vec();
        modes.extend([PASS, HORIZONTAL]);
        check(modes);
    }

    #[test]
    fn changes_of_rows() {
        let mut c = Vec::new();
        changes(&[255, 255, 0, 0, 255], &mut c);
        assert_eq!(c, [2, 4]);
        changes(&[0; 20], &mut c);
        assert_eq!(c, [0]);
        changes(&[255; 20], &mut c);
        assert!(c.is_empty());
        let mut row = vec![255u8; 40];
        row[9] = 0;
        row[30..].fill(0);
        changes(&row, &mut c);
        assert_eq!(c, [9, 10, 30]);
    }

    #[test]
    fn eol_fill_ends_on_a_byte_boundary() {
        let mut w = BitWriter::new(8);
        w.put_bits(1, 3);
        w.eol(true);
        assert_eq!(w.bit_pos() % 8, 0);
    }
}
