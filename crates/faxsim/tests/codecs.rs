//! The CCITT encoder and the file writers, checked against the scan crate's decoder and against
//! libtiff (Debian `libtiff-tools`) and qpdf (Debian `qpdf`).

mod common;

use capsurvey_faxsim::ccitt::G3Options;
use capsurvey_faxsim::{
    Picture, Profile, RgbImage, Rng, TiffCompression, random_answers, simulate_reply, write_jpeg,
    write_pdf, write_png, write_tiff,
};
use capsurvey_scan::PageImage;
use common::{code, decode_all, decode_path, dental, random_bitmap, run};

/// Every CCITT variant the writer offers, with a name for messages.
fn ccitt_variants() -> Vec<(&'static str, TiffCompression)> {
    let g3 = |two_d, eol_fill, rtc| {
        TiffCompression::G3(G3Options {
            two_d,
            eol_fill,
            rtc,
        })
    };
    vec![
        ("g3-1d", g3(None, false, false)),
        ("g3-1d-fill", g3(None, true, false)),
        ("g3-1d-fill-rtc", g3(None, true, true)),
        ("g3-2d-k1", g3(Some(1), true, false)),
        ("g3-2d-k2", g3(Some(2), false, false)),
        ("g3-2d-k2-fill-rtc", g3(Some(2), true, true)),
        ("g3-2d-k4-fill", g3(Some(4), true, false)),
        ("g3-2d-all", g3(Some(100_000), true, false)),
        ("g4", TiffCompression::G4),
        ("rle", TiffCompression::Rle),
    ]
}

fn bilevel(width: usize, height: usize, px: Vec<u8>, dpi_y: f32) -> PageImage {
    PageImage::new(width as u32, height as u32, 204.0, dpi_y, px)
}

fn random_pages() -> Vec<PageImage> {
    let mut rng = Rng::new(2024);
    let mut pages = Vec::new();
    for (i, &(w, h)) in [
        (1, 3),
        (7, 5),
        (8, 8),
        (63, 9),
        (64, 9),
        (65, 9),
        (1728, 40),
        (2561, 12),
        (2624, 12),
        (5000, 10),
        (6000, 6),
    ]
    .iter()
    .enumerate()
    {
        for style in 0..4 {
            let px = random_bitmap(&mut rng, w, h, style);
            pages.push(bilevel(w, h, px, if i % 2 == 0 { 98.0 } else { 196.0 }));
        }
    }
    // All white, all black, alternating pixels, a single black column at each edge.
    let w = 1728;
    pages.push(bilevel(w, 3, vec![255; w * 3], 98.0));
    pages.push(bilevel(w, 3, vec![0; w * 3], 98.0));
    pages.push(bilevel(
        w,
        2,
        (0..w * 2)
            .map(|i| if (i + i / w) % 2 == 0 { 0 } else { 255 })
            .collect(),
        98.0,
    ));
    let mut edges = vec![255; w * 4];
    for y in 0..4 {
        edges[y * w] = 0;
        edges[y * w + w - 1] = 0;
    }
    pages.push(bilevel(w, 4, edges, 98.0));
    pages
}

fn assert_same(name: &str, got: &[PageImage], want: &[PageImage]) {
    assert_eq!(got.len(), want.len(), "{name}: page count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(
            (g.width, g.height),
            (w.width, w.height),
            "{name} page {i}: size"
        );
        if g.pixels != w.pixels {
            let at = g
                .pixels
                .iter()
                .zip(&w.pixels)
                .position(|(a, b)| a != b)
                .unwrap();
            panic!(
                "{name} page {i} ({}×{}): first difference at row {}, column {}",
                w.width,
                w.height,
                at / w.width as usize,
                at % w.width as usize
            );
        }
        assert_eq!(
            (g.dpi_x, g.dpi_y),
            (w.dpi_x, w.dpi_y),
            "{name} page {i}: resolution"
        );
    }
}

#[test]
fn random_bitmaps_round_trip_through_the_scan_decoder() {
    let pages = random_pages();
    let pictures: Vec<Picture> = pages.iter().map(Picture::from).collect();
    for (name, compression) in ccitt_variants() {
        let tiff = write_tiff(&pictures, compression);
        assert_same(name, &decode_all(name, tiff), &pages);
    }
}

#[test]
fn every_run_length_round_trips() {
    // Row i: white run i, black run i, white to the end; then the same starting black. Covers
    // every terminating code, every make-up code and the extended codes past 2560 (repeated).
    let width = 5400usize;
    let mut px = Vec::new();
    let mut rows = 0;
    for first_black in [false, true] {
        for i in (0..=2700usize).chain([2701, 2750, 5119, 5120, 5121, 5184, 5399, 5400]) {
            let mut row = vec![255u8; width];
            let (a, b) = if first_black { (0, 255) } else { (255, 0) };
            let i1 = i.min(width);
            row[..i1].fill(a);
            row[i1..(2 * i).min(width)].fill(b);
            px.extend(row);
            rows += 1;
        }
    }
    let page = bilevel(width, rows, px, 196.0);
    for (name, compression) in ccitt_variants() {
        let tiff = write_tiff(&[(&page).into()], compression);
        assert_same(name, &decode_all(name, tiff), std::slice::from_ref(&page));
    }
}

