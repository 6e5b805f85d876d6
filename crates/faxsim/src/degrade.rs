//! What the machine does to the page: placement on the scan bed (rotation, scale, shift, turned
//! over), optics (blur), dirt (streaks, dust), the transmission (noise, bad lines), and the
//! output format (resolution with non-square pixels, 1-bit threshold, 1728-pixel fax lines).

use serde::{Deserialize, Serialize};

use capsurvey_layout::Size;

use crate::base::Typesetter;
use crate::canvas::{Affine, Canvas, Ink, Scene, Shape};
use crate::rng::Rng;

/// Pixels in a fax line: every fax page is 1728 pixels wide at 204 dpi (215 mm), whatever the
/// paper; an A4 page sits in the middle with white on both sides.
pub const FAX_WIDTH: u32 = 1728;

/// How a reply reached the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Fax at standard resolution: 204 × 98 dpi, 1-bit, 1728 × 1146 for A4.
    FaxStandard,
    /// Fax at fine resolution: 204 × 196 dpi, 1-bit, 1728 × 2292 for A4.
    FaxFine,
    /// Office scanner, 200 dpi grey.
    Scan200Grey,
    /// Office scanner, 300 dpi grey.
    Scan300Grey,
    /// Office scanner, 600 dpi grey (35 megapixels: slow, for occasional tests).
    Scan600Grey,
    /// Office scanner, 200 dpi colour (pen ink keeps its colour).
    Scan200Color,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 6] = [
        Profile::FaxStandard,
        Profile::FaxFine,
        Profile::Scan200Grey,
        Profile::Scan300Grey,
        Profile::Scan600Grey,
        Profile::Scan200Color,
    ];

    /// Horizontal and vertical resolution.
    pub fn dpi(self) -> (f32, f32) {
        match self {
            Profile::FaxStandard => (204.0, 98.0),
            Profile::FaxFine => (204.0, 196.0),
            Profile::Scan200Grey | Profile::Scan200Color => (200.0, 200.0),
            Profile::Scan300Grey => (300.0, 300.0),
            Profile::Scan600Grey => (600.0, 600.0),
        }
    }

    /// Whether pages come out 1-bit and 1728 pixels wide.
    pub fn is_fax(self) -> bool {
        matches!(self, Profile::FaxStandard | Profile::FaxFine)
    }

    /// Whether pages are in colour.
    pub fn is_color(self) -> bool {
        self == Profile::Scan200Color
    }

    /// Output size in pixels for a page of `page` points: faxes are [`FAX_WIDTH`] wide, scans
    /// the page at the resolution.
    pub fn size_px(self, page: Size) -> (u32, u32) {
        let (dx, dy) = self.dpi();
        let h = (page.height / 72.0 * f64::from(dy)).round() as u32;
        let w = if self.is_fax() {
            FAX_WIDTH
        } else {
            (page.width / 72.0 * f64::from(dx)).round() as u32
        };
        (w, h)
    }
}

/// A streak across the page.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Streak {
    /// First pixel column (vertical streaks) or row (horizontal).
    pub at: u32,
    /// Width in pixels.
    pub width: u32,
    /// What it does.
    pub kind: StreakKind,
}

/// Kinds of streaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreakKind {
    /// Dirt on the scanner glass: a dark line along the paper feed.
    Dark,
    /// A transmission error: the line is lost and the previous one repeated.
    Repeat,
    /// A transmission error: a line of random black runs.
    Garbage,
    /// A transmission error: the line comes out white.
    Dropout,
}

/// White bands where the machine did not scan the paper's edge, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EdgeLoss {
    /// At the top.
    pub top: f64,
    /// At the bottom.
    pub bottom: f64,
    /// At the left of the paper.
    pub left: f64,
    /// At the right of the paper.
    pub right: f64,
}

