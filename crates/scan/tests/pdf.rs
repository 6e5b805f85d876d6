//! PDF input: img2pdf (G4, JPEG, Flate with PNG predictors), hand-built CCITT G3 1-D/2-D PDFs
//! cross-checked against poppler's `pdfimages`, /Rotate via qpdf, encrypted and image-less PDFs.

mod common;

use std::path::{Path, PathBuf};

use capsurvey_scan::{PageErrorKind, ScanError};
use common::*;
use lopdf::{Dictionary, Document, Object, Stream, dictionary};

const FAX_DPI: (u32, u32) = (204, 98);

fn g4_tiff(dir: &Path, page: &Bilevel, min_is_black: bool) -> PathBuf {
    let orig = dir.join("orig.tif");
    write_bilevel(&orig, page, min_is_black, FAX_DPI);
    let g4 = dir.join(if min_is_black { "g4-mib.tif" } else { "g4.tif" });
    run("tiffcp", &["-c", "g4", s(&orig), s(&g4)]);
    g4
}

/// The raw data of a single-strip TIFF (via the tiff crate's tag access).
fn strip_data(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let mut dec = tiff::decoder::Decoder::new(std::io::Cursor::new(&bytes)).unwrap();
    let offsets = dec.get_tag_u64_vec(tiff::tags::Tag::StripOffsets).unwrap();
    let counts = dec
        .get_tag_u64_vec(tiff::tags::Tag::StripByteCounts)
        .unwrap();
    assert_eq!(offsets.len(), 1, "expected one strip");
    bytes[offsets[0] as usize..(offsets[0] + counts[0]) as usize].to_vec()
}

/// A one-page PDF showing `image` over the whole page, sized for `dpi`.
fn image_pdf(path: &Path, image: Stream, dpi: (f64, f64)) {
    let width = image.dict.get(b"Width").unwrap().as_i64().unwrap() as f64;
    let height = image.dict.get(b"Height").unwrap().as_i64().unwrap() as f64;
    let (w_pt, h_pt) = (width * 72.0 / dpi.0, height * 72.0 / dpi.1);
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let image_id = doc.add_object(image);
    let content = format!("q {w_pt} 0 0 {h_pt} 0 0 cm /Im0 Do Q");
    let content_id = doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(w_pt as f32), Object::Real(h_pt as f32)],
        "Contents" => content_id,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 },
        ),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.save(path).unwrap();
}

/// Poppler's decoding of the page's image, via `pdfimages -png`.
fn poppler_image(pdf: &Path, dir: &Path) -> capsurvey_scan::PageImage {
    let prefix = dir.join("poppler");
    run("pdfimages", &["-png", s(pdf), s(&prefix)]);
    let png = dir.join("poppler-000.png");
    let page = single_page(&png);
    std::fs::remove_file(&png).unwrap();
    page
}

#[test]
fn img2pdf_g4_equals_original() {
    let dir = tempdir();
    let page = synthetic_page(1728, 1146, 21);
    for min_is_black in [false, true] {
        let g4 = g4_tiff(dir.path(), &page, min_is_black);
        let pdf = dir.path().join("g4.pdf");
        run("img2pdf", &["-o", s(&pdf), s(&g4)]);
        let mut source = open(&pdf);
        assert_eq!(source.format(), capsurvey_scan::Format::Pdf);
        assert_eq!(source.page_count(), Some(1));
        let got = source.next().unwrap().unwrap();
        assert_same_pixels(
            &got,
            &page.grey(),
            1728,
            1146,
            &format!("img2pdf G4 min_is_black={min_is_black}"),
        );
        assert!(
            (got.dpi_x - 204.0).abs() < 0.5 && (got.dpi_y - 98.0).abs() < 0.5,
            "{got:?}"
        );
        assert!(got.bilevel && !got.dpi_assumed);
        assert!(source.next().is_none());
    }
}

