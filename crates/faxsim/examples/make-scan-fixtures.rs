//! Writes the committed scan fixtures: a few simulated replies to the dental survey as fax
//! TIFF (G4, G3 2-D, G3 1-D), fax PDF and a colour JPEG scan, with one truth JSON per page and
//! a README.
//!
//! `cargo run -p capsurvey-faxsim --example make-scan-fixtures [OUT_DIR]` (default
//! `fixtures/scan` at the workspace root). The output is the same on every run.

use std::path::{Path, PathBuf};

use capsurvey_faxsim::ccitt::G3Options;
use capsurvey_faxsim::{
    Base, Degradation, FormPage, Habits, PageCode, Profile, Rng, SimulatedPage, TiffCompression,
    Unidentifiable, random_answers, simulate_form_page_with, simulate_unidentifiable_with,
    write_jpeg, write_pdf, write_tiff,
};

/// The printed codes: survey version 1, mailings 101 and 102.
fn code(mailing_id: u32, page: u32) -> PageCode {
    PageCode {
        survey_version_id: 1,
        mailing_id,
        page,
    }
}

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/scan")
            .display()
            .to_string()
    }));
    std::fs::create_dir_all(&out).expect("create the output folder");
    let parsed =
        capsurvey_survey::parse_survey("dental.toml", include_str!("../../../surveys/dental.toml"))
            .expect("the shipped survey parses");
    let survey = &parsed.survey;
    let layout = capsurvey_forms::form::layout(survey, &parsed.content_hash);

    // One respondent per reply; the page's degradation is drawn from the profile, with the
    // salt-and-pepper noise held at the low end so the committed files stay small.
    let page = |mailing: u32,
                number: u32,
                profile: Profile,
                seed: u64,
                tweak: &dyn Fn(&mut Degradation)| {
        let answers = random_answers(survey, u64::from(mailing));
        let habits = Habits::random(&mut Rng::new(u64::from(mailing)).fork("habits"));
        let mut deg = Degradation::sample(
            profile,
            layout.page_size,
            &mut Rng::new(seed).fork("degrade"),
        );
        deg.noise = deg.noise.min(0.006);
        tweak(&mut deg);
        let form = FormPage {
            layout: &layout,
            page: number,
            code: code(mailing, number),
            base: Base::Render,
            damage_code: false,
        };
        simulate_form_page_with(&form, survey, &answers, &habits, &deg, seed).expect("page")
    };
    let keep = |_: &mut Degradation| {};

    // 1. A fax at standard resolution, G4, three pages (the second one upside down).
    let g4 = vec![
        page(101, 2, Profile::FaxStandard, 1, &keep),
        page(101, 3, Profile::FaxStandard, 2, &|d| d.upside_down = true),
        page(101, 4, Profile::FaxStandard, 3, &keep),
    ];
    // 2. A fax at fine resolution stored as G3 2-D (K = 4), as fax servers do.
    let g3_2d = vec![page(102, 3, Profile::FaxFine, 4, &keep)];
    // 3. Pages that cannot be identified, G3 1-D: blank, a foreign letter, a smudged code.
    let quiet = |seed: u64| {
        let mut d = Degradation::sample(
            Profile::FaxStandard,
            layout.page_size,
            &mut Rng::new(seed).fork("degrade"),
        );
        d.noise = d.noise.min(0.006);
        d
    };
    let damaged_form = FormPage {
        layout: &layout,
        page: 5,
        code: code(101, 5),
        base: Base::Render,
        damage_code: true,
    };
    let damaged = simulate_form_page_with(
        &damaged_form,
        survey,
        &random_answers(survey, 101),
        &Habits::random(&mut Rng::new(101).fork("habits")),
        &quiet(7),
        7,
    )
    .expect("page");
    let unidentifiable = vec![
        simulate_unidentifiable_with(Unidentifiable::Blank, &quiet(5), 5),
        simulate_unidentifiable_with(Unidentifiable::Foreign, &quiet(6), 6),
        damaged,
    ];
    // 4. The same kind of fax as a PDF of G4 images (what many fax-to-mail services send).
    let pdf = vec![
        page(102, 2, Profile::FaxStandard, 8, &keep),
        page(102, 4, Profile::FaxStandard, 9, &keep),
    ];
    // 5. A colour scan as JPEG.
    let jpeg = page(102, 5, Profile::Scan200Color, 10, &keep);

    let mut total = 0;
    let mut save = |name: &str, bytes: Vec<u8>, pages: &mut [SimulatedPage]| {
        total += bytes.len();
        std::fs::write(out.join(name), &bytes).expect("write");
        for (i, p) in pages.iter_mut().enumerate() {
            p.truth.file = Some(name.to_string());
            p.truth.page_index = i as u32;
            let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
            std::fs::write(
                out.join(format!("{stem}.page{}.json", i + 1)),
                p.truth.to_json() + "\n",
            )
            .expect("write");
        }
        println!("{name}: {} pages, {} bytes", pages.len(), bytes.len());
    };

    let mut g4 = g4;
    save(
        "reply-fax-standard-g4.tif",
        write_tiff(&pictures(&g4), TiffCompression::G4),
        &mut g4,
    );
    let mut g3_2d = g3_2d;
    save(
        "reply-fax-fine-g3-2d.tif",
        write_tiff(&pictures(&g3_2d), TiffCompression::G3(G3Options::two_d(4))),
        &mut g3_2d,
    );
    let mut unidentifiable = unidentifiable;
    save(
        "unidentifiable-fax-g3-1d.tif",
        write_tiff(
            &pictures(&unidentifiable),
            TiffCompression::G3(G3Options::ONE_D),
        ),
        &mut unidentifiable,
    );
    let mut pdf = pdf;
    save(
        "reply-fax-standard.pdf",
        write_pdf(&pictures(&pdf)),
        &mut pdf,
    );
    let mut jpeg = vec![jpeg];
    save(
        "reply-scan-color.jpg",
        write_jpeg(jpeg[0].picture(), 45),
        &mut jpeg,
    );
    std::fs::write(out.join("README.md"), README).expect("write");
    println!("{total} bytes in all, written to {}", out.display());
}