/// Everything done to one page, as drawn from the profile's distributions (recorded in the
/// truth so tests can check recognition against it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Degradation {
    /// The profile.
    pub profile: Profile,
    /// Skew in degrees, clockwise on the image (within ±3).
    pub rotation_deg: f64,
    /// Horizontal scale error (within 0.98–1.02).
    pub scale_x: f64,
    /// Vertical scale error, mostly paper feed (within 0.98–1.02).
    pub scale_y: f64,
    /// Horizontal shift of the page centre in mm (within ±5).
    pub shift_x_mm: f64,
    /// Vertical shift of the page centre in mm (within ±5).
    pub shift_y_mm: f64,
    /// Fed upside down: turned by 180° (on top of the skew).
    pub upside_down: bool,
    /// Optical blur, 0 (none) to 1 (a full [1 2 1]² kernel).
    pub blur: f64,
    /// Whiteness below which a pixel turns black (fax); `None` for grey and colour scans.
    pub threshold: Option<u8>,
    /// Fraction of pixels set to random black or white after thresholding (salt and pepper).
    pub noise: f64,
    /// Sensor noise amplitude in grey levels (scans).
    pub sensor_noise: u8,
    /// Paper brightness (scans; 255 for fax).
    pub paper: u8,
    /// Dark lines along the feed from dirt on the glass.
    pub vertical_streaks: Vec<Streak>,
    /// Lines hurt in transmission.
    pub horizontal_streaks: Vec<Streak>,
    /// Unscanned margins.
    pub edge_loss: EdgeLoss,
    /// Dust specks on the glass.
    pub dust: u32,
    /// Whether the sending machine printed its header line (date, sender, page) at the top.
    pub sender_header: bool,
}

impl Degradation {
    /// A perfect pass: no skew, no noise, nothing lost.
    pub fn none(profile: Profile) -> Degradation {
        Degradation {
            profile,
            rotation_deg: 0.0,
            scale_x: 1.0,
            scale_y: 1.0,
            shift_x_mm: 0.0,
            shift_y_mm: 0.0,
            upside_down: false,
            blur: 0.0,
            threshold: profile.is_fax().then_some(128),
            noise: 0.0,
            sensor_noise: 0,
            paper: 255,
            vertical_streaks: Vec::new(),
            horizontal_streaks: Vec::new(),
            edge_loss: EdgeLoss {
                top: 0.0,
                bottom: 0.0,
                left: 0.0,
                right: 0.0,
            },
            dust: 0,
            sender_header: false,
        }
    }

    /// A random degradation typical of the profile.
    pub fn sample(profile: Profile, page: Size, rng: &mut Rng) -> Degradation {
        let (w, h) = profile.size_px(page);
        let fax = profile.is_fax();
        let mut d = Degradation::none(profile);
        let (rot_sd, scale_sd, shift_sd) = if fax {
            (1.0, 0.008, 2.0)
        } else {
            (0.5, 0.004, 1.5)
        };
        d.rotation_deg = rng.normal_clamped(rot_sd, 3.0);
        d.scale_x = 1.0 + rng.normal_clamped(scale_sd * 0.6, 0.02);
        d.scale_y = 1.0 + rng.normal_clamped(scale_sd, 0.02);
        d.shift_x_mm = rng.normal_clamped(shift_sd, 5.0);
        d.shift_y_mm = rng.normal_clamped(shift_sd * 1.2, 5.0);
        d.upside_down = rng.chance(if fax { 0.07 } else { 0.04 });
        d.dust = rng.below(if fax { 30 } else { 12 }) as u32;
        if fax {
            d.blur = if rng.chance(0.5) {
                rng.range(0.2, 0.8)
            } else {
                0.0
            };
            d.threshold = Some(rng.int(105, 150) as u8);
            let u = rng.f64();
            d.noise = 0.005 + 0.015 * u * u;
            d.edge_loss = EdgeLoss {
                top: rng.range(0.0, 5.0),
                bottom: rng.range(0.0, 5.0),
                left: rng.range(0.0, 3.0),
                right: rng.range(0.0, 3.0),
            };
            d.sender_header = rng.chance(0.7);
            if rng.chance(0.15) {
                for _ in 0..rng.int(1, 2) {
                    d.vertical_streaks.push(Streak {
                        at: rng.below(u64::from(w)) as u32,
                        width: rng.int(1, 3) as u32,
                        kind: StreakKind::Dark,
                    });
                }
            }
            if rng.chance(0.15) {
                for _ in 0..rng.int(1, 3) {
                    let kind =
                        *rng.pick(&[StreakKind::Repeat, StreakKind::Garbage, StreakKind::Dropout]);
                    d.horizontal_streaks.push(Streak {
                        at: rng.below(u64::from(h)) as u32,
                        width: rng.int(1, 6) as u32,
                        kind,
                    });
                }
            }
        } else {
            d.blur = rng.range(0.3, 0.8);
            d.threshold = None;
            d.noise = rng.range(0.0, 0.002);
            d.sensor_noise = rng.int(2, 6) as u8;
            d.paper = rng.int(232, 250) as u8;
            d.edge_loss = EdgeLoss {
                top: rng.range(0.0, 1.5),
                bottom: rng.range(0.0, 1.5),
                left: rng.range(0.0, 1.0),
                right: rng.range(0.0, 1.0),
            };
            if rng.chance(0.05) {
                d.vertical_streaks.push(Streak {
                    at: rng.below(u64::from(w)) as u32,
                    width: rng.int(1, 4) as u32,
                    kind: StreakKind::Dark,
                });
            }
        }
        d
    }