/// img2pdf re-encodes G3 as G4 with BlackIs1 true: ignoring that flag would invert the page.
#[test]
fn img2pdf_g3_black_is_1() {
    let dir = tempdir();
    let page = synthetic_page(1728, 1146, 22);
    let orig = dir.path().join("orig.tif");
    write_bilevel(&orig, &page, false, FAX_DPI);
    let g3 = dir.path().join("g3.tif");
    run("tiffcp", &["-c", "g3:2d", s(&orig), s(&g3)]);
    let pdf = dir.path().join("g3.pdf");
    run("img2pdf", &["-o", s(&pdf), s(&g3)]);
    let raw = String::from_utf8_lossy(
        &run("qpdf", &["--qdf", "--object-streams=disable", s(&pdf), "-"]).into_bytes(),
    )
    .into_owned();
    assert!(
        raw.contains("/BlackIs1 true"),
        "img2pdf should write BlackIs1 true here"
    );
    assert_same_pixels(
        &single_page(&pdf),
        &page.grey(),
        1728,
        1146,
        "img2pdf from G3",
    );
}

/// G3 1-D and 2-D data (from libtiff, with EOLs, with and without fill bits), and CCITT RLE
/// (byte-aligned, no EOLs) in hand-built PDFs; also parameters given by reference, in arrays,
/// and BlackIs1 combined with an inverting /Decode. Poppler must decode the same pixels.
#[test]
fn ccitt_g3_in_pdf_matches_original_and_poppler() {
    let dir = tempdir();
    let page = synthetic_page(1728, 1146, 23);
    let orig = dir.path().join("orig.tif");
    write_bilevel(&orig, &page, false, FAX_DPI);
    let want = page.grey();
    let cases: [(&str, i64, bool, bool); 5] = [
        // (tiffcp codec, K, EncodedByteAlign, EndOfLine)
        ("g3:1d", 0, false, true),
        ("g3:2d", 4, false, true),
        ("g3:1d:fill", 0, true, true),
        ("g3:2d:fill", 2, true, true),
        ("g4", -1, false, false),
    ];
    for (codec, k, byte_align, eol) in cases {
        let enc = dir.path().join("enc.tif");
        run("tiffcp", &["-c", codec, "-r", "100000", s(&orig), s(&enc)]);
        let data = strip_data(&enc);
        for variant in 0..3 {
            let parms = dictionary! {
                "K" => k,
                "Columns" => 1728,
                "Rows" => 1146,
                "EncodedByteAlign" => byte_align,
                "EndOfLine" => eol,
                "BlackIs1" => variant == 2,
            };
            let mut doc_parms: Object = Object::Dictionary(parms.clone());
            let mut image_dict = dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => 1728,
                "Height" => 1146,
                "BitsPerComponent" => 1,
                "ColorSpace" => "DeviceGray",
            };
            match variant {
                0 => image_dict.set("Filter", "CCITTFaxDecode"),
                1 => {
                    // Filter and parameters as one-element arrays.
                    image_dict.set("Filter", vec![Object::Name(b"CCITTFaxDecode".to_vec())]);
                    doc_parms = Object::Array(vec![doc_parms]);
                }
                _ => {
                    // BlackIs1 true inverts; Decode [1 0] inverts back.
                    image_dict.set("Filter", "CCITTFaxDecode");
                    image_dict.set("Decode", vec![1.into(), 0.into()]);
                }
            }
            image_dict.set("DecodeParms", doc_parms);
            let pdf = dir
                .path()
                .join(format!("{}-{variant}.pdf", codec.replace(':', "-")));
            image_pdf(&pdf, Stream::new(image_dict, data.clone()), (204.0, 98.0));
            let what = format!("{codec} K={k} variant {variant}");
            let got = single_page(&pdf);
            assert_same_pixels(&got, &want, 1728, 1146, &what);
            if variant != 2 {
                let poppler = poppler_image(&pdf, dir.path());
                assert_same_pixels(&poppler, &want, 1728, 1146, &format!("poppler {what}"));
            }
        }
    }

    // DecodeParms as an indirect object.
    let enc = dir.path().join("enc.tif");
    run(
        "tiffcp",
        &["-c", "g3:2d", "-r", "100000", s(&orig), s(&enc)],
    );
    let data = strip_data(&enc);
    let pdf = dir.path().join("indirect.pdf");
    {
        let mut doc = Document::with_version("1.5");
        let parms_id = doc.add_object(dictionary! { "K" => 1, "Columns" => 1728 });
        let image = Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => 1728, "Height" => 1146,
                "BitsPerComponent" => 1, "ColorSpace" => "DeviceGray",
                "Filter" => "CCITTFaxDecode", "DecodeParms" => parms_id,
            },
            data.clone(),
        );
        let image_id = doc.add_object(image);
        let pages_id = doc.new_object_id();
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id,
            "Resources" => dictionary! { "XObject" => dictionary! { "Im7" => image_id } },
        });
        // MediaBox inherited from the page tree node.
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
                "MediaBox" => vec![0.into(), 0.into(), 609.88.into(), 841.96.into()],
            }),
        );
        let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog_id);
        doc.save(&pdf).unwrap();
    }
    let got = single_page(&pdf);
    assert_same_pixels(&got, &want, 1728, 1146, "indirect DecodeParms");
    assert!(
        (got.dpi_x - 204.0).abs() < 0.1 && (got.dpi_y - 98.0).abs() < 0.1,
        "{got:?}"
    );
}