const README: &str = r#"# Simulated scan and fax replies

Written by `cargo run -p capsurvey-faxsim --example make-scan-fixtures` (do not edit by hand;
rerun it instead). The generator is deterministic: rerunning gives the same bytes until the
drawing code of `capsurvey-faxsim` or the forms layout changes, and then the fixtures should be
regenerated and looked at.

All pages are replies to `surveys/dental.toml`, drawn from the layout that
`capsurvey_forms::form::layout` computes for it (recompute it the same way to read these
pages). Page codes: survey version id 1, mailing 101 or 102, the page number.

| file | what | pages |
|---|---|---|
| `reply-fax-standard-g4.tif` | fax, 204×98 dpi, 1728×1146, CCITT G4; mailing 101, pages 2–4; the second one fed upside down | 3 |
| `reply-fax-fine-g3-2d.tif` | fax, 204×196 dpi, 1728×2292, CCITT G3 2-D (K = 4, EOLs byte-aligned: T4Options 5); mailing 102, page 3 | 1 |
| `unidentifiable-fax-g3-1d.tif` | fax, standard, CCITT G3 1-D (T4Options 4): a blank sheet, a foreign letter, and mailing 101 page 5 with both page codes smudged | 3 |
| `reply-fax-standard.pdf` | fax, standard, as PDF with G4 images (`CCITTFaxDecode`, `K -1`, `BlackIs1 false`; the MediaBox is the image at 204×98 dpi, 1728 px = 215 mm wide); mailing 102, pages 2 and 4 | 2 |
| `reply-scan-color.jpg` | colour scan, 200 dpi, JPEG quality 45; mailing 102, page 5 | 1 |

Each page has a truth file `<file stem>.page<N>.json` (N from 1):

- `file`, `page_index` (0-based in the file);
- `identity`: `{"kind": "form", "code": {...}}` for a readable page, `damaged_code` (the code
  printed before the smudge is given, but recognition must not read it), `blank` or `foreign`;
- `layout_page`: the layout page drawn; `upside_down`;
- `degradation`: rotation (degrees, clockwise on the image), scale, shift (mm), blur, threshold,
  salt-and-pepper `noise` (held at 0.6 % or less here to keep the files small), streaks, edge
  loss, dust, whether the sending fax printed its header line;
- `page_to_pixel`: `[a, b, c, d, e, f]` mapping layout points to image pixels
  (`x' = a·x + b·y + c`, `y' = d·x + e·y + f`), the skew and the 180° turn included;
- `output`: size, resolution, 1-bit, colour;
- `habits`: how this respondent marks (pen, stroke width, tick/cross/fill/circle weights);
- `boxes`, in layout order: `key`, `option` or `digit`, `kind`, the drawn `style` (`tick`,
  `cross`, `fill`, `circle` around the label, `pencil`, `cancelled`, `empty`, `stray`, `digit`,
  `scribble`), the `expected` reading (`marked`, `empty`, `cancelled`) and for digit boxes the
  `written` character (`0`–`9` or `-` for わからない; scribbles give the text meant);
- `fields`: every field with boxes on the page and its intended `value` (a
  `capsurvey_survey::Value` as JSON, e.g. `{"t": "choice", "v": "2"}`; `null` = no answer).
"#;

fn pictures(pages: &[SimulatedPage]) -> Vec<capsurvey_faxsim::Picture<'_>> {
    pages.iter().map(|p| p.picture()).collect()
}
