//! Content streams: turning a page's recorded operations into PDF operators (phase 3).
//!
//! The encoder tracks the graphics state (fill and stroke grey, line width, dash)
//! and only writes operators that change it, and writes numbers with at most three
//! decimals (1/1000 pt is far below printer resolution), which keeps streams short
//! before Flate compression.

use std::cell::RefCell;

use flate2::{Compress, Compression, FlushCompress, Status};
use lopdf::{Dictionary, Stream};

use super::font::GlyphSet;
use super::page::{Op, Page, Paint, PathEl};
use crate::geom::{Dash, Stroke};

/// Resource name of the document's only font.
pub(crate) const FONT_NAME: &str = "F0";

/// An encoded content stream, uncompressed.
pub(crate) struct Encoded {
    pub bytes: Vec<u8>,
    /// False if a NaN or infinite number was met (written as 0).
    pub finite: bool,
}

/// Encodes all operations of `page`, naming glyphs by their ids in the subset.
pub(crate) fn encode(page: &Page, glyphs: &GlyphSet) -> Encoded {
    let mut e = Encoder::new(page.glyphs.len() * 5 + page.path.len() * 24 + page.ops.len() * 16);
    for op in &page.ops {
        match op {
            Op::Text {
                x,
                y,
                size,
                gray,
                glyphs: range,
            } => {
                e.fill_gray(*gray);
                e.raw(b"BT /");
                e.raw(FONT_NAME.as_bytes());
                e.num(*size);
                e.raw(b" Tf");
                e.nums(&[*x, *y]);
                e.raw(b" Td <");
                for g in &page.glyphs[range.clone()] {
                    e.hex4(glyphs.new_id(g.id));
                }
                e.raw(b"> Tj ET\n");
            }
            Op::Path { elements, paint } => {
                match paint {
                    Paint::Fill(g) => e.fill_gray(*g),
                    Paint::Stroke(s) => e.stroke(s),
                    Paint::FillStroke(g, s) => {
                        e.fill_gray(*g);
                        e.stroke(s);
                    }
                }
                for el in &page.path[elements.clone()] {
                    match *el {
                        PathEl::Move(x, y) => e.op(&[x, y], b"m"),
                        PathEl::Line(x, y) => e.op(&[x, y], b"l"),
                        PathEl::Curve(a, b, c, d, x, y) => e.op(&[a, b, c, d, x, y], b"c"),
                        PathEl::Rect(x, y, w, h) => e.op(&[x, y, w, h], b"re"),
                        PathEl::Close => e.raw(b"h\n"),
                    }
                }
                e.raw(match paint {
                    Paint::Fill(_) => b"f\n",
                    Paint::Stroke(_) => b"S\n",
                    Paint::FillStroke(..) => b"B\n",
                });
            }
        }
    }
    Encoded {
        bytes: e.buf,
        finite: e.finite,
    }
}

/// A stream object holding `data` compressed with Flate.
pub(crate) fn flate_stream(dict: Dictionary, data: &[u8]) -> Stream {
    compressed_stream(dict, deflate(data))
}

/// A stream object holding data already compressed with Flate (zlib format).
pub(crate) fn compressed_stream(mut dict: Dictionary, compressed: Vec<u8>) -> Stream {
    dict.set("Filter", "FlateDecode");
    // lopdf must not compress it again.
    Stream::new(dict, compressed).with_compression(false)
}

/// zlib-compresses `data` (the format `/FlateDecode` expects).
///
/// One compressor per thread is reset and reused: a compressor's state is about 300 KB, and
/// allocating one per stream (thousands for a print file) between the small buffers a document
/// keeps fragmented the heap to gigabytes. The result is an exact-size copy for the same reason.
pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    zlib_with(true, data, FlushCompress::Finish)
}

thread_local! {
    /// Per thread: a zlib compressor, a raw-deflate compressor, and an output buffer.
    static DEFLATERS: RefCell<(Compress, Compress, Vec<u8>)> = RefCell::new((
        Compress::new(Compression::default(), true),
        Compress::new(Compression::default(), false),
        Vec::new(),
    ));
}

/// Compresses `data` as one zlib stream (`zlib_header`) or raw deflate, ended by `flush`
/// (`Finish` for a complete stream, `Full` for a byte-aligned segment that is not the last).
pub(crate) fn zlib_with(zlib_header: bool, data: &[u8], flush: FlushCompress) -> Vec<u8> {
    DEFLATERS.with(|d| {
        let (zlib, raw, buf) = &mut *d.borrow_mut();
        let c = if zlib_header { zlib } else { raw };
        c.reset();
        buf.clear();
        buf.reserve(data.len() / 2 + 256);
        let finish = matches!(flush, FlushCompress::Finish);
        loop {
            let consumed = c.total_in() as usize;
            let status = c
                .compress_vec(&data[consumed..], buf, flush)
                .expect("in-memory deflate");
            let room_left = buf.len() < buf.capacity();
            match status {
                Status::StreamEnd => break,
                _ if !finish && c.total_in() as usize == data.len() && room_left => break,
                _ => buf.reserve(buf.capacity().max(4096)),
            }
        }
        buf.as_slice().to_vec()
    })
}

