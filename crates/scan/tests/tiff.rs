//! TIFF input: every compression produced by libtiff's `tiffcp` and Ghostscript's fax devices,
//! checked pixel for pixel against the original or against libtiff's own decoding.

mod common;

use common::*;

const FAX_DPI: (u32, u32) = (204, 98);

fn original(
    dir: &std::path::Path,
    width: u32,
    height: u32,
    seed: u64,
    min_is_black: bool,
) -> (Bilevel, std::path::PathBuf) {
    let page = synthetic_page(width, height, seed);
    let path = dir.join(if min_is_black {
        "orig-minisblack.tif"
    } else {
        "orig.tif"
    });
    write_bilevel(&path, &page, min_is_black, FAX_DPI);
    (page, path)
}

#[test]
fn uncompressed_bilevel_is_exact() {
    let dir = tempdir();
    for min_is_black in [false, true] {
        let (page, path) = original(dir.path(), 1728, 1146, 1, min_is_black);
        let got = single_page(&path);
        assert_same_pixels(&got, &page.grey(), 1728, 1146, "uncompressed");
        assert_eq!(
            (got.dpi_x, got.dpi_y, got.dpi_assumed, got.bilevel),
            (204.0, 98.0, false, true)
        );
    }
}

/// G4, G3 1-D, G3 2-D, with and without EOL fill bits, FillOrder 1 and 2, one strip and many,
/// MinIsWhite and MinIsBlack: all equal the original page.
#[test]
fn ccitt_from_tiffcp_equals_original() {
    let dir = tempdir();
    for min_is_black in [false, true] {
        let (page, orig) = original(dir.path(), 1728, 1146, 2, min_is_black);
        let want = page.grey();
        for codec in ["g4", "g3:1d", "g3:2d", "g3:1d:fill", "g3:2d:fill"] {
            for extra in [&[][..], &["-f", "lsb2msb"][..], &["-r", "37"][..]] {
                let out = dir.path().join("out.tif");
                let mut args = vec!["-c", codec];
                args.extend_from_slice(extra);
                args.extend_from_slice(&[s(&orig), s(&out)]);
                run("tiffcp", &args);
                let info = run("tiffinfo", &[s(&out)]);
                let what = format!(
                    "tiffcp {} (min_is_black={min_is_black})",
                    args[..args.len() - 2].join(" ")
                );
                match codec {
                    "g4" => assert!(info.contains("CCITT Group 4"), "{what}: {info}"),
                    _ => assert!(info.contains("CCITT Group 3"), "{what}: {info}"),
                }
                if codec.contains("2d") {
                    assert!(info.contains("2-d encoding"), "{what}: {info}");
                }
                if extra.first() == Some(&"-f") {
                    assert!(info.contains("lsb-to-msb"), "{what}: {info}");
                }
                let got = single_page(&out);
                assert_same_pixels(&got, &want, 1728, 1146, &what);
                assert!(got.bilevel);
                assert_eq!((got.dpi_x, got.dpi_y), (204.0, 98.0), "{what}");
            }
        }
    }
}

/// Runs longer than 1728 need the extended make-up codes (and several of them past 2560).
#[test]
fn ccitt_wide_page_uses_extended_makeup_codes() {
    let dir = tempdir();
    let mut page = synthetic_page(6000, 300, 3);
    page.rect(0, 10, 5990, 12); // one black run of 5990
    page.rect(3000, 20, 6000, 22);
    let orig = dir.path().join("wide.tif");
    write_bilevel(&orig, &page, false, (300, 300));
    for codec in ["g4", "g3:1d", "g3:2d"] {
        let out = dir
            .path()
            .join(format!("wide-{}.tif", codec.replace(':', "-")));
        run("tiffcp", &["-c", codec, s(&orig), s(&out)]);
        assert_same_pixels(&single_page(&out), &page.grey(), 6000, 300, codec);
    }
}