    /// The map from page points (top-left origin) to output pixels.
    pub fn page_to_pixel(&self, page: Size) -> Affine {
        let (w, h) = self.profile.size_px(page);
        let (dx, dy) = self.profile.dpi();
        let (dx, dy) = (f64::from(dx), f64::from(dy));
        let mm_per_pt = 25.4 / 72.0;
        let bed_w = f64::from(w) * 25.4 / dx;
        let bed_h = f64::from(h) * 25.4 / dy;
        let turn = if self.upside_down {
            std::f64::consts::PI
        } else {
            0.0
        };
        Affine::translate(-page.width / 2.0, -page.height / 2.0)
            .then(&Affine::scale(self.scale_x, self.scale_y))
            .then(&Affine::rotate(self.rotation_deg.to_radians() + turn))
            .then(&Affine::scale(mm_per_pt, mm_per_pt))
            .then(&Affine::translate(
                bed_w / 2.0 + self.shift_x_mm,
                bed_h / 2.0 + self.shift_y_mm,
            ))
            .then(&Affine::scale(dx / 25.4, dy / 25.4))
    }

    /// Dust specks on the page, as a scene in page points.
    pub(crate) fn dust_scene(&self, page: Size, rng: &mut Rng) -> Scene {
        let mut s = Scene::default();
        for _ in 0..self.dust {
            let (x, y) = (rng.range(0.0, page.width), rng.range(0.0, page.height));
            let r = rng.range(0.3, 0.9);
            let (ex, ey) = (rng.jitter(0.6), rng.jitter(0.6));
            // One operation per speck: together they would span the whole page.
            s.push(
                vec![Shape::Capsule {
                    a: (x, y),
                    b: (x + ex, y + ey),
                    r,
                }],
                Ink::grey(0.9),
            );
        }
        s
    }

