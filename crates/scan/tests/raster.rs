//! PNG and JPEG input: pixels, resolution from pHYs/JFIF or the 200 dpi default, transparency.

mod common;

use common::*;

#[test]
fn png_grey_exact_and_default_dpi() {
    let dir = tempdir();
    let grey = synthetic_grey(500, 300);
    let png = dir.path().join("grey.png");
    image::save_buffer(&png, &grey, 500, 300, image::ExtendedColorType::L8).unwrap();
    let mut source = open(&png);
    assert_eq!(source.format(), capsurvey_scan::Format::Png);
    assert_eq!(source.page_count(), Some(1));
    let got = source.next().unwrap().unwrap();
    assert_same_pixels(&got, &grey, 500, 300, "png");
    assert!(got.dpi_assumed);
    assert_eq!(
        (got.dpi_x, got.dpi_y),
        (capsurvey_scan::DEFAULT_DPI, capsurvey_scan::DEFAULT_DPI)
    );
    assert!(source.next().is_none());
}

#[test]
fn png_colour_and_transparency_over_white() {
    let dir = tempdir();
    // Red opaque, fully transparent black, half-transparent black.
    let rgba = [255u8, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128];
    let png = dir.path().join("rgba.png");
    image::save_buffer(&png, &rgba, 3, 1, image::ExtendedColorType::Rgba8).unwrap();
    let got = single_page(&png);
    assert_eq!(got.pixels, [77, 255, 127]);
}

#[test]
fn png_dpi_and_bilevel_from_ghostscript() {
    let dir = tempdir();
    let ps = dir.path().join("p.ps");
    std::fs::write(
        &ps,
        "%!PS\n<< /PageSize [200 100] >> setpagedevice 10 10 50 50 rectfill showpage\n",
    )
    .unwrap();
    let png = dir.path().join("mono.png");
    run(
        "gs",
        &[
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-dSAFER",
            "-sDEVICE=pngmono",
            "-r300x150",
            &format!("-sOutputFile={}", s(&png)),
            s(&ps),
        ],
    );
    let got = single_page(&png);
    assert!(
        (got.dpi_x - 300.0).abs() < 0.5 && (got.dpi_y - 150.0).abs() < 0.5,
        "{got:?}"
    );
    assert!(!got.dpi_assumed && got.bilevel);
    assert_eq!((got.width, got.height), (833, 208));
    // The filled square: 50 pt = 208 px wide at 300 dpi, starting 10 pt from the bottom-left.
    assert_eq!(got.get(100, got.height - 30), Some(0));
    assert_eq!(got.get(400, 10), Some(255));
}

#[test]
fn jpeg_with_and_without_density() {
    let dir = tempdir();
    let grey = synthetic_grey(400, 300);
    let jpg = dir.path().join("a.jpg");
    {
        let mut out = std::fs::File::create(&jpg).unwrap();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95);
        enc.set_pixel_density(image::codecs::jpeg::PixelDensity {
            density: (118, 118),
            unit: image::codecs::jpeg::PixelDensityUnit::Centimeters,
        });
        enc.encode(&grey, 400, 300, image::ExtendedColorType::L8)
            .unwrap();
    }
    // 118 per cm is 300 dpi: decoded at half scale, as recognition reads it.
    let got = single_page(&jpg);
    assert!((got.dpi_x - 149.86).abs() < 0.1, "{got:?}");
    assert_eq!((got.width, got.height), (200, 150));
    let half = capsurvey_scan::PageImage::new(400, 300, 299.72, 299.72, grey.clone())
        .reduced_for_recognition();
    assert_eq!((half.width, half.height), (200, 150));
    let mean = got
        .pixels
        .iter()
        .zip(&half.pixels)
        .map(|(a, b)| a.abs_diff(*b) as u64)
        .sum::<u64>()
        / half.pixels.len() as u64;
    assert!(mean <= 6, "mean difference {mean}");
    assert!(!got.bilevel);

    let plain = dir.path().join("b.jpeg");
    image::save_buffer(&plain, &grey, 400, 300, image::ExtendedColorType::L8).unwrap();
    let got = single_page(&plain);
    assert!(
        got.dpi_assumed,
        "image's default JFIF header has an aspect ratio only: {got:?}"
    );
}

#[test]
fn truncated_png_and_jpeg_are_page_errors() {
    let dir = tempdir();
    let grey = synthetic_grey(400, 300);
    for name in ["t.png", "t.jpg"] {
        let path = dir.path().join(name);
        image::save_buffer(&path, &grey, 400, 300, image::ExtendedColorType::L8).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let cut = &bytes[..bytes.len() / 2];
        let result = capsurvey_scan::open_bytes(name, cut.to_vec())
            .unwrap()
            .next()
            .unwrap();
        let err = result.expect_err(name);
        assert_eq!(err.page, 1);
        assert!(
            err.to_string().starts_with(&format!("{name}, page 1: ")),
            "{err}"
        );
    }
}

#[test]
fn jpeg_scans_at_300_dpi_and_finer_come_out_at_the_recognition_resolution() {
    let dir = tempdir();
    let (w, h) = (400u16, 300u16);
    let grey = synthetic_grey(w.into(), h.into());
    let write = |name: &str, dpi: u16, progressive: bool| {
        let path = dir.path().join(name);
        let mut enc = jpeg_encoder::Encoder::new_file(&path, 90).unwrap();
        enc.set_density(jpeg_encoder::PixelDensity {
            density: (dpi, dpi),
            unit: jpeg_encoder::PixelDensityUnit::Inches,
        });
        enc.set_progressive(progressive);
        enc.encode(&grey, w, h, jpeg_encoder::ColorType::Luma)
            .unwrap();
        path
    };
    // Baseline: decoded in the DCT domain at 1/2 and 1/4.
    for (dpi, scale) in [(300, 2u32), (600, 4)] {
        let got = single_page(&write(&format!("{dpi}.jpg"), dpi, false));
        assert_eq!(
            (got.width, got.height, got.dpi_x, got.dpi_y),
            (400 / scale, 300 / scale, 150.0, 150.0),
            "{dpi} dpi"
        );
        // Each pixel stands for the scale × scale cell of the original.
        let cell_mean = |x: u32, y: u32| {
            let mut sum = 0u32;
            for yy in y * scale..(y + 1) * scale {
                for xx in x * scale..(x + 1) * scale {
                    sum += u32::from(grey[(yy * 400 + xx) as usize]);
                }
            }
            sum / (scale * scale)
        };
        let mean_diff = (0..got.height)
            .flat_map(|y| (0..got.width).map(move |x| (x, y)))
            .map(|(x, y)| cell_mean(x, y).abs_diff(got.get(x, y).unwrap().into()))
            .sum::<u32>() as f64
            / (got.width * got.height) as f64;
        // JPEG's loss plus the high frequencies the scaled decoding drops (sharp black on
        // white rings a little); a misplaced or mis-decoded block would be off by far more.
        assert!(mean_diff < 8.0, "{dpi} dpi: mean difference {mean_diff:.2}");
    }
    // Below 300 dpi, or progressive (left to the full decoder): as stored.
    let got = single_page(&write("200.jpg", 200, false));
    assert_eq!((got.width, got.dpi_x), (400, 200.0));
    let got = single_page(&write("progressive.jpg", 300, true));
    assert_eq!((got.width, got.height, got.dpi_x), (400, 300, 300.0));
    let reduced = got.reduced_for_recognition();
    assert_eq!((reduced.width, reduced.dpi_x), (200, 150.0));
}