/// Ghostscript's CCITT RLE (TIFF compression 2) is byte-aligned MH without EOLs: in a PDF that
/// is K=0 with EncodedByteAlign.
#[test]
fn byte_aligned_mh_in_pdf() {
    let dir = tempdir();
    let ps = dir.path().join("page.ps");
    std::fs::write(&ps, POSTSCRIPT).unwrap();
    let crle = dir.path().join("crle.tif");
    run(
        "gs",
        &[
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-dSAFER",
            "-sDEVICE=tiffcrle",
            "-r204x98",
            "-dMaxStripSize=0",
            &format!("-sOutputFile={}", s(&crle)),
            s(&ps),
        ],
    );
    let plain = dir.path().join("plain.tif");
    run("tiffcp", &["-c", "none", s(&crle), s(&plain)]);
    let want = single_page(&plain);
    let one_strip = dir.path().join("crle1.tif");
    // tiffcp cannot write compression 2, so keep gs's file if it has one strip.
    std::fs::copy(&crle, &one_strip).unwrap();
    let data = strip_data(&one_strip);
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 1728, "Height" => 1146,
            "BitsPerComponent" => 1, "ColorSpace" => "DeviceGray", "Filter" => "CCITTFaxDecode",
            "DecodeParms" => dictionary! { "K" => 0, "Columns" => 1728, "Rows" => 1146, "EncodedByteAlign" => true },
        },
        data,
    );
    let pdf = dir.path().join("mh.pdf");
    image_pdf(&pdf, image, (204.0, 98.0));
    assert_same_pixels(
        &single_page(&pdf),
        &want.pixels,
        1728,
        1146,
        "byte-aligned MH",
    );
    assert_same_pixels(
        &poppler_image(&pdf, dir.path()),
        &want.pixels,
        1728,
        1146,
        "poppler byte-aligned MH",
    );
}

#[test]
fn jpeg_pdf() {
    let dir = tempdir();
    let grey = synthetic_grey(800, 600);
    let grey_jpeg = |name: &str, dpi: u16| {
        let jpg = dir.path().join(name);
        let mut out = std::fs::File::create(&jpg).unwrap();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(dpi));
        enc.encode(&grey, 800, 600, image::ExtendedColorType::L8)
            .unwrap();
        jpg
    };
    let jpg = grey_jpeg("grey.jpg", 150);
    let direct = single_page(&jpg);
    assert_eq!(
        (direct.dpi_x, direct.dpi_y, direct.dpi_assumed),
        (150.0, 150.0, false)
    );
    let pdf = dir.path().join("jpeg.pdf");
    run("img2pdf", &["-o", s(&pdf), s(&jpg)]);
    let list = run("pdfimages", &["-list", s(&pdf)]);
    assert!(list.contains("jpeg"), "{list}");
    let got = single_page(&pdf);
    assert_same_pixels(&got, &direct.pixels, 800, 600, "JPEG in PDF");
    assert!((got.dpi_x - 150.0).abs() < 0.5, "{got:?}");

    // At 300 dpi the JPEG in the PDF is decoded at half scale, as the file alone is.
    let jpg = grey_jpeg("grey300.jpg", 300);
    let direct = single_page(&jpg);
    assert_eq!((direct.width, direct.dpi_x), (400, 150.0));
    let pdf = dir.path().join("jpeg300.pdf");
    run("img2pdf", &["-o", s(&pdf), s(&jpg)]);
    let got = single_page(&pdf);
    assert_same_pixels(&got, &direct.pixels, 400, 300, "300-dpi JPEG in PDF");
    assert!((got.dpi_x - 150.0).abs() < 0.5, "{got:?}");

    // Colour JPEG.
    let rgb: Vec<u8> = grey.iter().flat_map(|&g| [g, g / 2, 255 - g]).collect();
    let jpg = dir.path().join("rgb.jpg");
    image::save_buffer(&jpg, &rgb, 800, 600, image::ExtendedColorType::Rgb8).unwrap();
    let pdf = dir.path().join("rgb.pdf");
    run("img2pdf", &["-o", s(&pdf), s(&jpg)]);
    assert_same_pixels(
        &single_page(&pdf),
        &single_page(&jpg).pixels,
        800,
        600,
        "colour JPEG in PDF",
    );
}