/// Writes operators and tracks the graphics state to skip redundant ones.
struct Encoder {
    buf: Vec<u8>,
    fill: f64,
    stroke_gray: f64,
    line_width: f64,
    dash: Option<Dash>,
    finite: bool,
}

impl Encoder {
    fn new(capacity: usize) -> Self {
        // The PDF defaults at the start of every content stream.
        Self {
            buf: Vec::with_capacity(capacity),
            fill: 0.0,
            stroke_gray: 0.0,
            line_width: 1.0,
            dash: None,
            finite: true,
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn fill_gray(&mut self, g: f64) {
        let g = g.clamp(0.0, 1.0);
        if g != self.fill {
            self.fill = g;
            self.op(&[g], b"g");
        }
    }

    fn stroke(&mut self, s: &Stroke) {
        let g = s.gray.clamp(0.0, 1.0);
        if g != self.stroke_gray {
            self.stroke_gray = g;
            self.op(&[g], b"G");
        }
        if s.width != self.line_width {
            self.line_width = s.width;
            self.op(&[s.width], b"w");
        }
        if s.dash != self.dash {
            self.dash = s.dash;
            match s.dash {
                Some(d) => {
                    self.raw(b"[");
                    self.nums(&[d.on, d.off]);
                    self.raw(b" ] 0 d\n");
                }
                None => self.raw(b"[] 0 d\n"),
            }
        }
    }

    /// Operands, then the operator, then a newline.
    fn op(&mut self, operands: &[f64], operator: &[u8]) {
        self.nums(operands);
        self.buf.push(b' ');
        self.raw(operator);
        self.buf.push(b'\n');
    }

    /// Numbers separated by spaces.
    fn nums(&mut self, values: &[f64]) {
        for &v in values {
            self.num(v);
        }
    }

    /// Writes `v` with at most three decimals and no exponent (PDF has none),
    /// preceded by a space unless it starts a line or an array.
    fn num(&mut self, v: f64) {
        if !matches!(self.buf.last(), None | Some(b'\n' | b'[')) {
            self.buf.push(b' ');
        }
        if !v.is_finite() {
            self.finite = false;
            self.buf.push(b'0');
            return;
        }
        let milli = (v * 1000.0).round();
        if milli.abs() > 9.0e15 {
            // Far outside any page; keep the syntax valid and let the check below catch it.
            self.finite = false;
            self.buf.push(b'0');
            return;
        }
        let milli = milli as i64;
        if milli < 0 {
            self.buf.push(b'-');
        }
        let milli = milli.unsigned_abs();
        let (int, frac) = (milli / 1000, milli % 1000);
        self.uint(int);
        if frac != 0 {
            self.buf.push(b'.');
            let digits = [frac / 100, frac / 10 % 10, frac % 10];
            let len = if digits[2] != 0 {
                3
            } else if digits[1] != 0 {
                2
            } else {
                1
            };
            for d in &digits[..len] {
                self.buf.push(b'0' + *d as u8);
            }
        }
    }

    fn uint(&mut self, mut v: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&tmp[i..]);
    }

    fn hex4(&mut self, v: u16) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.buf.extend_from_slice(&[
            HEX[usize::from(v >> 12)],
            HEX[usize::from(v >> 8 & 0xF)],
            HEX[usize::from(v >> 4 & 0xF)],
            HEX[usize::from(v & 0xF)],
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(v: f64) -> String {
        let mut e = Encoder::new(0);
        e.num(v);
        String::from_utf8(e.buf).unwrap()
    }

    #[test]
    fn numbers_are_short_and_exponent_free() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(-3.5), "-3.5");
        assert_eq!(num(841.89), "841.89");
        assert_eq!(num(0.0004), "0");
        assert_eq!(num(0.0005), "0.001");
        assert_eq!(num(1e-20), "0");
        assert_eq!(num(123456789.125), "123456789.125");
        assert_eq!(num(-0.05), "-0.05");
        let mut e = Encoder::new(0);
        e.num(f64::NAN);
        assert!(!e.finite);
    }

    #[test]
    fn graphics_state_is_only_set_when_it_changes() {
        let mut page = Page::a4();
        page.line(0.0, 0.0, 10.0, 0.0, 0.5);
        page.line(0.0, 5.0, 10.0, 5.0, 0.5);
        page.line(0.0, 9.0, 10.0, 9.0, Stroke::new(0.5).dashed(2.0, 1.0));
        page.fill_rect(crate::Rect::new(0.0, 0.0, 1.0, 1.0), 0.0);
        let out = String::from_utf8(encode(&page, &GlyphSet::default()).bytes).unwrap();
        assert_eq!(out.matches(" w\n").count(), 1, "{out}");
        assert_eq!(out.matches(" d\n").count(), 1, "{out}");
        assert!(!out.contains(" g\n"), "black is the default fill: {out}");
        assert!(out.contains("\n0 841.89 m\n10 841.89 l\nS\n"), "{out}");
    }
}