    /// Applies everything after drawing: edge loss, the sender's header line, streaks, blur,
    /// paper and sensor noise or the threshold, salt and pepper, transmission errors. Returns
    /// the grey pixels and, for colour profiles, the RGB pixels.
    pub(crate) fn finish(
        &self,
        canvas: &mut Canvas,
        page: Size,
        rng: &mut Rng,
    ) -> (Vec<u8>, Option<Vec<u8>>) {
        let (w, h, ch) = (canvas.width, canvas.height, canvas.channels);
        let (dpi_x, dpi_y) = self.profile.dpi();
        let (px_x, px_y) = (f64::from(dpi_x) / 25.4, f64::from(dpi_y) / 25.4);
        // The paper's left and right edge in output pixels (centred on the bed + shift).
        let paper_w = page.width * 25.4 / 72.0 * self.scale_x;
        let left_edge = (w as f64 / px_x - paper_w) / 2.0 + self.shift_x_mm;
        let white_cols = |from_mm: f64, to_mm: f64| {
            let a = (from_mm * px_x).round().clamp(0.0, w as f64) as usize;
            let b = (to_mm * px_x).round().clamp(0.0, w as f64) as usize;
            a..b
        };
        let top = (self.edge_loss.top * px_y).round() as usize;
        let bottom = (self.edge_loss.bottom * px_y).round() as usize;
        let l = white_cols(left_edge, left_edge + self.edge_loss.left);
        let r = white_cols(
            left_edge + paper_w - self.edge_loss.right,
            left_edge + paper_w,
        );
        for y in 0..h {
            let row = &mut canvas.data[y * w * ch..(y + 1) * w * ch];
            if y < top || y + bottom >= h {
                row.fill(255);
            } else {
                row[l.start * ch..l.end * ch].fill(255);
                row[r.start * ch..r.end * ch].fill(255);
            }
        }

        if self.sender_header {
            sender_header(canvas, rng);
        }

        for s in &self.vertical_streaks {
            let a = (s.at as usize).min(w);
            let b = (a + s.width as usize).min(w);
            let k = if self.profile.is_fax() { 200u32 } else { 120 };
            for y in 0..h {
                for p in &mut canvas.data[(y * w + a) * ch..(y * w + b) * ch] {
                    *p = (u32::from(*p) * (255 - k) / 255) as u8;
                }
            }
        }

        if self.blur > 0.0 {
            blur(&mut canvas.data, w, h, ch, self.blur);
        }

        // Grey (and colour) values, or the 1-bit page.
        let mut rgb = None;
        let mut grey: Vec<u8> = if ch == 3 {
            canvas
                .data
                .chunks_exact(3)
                .map(|p| {
                    ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29 + 128)
                        >> 8) as u8
                })
                .collect()
        } else {
            std::mem::take(&mut canvas.data)
        };
        let mut noise_rng = Xorshift::new(rng.next_u64());
        if let Some(t) = self.threshold {
            for p in grey.iter_mut() {
                *p = if *p < t { 0 } else { 255 };
            }
        } else {
            let paper = u32::from(self.paper);
            let amp = u32::from(self.sensor_noise);
            let apply = |v: u8, n: u32| -> u8 {
                let v = u32::from(v) * paper / 255 + n;
                v.saturating_sub(amp).min(255) as u8
            };
            if ch == 3 {
                let mut data = std::mem::take(&mut canvas.data);
                for (px, g) in data.chunks_exact_mut(3).zip(grey.iter_mut()) {
                    let n = ((noise_rng.next() & 0xFFFF) * (2 * amp + 1)) >> 16;
                    // A slightly warm paper: blue a little darker than red.
                    px[0] = apply(px[0], n);
                    px[1] = apply(px[1], n);
                    px[2] = apply(px[2], n).saturating_sub(6);
                    *g = ((u32::from(px[0]) * 77
                        + u32::from(px[1]) * 150
                        + u32::from(px[2]) * 29
                        + 128)
                        >> 8) as u8;
                }
                rgb = Some(data);
            } else {
                for p in grey.iter_mut() {
                    let n = ((noise_rng.next() & 0xFFFF) * (2 * amp + 1)) >> 16;
                    *p = apply(*p, n);
                }
            }
        }

        // Salt and pepper.
        if self.noise > 0.0 {
            let gap = (2.0 / self.noise).max(2.0) as u32;
            let n = grey.len();
            let mut i = (noise_rng.next() % gap) as usize;
            let (dark, light) = if self.threshold.is_some() {
                (0u8, 255u8)
            } else {
                (40, self.paper)
            };
            while i < n {
                let r = noise_rng.next();
                // Mostly black specks: white specks only show inside ink.
                let v = if r & 3 == 0 { light } else { dark };
                grey[i] = v;
                if let Some(rgb) = rgb.as_mut() {
                    rgb[i * 3..i * 3 + 3].fill(v);
                }
                i += 1 + (r >> 8) as usize % gap as usize;
            }
        }

        for s in &self.horizontal_streaks {
            let a = (s.at as usize).min(h);
            let b = (a + s.width as usize).min(h);
            for y in a..b {
                match s.kind {
                    StreakKind::Repeat if y > 0 => {
                        grey.copy_within((y - 1) * w..y * w, y * w);
                    }
                    StreakKind::Dropout => grey[y * w..(y + 1) * w].fill(255),
                    StreakKind::Garbage => {
                        let row = &mut grey[y * w..(y + 1) * w];
                        let mut x = 0;
                        while x < w {
                            let r = noise_rng.next();
                            let run = 1 + (r % 40) as usize;
                            if r & (1 << 20) != 0 {
                                row[x..(x + run).min(w)].fill(0);
                            }
                            x += run;
                        }
                    }
                    _ => {}
                }
            }
        }
        (grey, rgb)
    }
}