/// LZW, PackBits, Deflate and uncompressed, 1-bit and 8-bit grey, go through the tiff crate.
#[test]
fn lzw_packbits_deflate() {
    let dir = tempdir();
    let (page, orig) = original(dir.path(), 1000, 700, 4, false);
    let grey = synthetic_grey(640, 480);
    let grey_path = dir.path().join("grey.tif");
    write_tiff(
        &grey_path,
        &TiffSpec {
            width: 640,
            height: 480,
            bits: 8,
            samples: 1,
            photometric: 1,
            compression: 1,
            data: &grey,
            dpi: None,
        },
    );
    for codec in ["lzw", "packbits", "zip", "lzw:2", "none"] {
        let out = dir.path().join("out.tif");
        if codec != "lzw:2" {
            // (libtiff has no predictor for 1-bit samples)
            run("tiffcp", &["-c", codec, s(&orig), s(&out)]);
            let got = single_page(&out);
            assert_same_pixels(&got, &page.grey(), 1000, 700, &format!("1-bit {codec}"));
            assert!(got.bilevel);
        }
        run("tiffcp", &["-c", codec, s(&grey_path), s(&out)]);
        let got = single_page(&out);
        assert_same_pixels(&got, &grey, 640, 480, &format!("8-bit {codec}"));
        assert!(!got.bilevel);
        assert!(got.dpi_assumed, "no resolution tags: 200 dpi assumed");
        assert_eq!((got.dpi_x, got.dpi_y), (200.0, 200.0));
    }
}

/// RGB is turned grey with BT.601 weights; libtiff's `tiff2bw` (28/59/11 %) agrees within 2.
#[test]
fn rgb_to_grey() {
    let dir = tempdir();
    let (w, h) = (300u32, 200u32);
    let mut rgb = Vec::new();
    for y in 0..h {
        for x in 0..w {
            rgb.extend_from_slice(&[
                (x * 255 / w) as u8,
                (y * 255 / h) as u8,
                ((x + y) % 256) as u8,
            ]);
        }
    }
    let path = dir.path().join("rgb.tif");
    write_tiff(
        &path,
        &TiffSpec {
            width: w,
            height: h,
            bits: 8,
            samples: 3,
            photometric: 2,
            compression: 1,
            data: &rgb,
            dpi: Some((150, 150)),
        },
    );
    let lzw = dir.path().join("rgb-lzw.tif");
    run("tiffcp", &["-c", "lzw", s(&path), s(&lzw)]);
    let want: Vec<u8> = rgb
        .chunks(3)
        .map(|p| ((p[0] as u32 * 77 + p[1] as u32 * 150 + p[2] as u32 * 29 + 128) >> 8) as u8)
        .collect();
    for file in [&path, &lzw] {
        let got = single_page(file);
        assert_same_pixels(&got, &want, w, h, "rgb");
        assert_eq!((got.dpi_x, got.dpi_y), (150.0, 150.0));
    }
    let bw = dir.path().join("bw.tif");
    run("tiff2bw", &[s(&path), s(&bw)]);
    let libtiff = single_page(&bw);
    let worst = libtiff
        .pixels
        .iter()
        .zip(&want)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(worst <= 2, "tiff2bw differs by {worst}");
}

#[test]
fn jpeg_in_tiff() {
    let dir = tempdir();
    let grey = synthetic_grey(640, 480);
    let path = dir.path().join("grey.tif");
    write_tiff(
        &path,
        &TiffSpec {
            width: 640,
            height: 480,
            bits: 8,
            samples: 1,
            photometric: 1,
            compression: 1,
            data: &grey,
            dpi: None,
        },
    );
    let out = dir.path().join("jpeg.tif");
    run("tiffcp", &["-c", "jpeg:95", "-r", "16", s(&path), s(&out)]);
    let got = single_page(&out);
    let mean = got
        .pixels
        .iter()
        .zip(&grey)
        .map(|(a, b)| a.abs_diff(*b) as u64)
        .sum::<u64>()
        / grey.len() as u64;
    assert!(mean <= 4, "mean difference {mean}");
}

/// Colour JPEG-in-TIFF, stored as YCbCr (libtiff's default) or as RGB (`jpeg:r`).
#[test]
fn colour_jpeg_in_tiff() {
    let dir = tempdir();
    let (w, h) = (320u32, 240u32);
    let grey = synthetic_grey(w, h);
    let rgb: Vec<u8> = grey
        .iter()
        .flat_map(|&g| [g, g.saturating_add(20), g / 2])
        .collect();
    let want: Vec<u8> = rgb
        .chunks(3)
        .map(|p| ((p[0] as u32 * 77 + p[1] as u32 * 150 + p[2] as u32 * 29 + 128) >> 8) as u8)
        .collect();
    let path = dir.path().join("rgb.tif");
    write_tiff(
        &path,
        &TiffSpec {
            width: w,
            height: h,
            bits: 8,
            samples: 3,
            photometric: 2,
            compression: 1,
            data: &rgb,
            dpi: None,
        },
    );
    for codec in ["jpeg:95", "jpeg:r:95"] {
        let out = dir.path().join("out.tif");
        run("tiffcp", &["-c", codec, "-r", "16", s(&path), s(&out)]);
        let info = run("tiffinfo", &[s(&out)]);
        let got = single_page(&out);
        let mean = got
            .pixels
            .iter()
            .zip(&want)
            .map(|(a, b)| a.abs_diff(*b) as u64)
            .sum::<u64>()
            / want.len() as u64;
        assert!(mean <= 4, "{codec}: mean difference {mean}\n{info}");
    }
}

