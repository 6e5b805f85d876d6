//! Decoding speed per fax page and per 300-dpi grey JPEG scan. Ignored by default; run in
//! release: `cargo test -p capsurvey-scan --release --test bench -- --ignored --nocapture`

mod common;

use std::time::Instant;

use common::*;

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn fax_page_decode_time() {
    let dir = tempdir();
    let ps = dir.path().join("page.ps");
    std::fs::write(&ps, PAGE).unwrap();
    let synthetic = synthetic_page(1728, 2292, 5);
    let orig = dir.path().join("synthetic.tif");
    write_bilevel(&orig, &synthetic, false, (204, 196));
    let mut cases = Vec::new();
    for device in ["tiffg4", "tiffg32d", "tiffg3"] {
        let out = dir.path().join(format!("{device}.tif"));
        run(
            "gs",
            &[
                "-q",
                "-dNOPAUSE",
                "-dBATCH",
                "-dSAFER",
                &format!("-sDEVICE={device}"),
                "-r204x196",
                &format!("-sOutputFile={}", s(&out)),
                s(&ps),
            ],
        );
        cases.push((format!("gs {device} text page"), out));
    }
    for codec in ["g4", "g3:2d"] {
        let out = dir
            .path()
            .join(format!("syn-{}.tif", codec.replace(':', "-")));
        run("tiffcp", &["-c", codec, s(&orig), s(&out)]);
        cases.push((format!("synthetic dense page {codec}"), out));
    }
    let pdf = dir.path().join("g4.pdf");
    run("img2pdf", &["-o", s(&pdf), s(&cases[0].1)]);
    cases.push(("img2pdf G4 text page".into(), pdf));
    for (name, path) in cases {
        let bytes = std::fs::read(&path).unwrap();
        let rounds = 200;
        let start = Instant::now();
        let cpu_start = cpu_ns();
        let mut ink = 0usize;
        for _ in 0..rounds {
            for page in capsurvey_scan::open_bytes("bench", bytes.clone()).unwrap() {
                let page = page.unwrap();
                assert_eq!((page.width, page.height), (1728, 2292));
                ink += page.pixels[page.pixels.len() / 2] as usize;
            }
        }
        let per_page = start.elapsed().as_secs_f64() * 1000.0 / rounds as f64;
        let cpu_per_page = (cpu_ns() - cpu_start) as f64 / 1e6 / rounds as f64;
        println!(
            "{name:30} {:>7} bytes  {per_page:6.2} ms/page wall, {cpu_per_page:6.2} ms/page on CPU (open + decode + allocate) {ink}",
            bytes.len()
        );
    }
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn grey_scan_jpeg_decode_time() {
    use capsurvey_faxsim::{PageCode, Profile, random_answers, simulate_reply, write_jpeg};
    let parsed =
        capsurvey_survey::parse_survey("dental.toml", include_str!("../../../surveys/dental.toml"))
            .unwrap();
    let layout = capsurvey_forms::form::layout(&parsed.survey, &parsed.content_hash);
    let code = |page| PageCode {
        survey_version_id: 1,
        mailing_id: 1,
        page,
    };
    let answers = random_answers(&parsed.survey, 1);
    let pages: Vec<Vec<u8>> = simulate_reply(
        &layout,
        &parsed.survey,
        code,
        &answers,
        Profile::Scan300Grey,
        1,
    )
    .iter()
    .map(|(img, _)| write_jpeg(img.into(), 85))
    .collect();
    let bytes: usize = pages.iter().map(Vec::len).sum();
    let rounds = 10;
    let time = |decode: &dyn Fn(&[u8]) -> usize| {
        let cpu_start = cpu_ns();
        let mut check = 0;
        for _ in 0..rounds {
            for page in &pages {
                check += decode(page);
            }
        }
        (
            (cpu_ns() - cpu_start) as f64 / 1e6 / (rounds * pages.len()) as f64,
            check,
        )
    };
    let (scaled, _) = time(&|b| {
        let page = capsurvey_scan::open_bytes("scan.jpg", b.to_vec())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!((page.width, page.dpi_x), (1240, 150.0));
        page.pixels.len()
    });
    let (whole, _) = time(&|b| {
        let grey = image::load_from_memory(b).unwrap().into_luma8();
        let page = capsurvey_scan::PageImage::new(2480, 3508, 300.0, 300.0, grey.into_raw());
        page.reduced_for_recognition().pixels.len()
    });
    println!(
        "300-dpi grey A4 JPEG, quality 85, {:.0} KB a page: at half scale in the DCT domain \
         {scaled:.1} ms/page on CPU; whole by zune-jpeg and averaged 2 × 2 {whole:.1} ms/page",
        bytes as f64 / pages.len() as f64 / 1e3
    );
}

/// Time this thread has spent on a CPU (Linux), so other load on the machine does not count.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

const PAGE: &str = r#"%!PS
/Helvetica findfont 11 scalefont setfont
0 1 60 { /i exch def 40 800 i 12.5 mul sub moveto
  (Q) show i 3 string cvs show (. How many staff hold the certificate? Mark one box per line: ) show
  1 setlinewidth 0 1 4 { /j exch def 420 j 30 mul add 797 i 12.5 mul sub 9 9 rectstroke } for
  i 4 mod 0 eq { 450 798 i 12.5 mul sub 7 7 rectfill } if
} for
20 20 15 15 rectfill 560 20 15 15 rectfill 20 805 15 15 rectfill 560 805 15 15 rectfill
showpage
"#;
