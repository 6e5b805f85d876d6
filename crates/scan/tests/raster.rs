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
    let got = single_page(&jpg);
    assert!((got.dpi_x - 299.72).abs() < 0.1, "{got:?}");
    let mean = got
        .pixels
        .iter()
        .zip(&grey)
        .map(|(a, b)| a.abs_diff(*b) as u64)
        .sum::<u64>()
        / grey.len() as u64;
    assert!(mean <= 3, "mean difference {mean}");
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