/// FillOrder 2 on uncompressed data is undone; on LZW/PackBits it is refused with advice
/// (libtiff reverses the compressed bytes, which the tiff crate cannot be given).
#[test]
fn fill_order_2_without_fax_compression() {
    let dir = tempdir();
    let (page, orig) = original(dir.path(), 500, 300, 5, false);
    let out = dir.path().join("none.tif");
    run(
        "tiffcp",
        &["-c", "none", "-f", "lsb2msb", s(&orig), s(&out)],
    );
    assert_same_pixels(
        &single_page(&out),
        &page.grey(),
        500,
        300,
        "FillOrder 2, uncompressed",
    );
    let out = dir.path().join("lzw.tif");
    run("tiffcp", &["-c", "lzw", "-f", "lsb2msb", s(&orig), s(&out)]);
    let err = open(&out).next().unwrap().unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("FillOrder 2 with TIFF compression 5 (LZW) is not supported: convert with `tiffcp -f msb2lsb"), "{msg}");
}

/// Reduced-resolution subfiles (thumbnails) are not pages.
#[test]
fn thumbnails_are_skipped() {
    let dir = tempdir();
    let mut inputs = Vec::new();
    let mut pages = Vec::new();
    for k in 0..3u64 {
        let page = synthetic_page(400, 300, 70 + k);
        let path = dir.path().join(format!("p{k}.tif"));
        write_bilevel(&path, &page, false, FAX_DPI);
        inputs.push(path);
        pages.push(page);
    }
    let multi = dir.path().join("multi.tif");
    run(
        "tiffcp",
        &[
            "-c",
            "g4",
            s(&inputs[0]),
            s(&inputs[1]),
            s(&inputs[2]),
            s(&multi),
        ],
    );
    run("tiffset", &["-d", "1", "-s", "254", "1", s(&multi)]);
    let got = common::pages(&multi);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].pixels, pages[0].grey());
    assert_eq!(got[1].pixels, pages[2].grey());
}

/// Ghostscript's fax devices render a real page (text, lines, boxes); the decoder must agree
/// with libtiff (`tiffcp -c none`) on every pixel, at standard and fine resolution.
#[test]
fn ghostscript_fax_devices_match_libtiff() {
    let dir = tempdir();
    let ps = dir.path().join("page.ps");
    std::fs::write(&ps, POSTSCRIPT_PAGE).unwrap();
    for (res, height, dpi_y) in [("204x98", 1146, 98.0), ("204x196", 2292, 196.0)] {
        for device in ["tiffg4", "tiffg3", "tiffg32d", "tiffcrle"] {
            let fax = dir.path().join(format!("{device}-{res}.tif"));
            run(
                "gs",
                &[
                    "-q",
                    "-dNOPAUSE",
                    "-dBATCH",
                    "-dSAFER",
                    &format!("-sDEVICE={device}"),
                    &format!("-r{res}"),
                    &format!("-sOutputFile={}", s(&fax)),
                    s(&ps),
                ],
            );
            let plain = dir.path().join("plain.tif");
            run("tiffcp", &["-c", "none", s(&fax), s(&plain)]);
            let want = single_page(&plain);
            let got = single_page(&fax);
            let what = format!("gs {device} {res}");
            assert_same_pixels(&got, &want.pixels, 1728, height, &what);
            assert_eq!((got.dpi_x, got.dpi_y), (204.0, dpi_y), "{what}");
            let ink = got.pixels.iter().filter(|&&p| p == 0).count();
            assert!(
                ink > 10_000,
                "{what}: the page should have ink, found {ink} black pixels"
            );
        }
    }
}

