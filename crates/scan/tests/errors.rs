//! Broken input: empty, unknown, truncated, corrupt, oversized, unsupported. Never a panic;
//! every message names the file (and page) and says what to do.

mod common;

use std::path::Path;

use capsurvey_scan::{PageErrorKind, ScanError};
use common::*;

fn g4_pages(dir: &Path, n: u64) -> (Vec<Bilevel>, std::path::PathBuf) {
    let mut pages = Vec::new();
    let mut files = Vec::new();
    for k in 0..n {
        let page = synthetic_page(1728, 1146, 40 + k);
        let orig = dir.join(format!("o{k}.tif"));
        write_bilevel(&orig, &page, false, (204, 98));
        let g4 = dir.join(format!("g{k}.tif"));
        run("tiffcp", &["-c", "g4", s(&orig), s(&g4)]);
        pages.push(page);
        files.push(g4);
    }
    let multi = dir.join("multi.tif");
    let mut args: Vec<&str> = files.iter().map(|p| s(p)).collect();
    args.push(s(&multi));
    run("tiffcp", &args);
    (pages, multi)
}

/// Decodes everything, returning per page Ok(()) or the error text. Panics propagate.
fn outcome(bytes: &[u8], name: &str) -> Result<Vec<Result<(), String>>, String> {
    match capsurvey_scan::open_bytes(name, bytes.to_vec()) {
        Ok(source) => Ok(source
            .take(50)
            .map(|p| p.map(|_| ()).map_err(|e| e.to_string()))
            .collect()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn empty_missing_and_unknown_files() {
    let dir = tempdir();
    let empty = dir.path().join("fax-0001.tif");
    std::fs::write(&empty, b"").unwrap();
    let err = capsurvey_scan::open(&empty).unwrap_err();
    assert!(matches!(err, ScanError::Empty { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the file is empty (0 bytes): the scan or fax transfer probably failed; scan or send it again",
            empty.display()
        )
    );

    let missing = dir.path().join("nope.pdf");
    let err = capsurvey_scan::open(&missing).unwrap_err();
    assert!(matches!(err, ScanError::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope.pdf"));

    // The extension does not matter, the content does.
    let gif = dir.path().join("scan.tif");
    std::fs::write(&gif, b"GIF89a\x01\x00\x01\x00").unwrap();
    let err = capsurvey_scan::open(&gif).unwrap_err();
    assert!(
        err.to_string()
            .contains("scan.tif: not a TIFF, PDF, PNG or JPEG file (a GIF image)"),
        "{err}"
    );
    let page = synthetic_page(300, 200, 1);
    let real_tiff = dir.path().join("reply.pdf");
    write_bilevel(&real_tiff, &page, false, (200, 200));
    assert_eq!(
        pages(&real_tiff).len(),
        1,
        "a TIFF named .pdf is still read as TIFF"
    );
}

/// Cutting a multi-page G4 file anywhere never panics; cut inside page 3, pages 1–2 survive
/// and page 3 reports a truncation naming the file and the page.
#[test]
fn truncated_tiff() {
    let dir = tempdir();
    let (pages, multi) = g4_pages(dir.path(), 3);
    let bytes = std::fs::read(&multi).unwrap();
    for cut in [
        1,
        4,
        7,
        8,
        9,
        20,
        100,
        500,
        bytes.len() / 4,
        bytes.len() / 2,
        bytes.len() * 3 / 4,
        bytes.len() - 200,
        bytes.len() - 1,
    ] {
        let _ = outcome(&bytes[..cut], "cut.tif");
    }
    // Header cut: the whole file is refused.
    let err = capsurvey_scan::open_bytes("cut.tif", bytes[..6].to_vec()).unwrap_err();
    assert!(
        matches!(err, ScanError::Corrupt { format: "TIFF", .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("cut.tif: damaged or unreadable TIFF file"),
        "{err}"
    );

    // libtiff writes each page's data and then its directory: find page 3's strip.
    let mut dec = tiff::decoder::Decoder::new(std::io::Cursor::new(&bytes)).unwrap();
    dec.next_image().unwrap();
    dec.next_image().unwrap();
    let offset = dec.get_tag_u64_vec(tiff::tags::Tag::StripOffsets).unwrap()[0] as usize;
    let count = dec
        .get_tag_u64_vec(tiff::tags::Tag::StripByteCounts)
        .unwrap()[0] as usize;
    let cut = &bytes[..offset + count / 2];
    let got: Vec<_> = capsurvey_scan::open_bytes("cut.tif", cut.to_vec())
        .unwrap()
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    for (k, page) in pages.iter().take(2).enumerate() {
        assert_eq!(
            got[k].as_ref().unwrap().pixels,
            page.grey(),
            "page {}",
            k + 1
        );
    }
    let err = got[2].as_ref().unwrap_err();
    assert_eq!(err.page, 3);
    assert!(matches!(err.kind, PageErrorKind::Truncated { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("cut.tif, page 3: the image data is truncated"),
        "{err}"
    );

    // Strip data cut short while the directory is intact (declared byte count too small).
    let g4 = dir.path().join("g0.tif");
    let data = {
        let b = std::fs::read(&g4).unwrap();
        let mut d = tiff::decoder::Decoder::new(std::io::Cursor::new(&b)).unwrap();
        let o = d.get_tag_u64_vec(tiff::tags::Tag::StripOffsets).unwrap()[0] as usize;
        let c = d.get_tag_u64_vec(tiff::tags::Tag::StripByteCounts).unwrap()[0] as usize;
        b[o..o + c / 3].to_vec()
    };
    let short = dir.path().join("short.tif");
    write_tiff(
        &short,
        &TiffSpec {
            width: 1728,
            height: 1146,
            bits: 1,
            samples: 1,
            photometric: 0,
            compression: 4,
            data: &data,
            dpi: None,
        },
    );
    let err = open(&short).next().unwrap().unwrap_err();
    assert!(matches!(err.kind, PageErrorKind::Truncated { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("short.tif, page 1: the image data is truncated"),
        "{err}"
    );
}

/// Damage inside page 2's G4 data: page 2 fails with a message, pages 1 and 3 decode.
#[test]
fn corrupt_page_in_the_middle() {
    let dir = tempdir();
    let (pages, multi) = g4_pages(dir.path(), 3);
    let mut bytes = std::fs::read(&multi).unwrap();
    let mut dec = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes.clone())).unwrap();
    dec.next_image().unwrap();
    let offset = dec.get_tag_u64_vec(tiff::tags::Tag::StripOffsets).unwrap()[0] as usize;
    let count = dec
        .get_tag_u64_vec(tiff::tags::Tag::StripByteCounts)
        .unwrap()[0] as usize;
    for b in &mut bytes[offset + count / 3..offset + count / 3 + 40] {
        *b = 0;
    }
    let got: Vec<_> = capsurvey_scan::open_bytes("fax.tif", bytes.clone())
        .unwrap()
        .collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].as_ref().unwrap().pixels, pages[0].grey());
    assert_eq!(got[2].as_ref().unwrap().pixels, pages[2].grey());
    let err = got[1].as_ref().unwrap_err();
    assert_eq!(err.page, 2);
    let msg = err.to_string();
    assert!(
        msg.starts_with("fax.tif, page 2: damaged CCITT fax data"),
        "{msg}"
    );
    assert!(msg.contains("send or scan the page again"), "{msg}");

    // Read first and decoded later (as scan ingest's workers do): the same pages, the same
    // error, whatever the order the decoding happens in.
    let mut source = capsurvey_scan::open_bytes("fax.tif", bytes).unwrap();
    let mut encoded = Vec::new();
    while let Some(page) = source.next_encoded() {
        encoded.push(page.unwrap());
    }
    assert_eq!(encoded.len(), 3);
    let mut decoded: Vec<_> = encoded.into_iter().rev().map(|p| p.decode()).collect();
    decoded.reverse();
    assert_eq!(decoded[0].as_ref().unwrap().pixels, pages[0].grey());
    assert_eq!(decoded[2].as_ref().unwrap().pixels, pages[2].grey());
    assert_eq!(decoded[1].as_ref().unwrap_err().to_string(), msg);
}

/// Random damage anywhere in real files: errors allowed, panics and hangs not.
#[test]
fn random_damage_never_panics() {
    let dir = tempdir();
    let page = synthetic_page(600, 400, 50);
    let orig = dir.path().join("o.tif");
    write_bilevel(&orig, &page, false, (204, 98));
    let mut files = Vec::new();
    for codec in ["g4", "g3:2d", "g3:1d:fill", "lzw", "packbits"] {
        let out = dir.path().join(format!("{}.tif", codec.replace(':', "-")));
        run("tiffcp", &["-c", codec, s(&orig), s(&out)]);
        files.push(out);
    }
    let pdf = dir.path().join("g4.pdf");
    run("img2pdf", &["-o", s(&pdf), s(&files[0])]);
    files.push(pdf);
    let grey = synthetic_grey(300, 200);
    let png = dir.path().join("p.png");
    image::save_buffer(&png, &grey, 300, 200, image::ExtendedColorType::L8).unwrap();
    files.push(png);
    let jpg = dir.path().join("p.jpg");
    image::save_buffer(&jpg, &grey, 300, 200, image::ExtendedColorType::L8).unwrap();
    files.push(jpg);

    let mut rng = Rng(0x5eed);
    for file in &files {
        let clean = std::fs::read(file).unwrap();
        assert!(
            outcome(&clean, "clean").unwrap().iter().all(|p| p.is_ok()),
            "{}",
            file.display()
        );
        for round in 0..150 {
            let mut bytes = clean.clone();
            let hits = 1 + rng.below(8);
            for _ in 0..hits {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] = rng.next() as u8;
            }
            if round % 5 == 0 {
                let keep = rng.below(bytes.len() as u64) as usize;
                bytes.truncate(keep.max(1));
            }
            let _ = outcome(&bytes, "damaged");
        }
    }
}

/// A header announcing 30,000 × 30,000 pixels is refused before allocating.
#[test]
fn absurd_dimensions() {
    let dir = tempdir();
    for compression in [1, 4, 5] {
        let path = dir.path().join(format!("huge-{compression}.tif"));
        write_tiff(
            &path,
            &TiffSpec {
                width: 30_000,
                height: 30_000,
                bits: 1,
                samples: 1,
                photometric: 0,
                compression,
                data: &[0; 64],
                dpi: None,
            },
        );
        let err = open(&path).next().unwrap().unwrap_err();
        assert!(
            matches!(
                err.kind,
                PageErrorKind::TooLarge {
                    width: 30_000,
                    height: 30_000
                }
            ),
            "{err}"
        );
        let msg = err.to_string();
        assert!(msg.contains("page 1: the page image is 30000×30000 pixels, more than the limit of 100 megapixels"), "{msg}");
    }
}

#[test]
fn unsupported_tiff_compression() {
    let dir = tempdir();
    let path = dir.path().join("j2k.tif");
    write_tiff(
        &path,
        &TiffSpec {
            width: 100,
            height: 100,
            bits: 8,
            samples: 1,
            photometric: 1,
            compression: 34712,
            data: &[0; 64],
            dpi: None,
        },
    );
    let err = open(&path).next().unwrap().unwrap_err();
    assert!(matches!(
        err.kind,
        PageErrorKind::UnsupportedTiffCompression { code: 34712, .. }
    ));
    assert_eq!(
        err.to_string(),
        format!(
            "{}, page 1: unsupported TIFF compression 34712 (JPEG 2000): convert with `tiffcp -c g4 in.tif out.tif` (black and white) or `tiffcp -c lzw in.tif out.tif` (grey or colour)",
            path.display()
        )
    );
}

#[test]
fn truncated_and_garbage_pdf() {
    let dir = tempdir();
    let page = synthetic_page(1728, 1146, 60);
    let orig = dir.path().join("o.tif");
    write_bilevel(&orig, &page, false, (204, 98));
    let g4 = dir.path().join("g4.tif");
    run("tiffcp", &["-c", "g4", s(&orig), s(&g4)]);
    let pdf = dir.path().join("g4.pdf");
    run("img2pdf", &["-o", s(&pdf), s(&g4)]);
    let bytes = std::fs::read(&pdf).unwrap();
    for cut in [
        5,
        9,
        100,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 30,
    ] {
        let result = outcome(&bytes[..cut], "cut.pdf");
        // Either the file is refused or the page fails; it must never decode to a full page
        // when the image data itself was cut.
        if let Ok(pages) = &result
            && cut < bytes.len() / 2
        {
            assert!(pages.iter().all(|p| p.is_err()), "cut at {cut}: {pages:?}");
        }
        if let Err(msg) = &result {
            assert!(msg.starts_with("cut.pdf: "), "{msg}");
        }
    }
    let err =
        capsurvey_scan::open_bytes("x.pdf", b"%PDF-1.4\nthis is not a pdf".to_vec()).unwrap_err();
    assert!(
        matches!(err, ScanError::Corrupt { format: "PDF", .. }),
        "{err}"
    );
}