/// The transmitting terminal's header line at the very top: date, time, sender, page.
fn sender_header(canvas: &mut Canvas, rng: &mut Rng) {
    // Drawn in the output frame (not skewed with the paper): points from the image's top-left.
    let saved = canvas.to_px;
    let sx = saved_scale(canvas);
    canvas.set_transform(Affine::scale(sx.0, sx.1));
    let mut ts = Typesetter { rng };
    let mut shapes = Vec::new();
    let size = 6.5;
    let y = 2.5;
    ts.line(&mut shapes, 12.0, y, size, 10, false);
    ts.line(&mut shapes, 160.0, y, size, 14, false);
    ts.line(&mut shapes, 480.0, y, size, 6, false);
    canvas.paint(&shapes, Ink::grey(1.0));
    canvas.set_transform(saved);
}

/// Pixels per point of the canvas's output frame (its resolution), from the page map.
fn saved_scale(canvas: &Canvas) -> (f64, f64) {
    let t = canvas.to_px;
    // Rotation and the 180° turn keep the row and column norms: those are the resolutions
    // times the scale errors, close enough for a header line.
    (
        (t.a * t.a + t.b * t.b).sqrt(),
        (t.d * t.d + t.e * t.e).sqrt(),
    )
}

/// Blends the image with its [1 2 1]×[1 2 1]/16 blur by `amount` (edges repeat).
fn blur(data: &mut [u8], w: usize, h: usize, ch: usize, amount: f64) {
    let k = (amount.clamp(0.0, 1.0) * 256.0) as u32;
    let stride = w * ch;
    if w < 3 || h < 3 {
        return;
    }
    // Horizontal pass: slices offset by one pixel, zipped, so the loop has no bounds checks.
    let mut tmp = vec![0u8; data.len()];
    for (row, out) in data.chunks_exact(stride).zip(tmp.chunks_exact_mut(stride)) {
        let f =
            |l: u8, c: u8, r: u8| ((u32::from(l) + 2 * u32::from(c) + u32::from(r) + 2) >> 2) as u8;
        for (o, ((l, c), r)) in out[ch..stride - ch]
            .iter_mut()
            .zip(row.iter().zip(&row[ch..]).zip(&row[2 * ch..]))
        {
            *o = f(*l, *c, *r);
        }
        for i in 0..ch {
            out[i] = f(row[i], row[i], row[i + ch]);
            out[stride - ch + i] = f(
                row[stride - 2 * ch + i],
                row[stride - ch + i],
                row[stride - ch + i],
            );
        }
    }
    // Vertical pass, blended into the original.
    for y in 0..h {
        let up = &tmp[y.saturating_sub(1) * stride..][..stride];
        let mid = &tmp[y * stride..][..stride];
        let down = &tmp[(y + 1).min(h - 1) * stride..][..stride];
        let out = &mut data[y * stride..][..stride];
        for (o, ((u, m), d)) in out.iter_mut().zip(up.iter().zip(mid).zip(down)) {
            let b = (u32::from(*u) + 2 * u32::from(*m) + u32::from(*d) + 2) >> 2;
            *o = ((u32::from(*o) * (256 - k) + b * k + 128) >> 8) as u8;
        }
    }
}

/// A tiny generator for per-pixel noise (xorshift32: one shift-xor triple per pixel).
struct Xorshift(u32);

impl Xorshift {
    fn new(seed: u64) -> Xorshift {
        Xorshift((seed as u32 ^ (seed >> 32) as u32) | 1)
    }
    #[inline]
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_ghostscript() {
        let a4 = capsurvey_layout::A4;
        assert_eq!(Profile::FaxStandard.size_px(a4), (1728, 1146));
        assert_eq!(Profile::FaxFine.size_px(a4), (1728, 2292));
        assert_eq!(Profile::Scan300Grey.size_px(a4), (2480, 3508));
    }

    #[test]
    fn page_centre_lands_on_bed_centre() {
        let a4 = capsurvey_layout::A4;
        let mut d = Degradation::none(Profile::FaxStandard);
        d.rotation_deg = 2.0;
        d.upside_down = true;
        let m = d.page_to_pixel(a4);
        let (x, y) = m.apply(a4.width / 2.0, a4.height / 2.0);
        assert!(
            (x - 864.0).abs() < 0.01 && (y - 573.0).abs() < 0.01,
            "{x} {y}"
        );
        // Upside down: the top-left corner goes to the bottom right.
        let (x, y) = m.apply(0.0, 0.0);
        assert!(x > 1600.0 && y > 1050.0, "{x} {y}");
    }
}