/// img2pdf stores PNG data as FlateDecode with PNG predictors: 1-bit, grey and RGB.
#[test]
fn flate_pdf_with_predictors() {
    let dir = tempdir();
    let ps = dir.path().join("page.ps");
    std::fs::write(&ps, POSTSCRIPT).unwrap();
    for device in ["pngmono", "pnggray", "png16m"] {
        let png = dir.path().join(format!("{device}.png"));
        run(
            "gs",
            &[
                "-q",
                "-dNOPAUSE",
                "-dBATCH",
                "-dSAFER",
                &format!("-sDEVICE={device}"),
                "-r100",
                &format!("-sOutputFile={}", s(&png)),
                s(&ps),
            ],
        );
        let direct = single_page(&png);
        assert!((direct.dpi_x - 100.0).abs() < 0.5, "pHYs: {direct:?}");
        assert_eq!(direct.bilevel, device == "pngmono");
        let pdf = dir.path().join(format!("{device}.pdf"));
        run("img2pdf", &["-o", s(&pdf), s(&png)]);
        let raw = run(
            "qpdf",
            &[
                "--qdf",
                "--stream-data=preserve",
                "--object-streams=disable",
                s(&pdf),
                "-",
            ],
        );
        assert!(
            raw.contains("/Predictor 15"),
            "{device}: img2pdf should use PNG predictors"
        );
        let got = single_page(&pdf);
        assert_same_pixels(&got, &direct.pixels, direct.width, direct.height, device);
        assert_eq!(got.bilevel, device == "pngmono");
        assert!((got.dpi_x - 100.0).abs() < 0.5);
    }
}

/// Uncompressed samples with an inverting /Decode, an image mask, and an indexed palette.
#[test]
fn decode_arrays_masks_and_palettes() {
    let dir = tempdir();
    let page = synthetic_page(203, 101, 24);
    let want = page.grey();
    let base = || {
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 203, "Height" => 101, "BitsPerComponent" => 1 }
    };
    // 1 = white normally; with Decode [1 0] a 1 is black.
    let mut d = base();
    d.set("ColorSpace", "DeviceGray");
    d.set("Decode", vec![1.into(), 0.into()]);
    let pdf = dir.path().join("decode.pdf");
    image_pdf(&pdf, Stream::new(d, page.packed(true)), (200.0, 200.0));
    assert_same_pixels(&single_page(&pdf), &want, 203, 101, "Decode [1 0]");
    // Image mask: 0 paints black.
    let mut d = base();
    d.set("ImageMask", true);
    let pdf = dir.path().join("mask.pdf");
    image_pdf(&pdf, Stream::new(d, page.packed(false)), (200.0, 200.0));
    assert_same_pixels(&single_page(&pdf), &want, 203, 101, "image mask");
    // Indexed: index 0 = white, 1 = black, Flate-compressed.
    let mut d = base();
    d.set(
        "ColorSpace",
        vec![
            Object::Name(b"Indexed".to_vec()),
            Object::Name(b"DeviceRGB".to_vec()),
            1.into(),
            Object::string_literal(vec![255, 255, 255, 0, 0, 0]),
        ],
    );
    let mut stream = Stream::new(d, page.packed(true));
    stream.compress().unwrap();
    assert!(stream.dict.get(b"Filter").is_ok());
    let pdf = dir.path().join("indexed.pdf");
    image_pdf(&pdf, stream, (200.0, 200.0));
    assert_same_pixels(&single_page(&pdf), &want, 203, 101, "indexed");
}

