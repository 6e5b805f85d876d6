//! Writes simulated pages of the dental survey as PNG (and the truth as JSON) to look at.
//!
//! `cargo run -p capsurvey-faxsim --example preview [OUT_DIR] [SEED]` (default
//! `target/faxsim-preview`, seed 1).

use std::path::PathBuf;

use capsurvey_scan::PageImage;

use capsurvey_faxsim::{
    PageCode, Profile, Unidentifiable, random_answers, render_form_page, simulate_reply_pages,
    simulate_unidentifiable, write_png,
};

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/faxsim-preview".into()),
    );
    let seed: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    std::fs::create_dir_all(&out).expect("create output folder");
    let parsed =
        capsurvey_survey::parse_survey("dental.toml", include_str!("../../../surveys/dental.toml"))
            .expect("survey");
    let layout = capsurvey_forms::form::layout(&parsed.survey, &parsed.content_hash);
    let answers = random_answers(&parsed.survey, seed);
    let code = |page| PageCode {
        survey_version_id: 1,
        mailing_id: 123,
        page,
    };
    let clean = render_form_page(
        &layout,
        2,
        Some(code(2)),
        Some(&parsed.survey),
        150.0,
        150.0,
        seed,
    )
    .expect("render");
    std::fs::write(out.join("clean-p2.png"), write_png((&clean).into())).expect("write");
    for profile in [
        Profile::FaxStandard,
        Profile::FaxFine,
        Profile::Scan300Grey,
        Profile::Scan200Color,
    ] {
        let t = std::time::Instant::now();
        let pages = simulate_reply_pages(&layout, &parsed.survey, code, &answers, profile, seed);
        let per_page = t.elapsed() / pages.len().max(1) as u32;
        for p in &pages {
            let name = format!("{profile:?}-p{}.png", p.truth.layout_page.unwrap_or(0));
            std::fs::write(out.join(&name), write_png(p.picture())).expect("write");
            std::fs::write(out.join(format!("{name}.json")), p.truth.to_json()).expect("write");
            // The middle of the page at square pixels, enlarged, to see marks and text.
            let img = &p.image;
            let k = (img.dpi_x / img.dpi_y).round().max(1.0) as u32;
            let (cw, ch) = (img.width / 2, img.height / 3);
            let crop = scaled_crop(img, img.width / 8, img.height / 4, cw, ch, 1, k);
            std::fs::write(out.join(format!("crop-{name}")), write_png((&crop).into()))
                .expect("write");
        }
        println!("{profile:?}: {} pages, {per_page:?} per page", pages.len());
    }
    for (kind, name) in [
        (Unidentifiable::Blank, "blank"),
        (Unidentifiable::Foreign, "foreign"),
    ] {
        let p = simulate_unidentifiable(kind, Profile::FaxStandard, seed);
        std::fs::write(out.join(format!("{name}.png")), write_png(p.picture())).expect("write");
    }
    println!("{}", out.display());
}

/// A part of the page with each pixel repeated `sx` × `sy` times (fax standard pixels are twice
/// as tall as wide: repeat rows twice to see the page in its true proportions).
fn scaled_crop(img: &PageImage, x0: u32, y0: u32, w: u32, h: u32, sx: u32, sy: u32) -> PageImage {
    let mut px = Vec::with_capacity((w * sx * h * sy) as usize);
    for y in 0..h * sy {
        for x in 0..w * sx {
            px.push(img.get(x0 + x / sx, y0 + y / sy).unwrap_or(255));
        }
    }
    PageImage::new(w * sx, h * sy, img.dpi_x, img.dpi_y * sy as f32, px)
}