fn simulated_fax_pages(profile: Profile, seed: u64) -> Vec<PageImage> {
    let (survey, layout) = dental();
    let answers = random_answers(&survey, seed);
    simulate_reply(&layout, &survey, code, &answers, profile, seed)
        .into_iter()
        .map(|(img, _)| img)
        .collect()
}

#[test]
fn real_pages_round_trip_through_the_scan_decoder() {
    let mut pages = simulated_fax_pages(Profile::FaxStandard, 11);
    pages.truncate(2);
    pages.extend(
        simulated_fax_pages(Profile::FaxFine, 12)
            .into_iter()
            .take(1),
    );
    let pictures: Vec<Picture> = pages.iter().map(Picture::from).collect();
    for (name, compression) in ccitt_variants().into_iter().chain([
        ("none", TiffCompression::None),
        ("lzw", TiffCompression::Lzw),
    ]) {
        let tiff = write_tiff(&pictures, compression);
        assert_same(name, &decode_all(name, tiff), &pages);
    }
}

#[test]
fn libtiff_decodes_the_same_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let mut pages: Vec<PageImage> = simulated_fax_pages(Profile::FaxStandard, 21)
        .into_iter()
        .take(2)
        .collect();
    // Not the page of alternating pixels: a 1728-pixel line of them that starts black has
    // 1729 runs, one more than libtiff 4.5 reserves for one-dimensional lines ("Buffer
    // overflow"). No scanner makes such a line; the scan decoder test above covers it.
    pages.extend(random_pages().into_iter().filter(|p| {
        p.width >= 8
            && !p
                .pixels
                .chunks_exact(p.width as usize)
                .any(|row| row.windows(2).all(|w| w[0] != w[1]))
    }));
    let pictures: Vec<Picture> = pages.iter().map(Picture::from).collect();
    for (name, compression) in ccitt_variants() {
        let input = dir.path().join(format!("{name}.tif"));
        std::fs::write(&input, write_tiff(&pictures, compression)).unwrap();
        // tiffinfo -D reads every strip; libtiff reports bad codes as errors or warnings.
        let info = run(
            "tiffinfo",
            "libtiff-tools",
            &["-D", input.to_str().unwrap()],
        );
        let stderr = String::from_utf8_lossy(&info.stderr);
        if !info.status.success() || !stderr.trim().is_empty() {
            // Name the pages libtiff refuses.
            let mut bad = Vec::new();
            for (i, p) in pictures.iter().enumerate() {
                let one = dir.path().join("one.tif");
                std::fs::write(&one, write_tiff(std::slice::from_ref(p), compression)).unwrap();
                let r = run("tiffinfo", "libtiff-tools", &["-D", one.to_str().unwrap()]);
                if !r.stderr.is_empty() {
                    bad.push(format!("page {i} ({}×{})", p.width(), p.height()));
                }
            }
            panic!("{name}: tiffinfo complains about {bad:?}: {stderr}");
        }
        assert!(
            stderr.trim().is_empty(),
            "{name}: tiffinfo complains: {stderr}"
        );
        let info_text = String::from_utf8_lossy(&info.stdout);
        let expect = match compression {
            TiffCompression::G4 => "CCITT Group 4",
            TiffCompression::Rle => "CCITT RLE",
            _ => "CCITT Group 3",
        };
        assert!(info_text.contains(expect), "{name}: {info_text}");
        // libtiff's decoding, written uncompressed, read back.
        let output = dir.path().join(format!("{name}-none.tif"));
        let cp = run(
            "tiffcp",
            "libtiff-tools",
            &[
                "-c",
                "none",
                input.to_str().unwrap(),
                output.to_str().unwrap(),
            ],
        );
        let stderr = String::from_utf8_lossy(&cp.stderr);
        assert!(
            cp.status.success() && stderr.trim().is_empty(),
            "{name}: tiffcp: {stderr}"
        );
        assert_same(
            &format!("{name} via libtiff"),
            &decode_path(&output),
            &pages,
        );
    }
}