/// /Rotate turns the pixels (qpdf --rotate).
#[test]
fn rotated_page() {
    let dir = tempdir();
    let page = synthetic_page(1728, 1146, 25);
    let g4 = g4_tiff(dir.path(), &page, false);
    let pdf = dir.path().join("g4.pdf");
    run("img2pdf", &["-o", s(&pdf), s(&g4)]);
    let upright = single_page(&pdf);
    for (turn, quarter_turns) in [("+90", 1), ("180", 2), ("-90", 3)] {
        let rotated = dir.path().join("rot.pdf");
        run(
            "qpdf",
            &[&format!("--rotate={turn}:1"), s(&pdf), s(&rotated)],
        );
        let got = single_page(&rotated);
        assert_eq!(got, upright.rotated(quarter_turns), "rotate {turn}");
    }
    let got = single_page(&dir.path().join("rot.pdf"));
    assert_eq!((got.width, got.height), (1146, 1728));
    assert!((got.dpi_x - 98.0).abs() < 0.5 && (got.dpi_y - 204.0).abs() < 0.5);
}

/// A PDF page without an image gives an error naming the page; the other pages still decode.
#[test]
fn page_without_image() {
    let dir = tempdir();
    let ps = dir.path().join("text.ps");
    std::fs::write(&ps, POSTSCRIPT).unwrap();
    let text = dir.path().join("text.pdf");
    run(
        "gs",
        &[
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-dSAFER",
            "-sDEVICE=pdfwrite",
            &format!("-sOutputFile={}", s(&text)),
            s(&ps),
        ],
    );
    let page = synthetic_page(1728, 1146, 26);
    let g4 = g4_tiff(dir.path(), &page, false);
    let scan = dir.path().join("scan.pdf");
    run("img2pdf", &["-o", s(&scan), s(&g4)]);
    let mixed = dir.path().join("mixed.pdf");
    run(
        "qpdf",
        &[
            "--empty",
            "--pages",
            s(&text),
            s(&scan),
            s(&text),
            "--",
            s(&mixed),
        ],
    );

    let mut source = open(&mixed);
    assert_eq!(source.page_count(), Some(3));
    let first = source.next().unwrap().unwrap_err();
    assert_eq!(first.page, 1);
    assert!(matches!(first.kind, PageErrorKind::NoImage));
    let msg = first.to_string();
    assert!(
        msg.starts_with(&format!("{}, page 1: ", mixed.display())),
        "{msg}"
    );
    assert!(
        msg.contains("no image") && msg.contains("gs -sDEVICE=tiffg4"),
        "{msg}"
    );
    assert_same_pixels(
        &source.next().unwrap().unwrap(),
        &page.grey(),
        1728,
        1146,
        "page 2",
    );
    assert_eq!(source.next().unwrap().unwrap_err().page, 3);
    assert!(source.next().is_none());
}

#[test]
fn encrypted_pdf_is_refused() {
    let dir = tempdir();
    let page = synthetic_page(400, 300, 27);
    let g4 = g4_tiff(dir.path(), &page, false);
    let pdf = dir.path().join("plain.pdf");
    run("img2pdf", &["-o", s(&pdf), s(&g4)]);
    for (user, bits) in [("", "256"), ("secret", "256"), ("", "128")] {
        let enc = dir.path().join("enc.pdf");
        run(
            "qpdf",
            &[
                "--allow-weak-crypto",
                "--encrypt",
                user,
                "owner-pw",
                bits,
                "--",
                s(&pdf),
                s(&enc),
            ],
        );
        let err = capsurvey_scan::open(&enc).unwrap_err();
        assert!(
            matches!(err, ScanError::EncryptedPdf { .. }),
            "user={user:?} bits={bits}: {err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("enc.pdf")
                && msg.contains("encrypted PDF is not supported: save an unencrypted copy"),
            "{msg}"
        );
    }
}

const POSTSCRIPT: &str = r#"%!PS
<< /PageSize [595 842] >> setpagedevice
/Helvetica findfont 24 scalefont setfont
60 760 moveto (Capability survey - reply sheet) show
2 setlinewidth
0 1 7 { /i exch def 60 700 i 50 mul sub 20 20 rectstroke 100 705 i 50 mul sub moveto (Answer) show } for
1 0 0 setrgbcolor 300 300 100 60 rectfill 0 0.5 0 setrgbcolor 420 300 60 60 rectfill
showpage
"#;