/// One file, pages with different compressions (tiffcp keeps each input's compression).
#[test]
fn multi_page_mixed_compressions() {
    let dir = tempdir();
    let mut want = Vec::new();
    let mut inputs = Vec::new();
    for (k, codec) in ["g4", "g3:2d", "g3:1d", "lzw", "none", "packbits"]
        .iter()
        .enumerate()
    {
        let page = synthetic_page(1728, 1146, 10 + k as u64);
        let orig = dir.path().join(format!("p{k}.tif"));
        write_bilevel(&orig, &page, false, FAX_DPI);
        let enc = dir.path().join(format!("p{k}-enc.tif"));
        run("tiffcp", &["-c", codec, s(&orig), s(&enc)]);
        want.push(page.grey());
        inputs.push(enc);
    }
    let grey = synthetic_grey(800, 600);
    let grey_path = dir.path().join("grey.tif");
    write_tiff(
        &grey_path,
        &TiffSpec {
            width: 800,
            height: 600,
            bits: 8,
            samples: 1,
            photometric: 1,
            compression: 1,
            data: &grey,
            dpi: None,
        },
    );
    let grey_lzw = dir.path().join("grey-lzw.tif");
    run("tiffcp", &["-c", "lzw", s(&grey_path), s(&grey_lzw)]);
    inputs.push(grey_lzw);
    let multi = dir.path().join("multi.tif");
    let mut args: Vec<&str> = inputs.iter().map(|p| s(p)).collect();
    args.push(s(&multi));
    run("tiffcp", &args);
    let info = run("tiffinfo", &[s(&multi)]);
    for name in ["CCITT Group 4", "CCITT Group 3", "LZW", "PackBits", "None"] {
        assert!(
            info.contains(name),
            "multi-page file should contain {name}: {info}"
        );
    }

    let mut source = open(&multi);
    assert_eq!(source.format(), capsurvey_scan::Format::Tiff);
    assert_eq!(source.page_count(), None);
    for (k, want) in want.iter().enumerate() {
        let page = source
            .next()
            .expect("page")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_same_pixels(&page, want, 1728, 1146, &format!("page {}", k + 1));
    }
    let last = source.next().expect("grey page").unwrap();
    assert_same_pixels(&last, &grey, 800, 600, "grey page");
    assert!(source.next().is_none());
    assert!(source.next().is_none(), "stays finished");

    // The same from memory.
    let bytes = std::fs::read(&multi).unwrap();
    let from_memory: Vec<_> = capsurvey_scan::open_bytes("multi.tif", bytes)
        .unwrap()
        .collect();
    assert_eq!(from_memory.len(), 7);
    assert!(from_memory.iter().all(|p| p.is_ok()));
}

/// Big multi-page files are decoded lazily: pages come one by one and can be dropped.
#[test]
fn five_hundred_pages() {
    let dir = tempdir();
    let page = synthetic_page(1728, 1146, 99);
    let orig = dir.path().join("one.tif");
    write_bilevel(&orig, &page, false, FAX_DPI);
    let g4 = dir.path().join("one-g4.tif");
    run("tiffcp", &["-c", "g4", s(&orig), s(&g4)]);
    let g4_s = s(&g4).to_string();
    let mut args: Vec<&str> = std::iter::repeat_n(g4_s.as_str(), 500).collect();
    let big = dir.path().join("big.tif");
    args.push(s(&big));
    run("tiffcp", &args);
    let want = page.grey();
    let mut n = 0;
    for p in open(&big) {
        let p = p.unwrap();
        n += 1;
        if n % 100 == 1 {
            assert_same_pixels(&p, &want, 1728, 1146, &format!("page {n}"));
        }
    }
    assert_eq!(n, 500);
}

pub const POSTSCRIPT_PAGE: &str = r#"%!PS
/Helvetica findfont 28 scalefont setfont
60 760 moveto (Capability survey - home care providers 2025) show
/Times-Roman findfont 14 scalefont setfont
60 730 moveto (Please mark one box per question. Reply by FAX to 03-1234-5678.) show
2 setlinewidth
0 1 9 {
  /i exch def
  60 680 i 60 mul sub moveto (Question ) show i 1 add 3 string cvs show
  0 1 4 { /j exch def 250 j 60 mul add 672 i 60 mul sub 18 18 rectstroke } for
  i 3 mod 0 eq { 250 i 30 mul 240 mod add 672 i 60 mul sub 18 18 rectfill } if
} for
newpath 60 60 moveto 540 60 lineto 540 100 lineto 60 100 lineto closepath stroke
30 30 20 20 rectfill 562 30 20 20 rectfill 30 792 20 20 rectfill
gsave 300 400 translate 30 rotate 0 0 moveto (rotated text 123) show grestore
showpage
"#;