#[test]
fn libtiff_agrees_on_the_t4_options() {
    let dir = tempfile::tempdir().unwrap();
    let page = &simulated_fax_pages(Profile::FaxFine, 5)[0];
    for (options, want) in [
        (G3Options::ONE_D, "Group 3 Options: EOL padding (4 = 0x4)"),
        (
            G3Options::two_d(4),
            "Group 3 Options: 2-d encoding+EOL padding (5 = 0x5)",
        ),
    ] {
        let path = dir.path().join("g3.tif");
        std::fs::write(
            &path,
            write_tiff(&[page.into()], TiffCompression::G3(options)),
        )
        .unwrap();
        let info = run("tiffinfo", "libtiff-tools", &[path.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&info.stdout);
        assert!(text.contains(want), "{text}");
        assert!(text.contains("Resolution: 204, 196 pixels/inch"), "{text}");
        assert!(
            text.contains("Image Width: 1728 Image Length: 2292"),
            "{text}"
        );
    }
}

#[test]
fn pdf_with_g4_pages_passes_qpdf_and_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let pages: Vec<PageImage> = simulated_fax_pages(Profile::FaxStandard, 31)
        .into_iter()
        .take(3)
        .collect();
    let pictures: Vec<Picture> = pages.iter().map(Picture::from).collect();
    let pdf = write_pdf(&pictures);
    let path = dir.path().join("reply.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let check = run("qpdf", "qpdf", &["--check", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "qpdf --check: {text}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        text.contains("No syntax or stream encoding errors"),
        "{text}"
    );
    let got = decode_all("reply.pdf", pdf);
    assert_eq!(got.len(), 3);
    for (g, w) in got.iter().zip(&pages) {
        assert_eq!(g.pixels, w.pixels);
        // The resolution comes back from the MediaBox.
        assert!(
            (g.dpi_x - 204.0).abs() < 0.05 && (g.dpi_y - 98.0).abs() < 0.05,
            "{g:?}"
        );
    }
}

#[test]
fn grey_and_colour_pages_in_pdf_tiff_png_and_jpeg() {
    // A grey gradient with structure, and a colour version.
    let (w, h) = (300u32, 200u32);
    let grey: Vec<u8> = (0..w * h)
        .map(|i| ((i % w) * 255 / w) as u8 ^ ((i / w % 16) as u8 * 8))
        .collect();
    let page = PageImage::new(w, h, 300.0, 300.0, grey.clone());
    let rgb = RgbImage {
        width: w,
        height: h,
        dpi_x: 200.0,
        dpi_y: 200.0,
        pixels: grey.iter().flat_map(|&g| [g, g / 2, 255 - g]).collect(),
    };
    let luma: Vec<u8> = rgb
        .pixels
        .chunks_exact(3)
        .map(|p| {
            ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29 + 128) >> 8) as u8
        })
        .collect();
    // Lossless: PNG, TIFF none and LZW.
    for (name, bytes) in [
        ("grey.png", write_png((&page).into())),
        (
            "grey-lzw.tif",
            write_tiff(&[(&page).into()], TiffCompression::Lzw),
        ),
        (
            "grey-none.tif",
            write_tiff(&[(&page).into()], TiffCompression::None),
        ),
    ] {
        let got = decode_all(name, bytes);
        assert_eq!(got[0].pixels, grey, "{name}");
        assert!(
            (got[0].dpi_x - 300.0).abs() < 0.01 && (got[0].dpi_y - 300.0).abs() < 0.01,
            "{name}"
        );
    }
    for (name, bytes) in [
        ("rgb.png", write_png((&rgb).into())),
        (
            "rgb-lzw.tif",
            write_tiff(&[(&rgb).into()], TiffCompression::Lzw),
        ),
    ] {
        let got = decode_all(name, bytes);
        let diff = got[0]
            .pixels
            .iter()
            .zip(&luma)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(diff <= 1, "{name}: {diff}");
        assert!(
            (got[0].dpi_x - 200.0).abs() < 0.01 && (got[0].dpi_y - 200.0).abs() < 0.01,
            "{name}"
        );
    }
    // Lossy: JPEG, and PDF with DCT pages.
    let mean_diff = |a: &[u8], b: &[u8]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / a.len() as f64
    };
    // A 300-dpi JPEG comes out at 150 dpi, decoded at half scale (the resolution recognition
    // reads at): compare with the page averaged 2 × 2.
    let half = page.clone().reduced_for_recognition();
    let got = decode_all("grey.jpg", write_jpeg((&page).into(), 90));
    assert_eq!(
        (got[0].width, got[0].height, got[0].dpi_x, got[0].dpi_y),
        (half.width, half.height, 150.0, 150.0)
    );
    assert!(mean_diff(&got[0].pixels, &half.pixels) < 4.0);
    let got = decode_all("mixed.pdf", write_pdf(&[(&page).into(), (&rgb).into()]));
    assert_eq!(got[0].width, half.width);
    assert!(mean_diff(&got[0].pixels, &half.pixels) < 4.0);
    assert!(mean_diff(&got[1].pixels, &luma) < 4.0);
    assert!((got[1].dpi_x - 200.0).abs() < 0.05);
}

#[test]
fn bilevel_png_keeps_the_fax_resolution() {
    let page = &simulated_fax_pages(Profile::FaxStandard, 41)[0];
    let png = write_png(page.into());
    let got = decode_all("fax.png", png.clone());
    assert_eq!(got[0].pixels, page.pixels);
    assert!(got[0].bilevel);
    // pHYs is stored in pixels per metre: 204 and 98 dpi come back within rounding.
    assert!((got[0].dpi_x - 204.0).abs() < 0.05 && (got[0].dpi_y - 98.0).abs() < 0.05);
    // A 1-bit PNG of a fax page is small.
    assert!(png.len() < 200_000, "{}", png.len());
}
